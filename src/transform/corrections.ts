/**
 * Correction tables (plan `transform.corrections`): a CSV from the hospital's master patient index,
 * old key → new values. Loaded and checked whole before anything is applied.
 *
 * - A row applies to an instance when every match keyword's value equals its column (both trimmed; PN
 *   compared after normalising case, spaces and trailing `^`). An empty match cell matches an empty or
 *   absent value; a row whose match cells are all empty is refused (it would match everything).
 * - An empty set cell leaves the element as it is (it never empties it: use a rule with `null` for
 *   that). Set values are trimmed and checked against the element's VR when the table is loaded.
 * - Two rows with the same key: an error naming both rows, unless they set identical values (then a
 *   warning, and the first row is kept).
 */
import { readFile } from 'node:fs/promises';
import type { CorrectionTable as CorrectionPlan } from '../plan/index.js';
import { decodeCsv, parseCsv } from './csv.js';
import { element, matchForm, valueProblem, type ElementRef } from './elements.js';
import type { TransformLoadError } from './errors.js';

export interface ColumnRef extends ElementRef {
  readonly column: string;
  readonly index: number;
}

export interface CorrectionRow {
  /** 1-based data row (header = row 0). */
  readonly row: number;
  /** Match values in the table's match order, in match form (matchForm). */
  readonly key: readonly string[];
  /** Keyword → new value (trimmed, non-empty cells only), in the table's set order. */
  readonly set: ReadonlyMap<string, string>;
}

export interface LoadedCorrectionTable {
  readonly id: string;
  /** Plan path of the table, e.g. `transform.corrections[0]`. */
  readonly path: string;
  readonly file: string;
  readonly match: readonly ColumnRef[];
  readonly set: readonly ColumnRef[];
  /** The rows that apply (one per key), in file order. */
  readonly rows: readonly CorrectionRow[];
  /** Data rows read (blank ones not counted). */
  readonly rowsRead: number;
  /** The row whose key the values give, if any. */
  lookup(value: (keyword: string) => string | null | undefined): CorrectionRow | undefined;
  /** The key of the given values (as CorrectionRow.key joined), for grouping. */
  keyOf(value: (keyword: string) => string | null | undefined): string;
}

const keyText = (key: readonly string[]): string => JSON.stringify(key);

export interface TableLoad {
  readonly table?: LoadedCorrectionTable;
  readonly errors: TransformLoadError[];
  readonly warnings: TransformLoadError[];
}

export async function loadCorrectionTable(plan: CorrectionPlan, index: number): Promise<TableLoad> {
  const path = `transform.corrections[${index}]`;
  const csvPath = `${path}.csv`;
  const errors: TransformLoadError[] = [];
  const warnings: TransformLoadError[] = [];
  const fail = (e: Omit<TransformLoadError, 'id'>): TableLoad => ({
    errors: [...errors, { id: plan.id, ...e }],
    warnings,
  });

  // Keywords first: they do not need the file.
  const refs = (field: 'match' | 'set') =>
    Object.entries(plan[field]).flatMap(([keyword, column]) => {
      const e = element(keyword, field === 'match');
      if (e.ok) return [{ ...e.element, column }];
      errors.push({
        kind: 'keyword',
        id: plan.id,
        path: `${path}.${field}.${keyword}`,
        message: `${path}.${field}.${keyword}: ${e.message}`,
      });
      return [];
    });
  const matchEls = refs('match');
  const setEls = refs('set');

  let bytes: Buffer;
  try {
    bytes = await readFile(plan.csv);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? 'error';
    return fail({
      kind: 'csv-unreadable',
      path: csvPath,
      message: `${csvPath}: ${plan.csv} cannot be read (${code})`,
    });
  }
  const text = decodeCsv(bytes, plan.encoding);
  if (!text.ok)
    return fail({
      kind: 'csv-unreadable',
      path: csvPath,
      message: `${csvPath}: ${plan.csv} ${text.message}`,
    });
  const parsed = parseCsv(text.text, plan.delimiter);
  if (!parsed.ok)
    return fail({
      kind: 'csv-unreadable',
      path: csvPath,
      ...(parsed.problem.row !== undefined ? { row: parsed.problem.row } : {}),
      message: `${csvPath}: ${plan.csv} ${parsed.problem.message}`,
    });
  for (const p of parsed.problems)
    errors.push({
      kind: 'csv-row',
      id: plan.id,
      path: csvPath,
      ...(p.row !== undefined ? { row: p.row } : {}),
      message: `${csvPath}: ${p.message}`,
    });
  const { header, rows } = parsed.table;

  // Columns.
  const columnIndex = (
    field: 'match' | 'set',
    el: ElementRef & { column: string },
  ): ColumnRef | undefined => {
    const at = header.flatMap((h, i) => (h === el.column.trim() ? [i] : []));
    if (at.length === 1) return { ...el, index: at[0]! };
    errors.push({
      kind: 'csv-column',
      id: plan.id,
      path: `${path}.${field}.${el.keyword}`,
      column: el.column,
      message:
        at.length === 0
          ? `${path}.${field}.${el.keyword}: the CSV has no column "${el.column}" (its columns: ${header.map((h) => `"${h}"`).join(', ')})`
          : `${path}.${field}.${el.keyword}: the CSV has ${at.length} columns named "${el.column}": rename one`,
    });
    return undefined;
  };
  const match = matchEls.map((e) => columnIndex('match', e)).filter((c): c is ColumnRef => c !== undefined);
  const set = setEls.map((e) => columnIndex('set', e)).filter((c): c is ColumnRef => c !== undefined);
  if (
    match.length !== matchEls.length ||
    set.length !== setEls.length ||
    matchEls.length + setEls.length === 0
  )
    return { errors, warnings };
  if (errors.some((e) => e.kind === 'keyword')) return { errors, warnings };

  // Rows.
  const loaded: CorrectionRow[] = [];
  for (const r of rows) {
    const key = match.map((m) => matchForm(m.vr, r.cells[m.index]));
    if (key.every((k) => k === '')) {
      errors.push({
        kind: 'csv-row',
        id: plan.id,
        path: csvPath,
        row: r.row,
        message: `${csvPath}: row ${r.row} has no key (every match column is empty: ${match.map((m) => `"${m.column}"`).join(', ')})`,
      });
      continue;
    }
    const values = new Map<string, string>();
    let bad = false;
    for (const s of set) {
      const v = (r.cells[s.index] ?? '').trim();
      if (v === '') continue;
      const problem = valueProblem(s, v);
      if (problem) {
        bad = true;
        errors.push({
          kind: 'csv-row',
          id: plan.id,
          path: csvPath,
          row: r.row,
          column: s.column,
          message: `${csvPath}: row ${r.row}, column "${s.column}" (${s.keyword}, ${s.vr}): the value ${problem}`,
        });
      } else values.set(s.keyword, v);
    }
    if (!bad) loaded.push({ row: r.row, key, set: values });
  }

  // Duplicate keys.
  const byKey = new Map<string, CorrectionRow>();
  const kept: CorrectionRow[] = [];
  const sameSet = (a: CorrectionRow, b: CorrectionRow) =>
    a.set.size === b.set.size && [...a.set].every(([k, v]) => b.set.get(k) === v);
  for (const r of loaded) {
    const k = keyText(r.key);
    const first = byKey.get(k);
    if (!first) {
      byKey.set(k, r);
      kept.push(r);
      continue;
    }
    const same = sameSet(first, r);
    (same ? warnings : errors).push({
      kind: 'csv-duplicate-key',
      id: plan.id,
      path: csvPath,
      row: r.row,
      rows: [first.row, r.row],
      message: same
        ? `${csvPath}: rows ${first.row} and ${r.row} have the same key and set the same values: row ${r.row} is ignored`
        : `${csvPath}: rows ${first.row} and ${r.row} have the same key (${match.map((m) => `"${m.column}"`).join(', ')}) but set different values: keep one`,
    });
  }
  if (errors.length > 0) return { errors, warnings };

  const keyOf = (value: (keyword: string) => string | null | undefined): string =>
    keyText(match.map((m) => matchForm(m.vr, value(m.keyword))));
  const table: LoadedCorrectionTable = {
    id: plan.id,
    path,
    file: plan.csv,
    match,
    set,
    rows: kept,
    rowsRead: rows.length + parsed.problems.length,
    keyOf,
    lookup: (value) => byKey.get(keyOf(value)),
  };
  return { table, errors, warnings };
}
