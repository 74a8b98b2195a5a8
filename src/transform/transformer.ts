/**
 * The transform of a plan: correction tables (in plan order) then rules (in plan order), turned into
 * the element changes planned for one instance. Pure and deterministic once loaded.
 *
 * - Each correction table looks its row up with the values as changed so far (a later table sees an
 *   earlier table's result); inside one table there is one lookup (no A→B→C chains: `analyze`
 *   reports them as CORR_CHAIN).
 * - Rule `when` is matched against the study as the inventory knows it (never against changed values);
 *   without a study, only rules without `when` apply.
 * - A later change to the same element wins; the earlier is dropped; the winner keeps its source.
 * - `replace` sees the value as changed so far.
 * - A change whose final value equals the instance's own value (trailing padding aside; absent = empty)
 *   is omitted.
 */
import type { TransformPlan } from '../plan/index.js';
import type { ScopeStudy } from '../scope/match.js';
import { err, ok, type Result } from '../util/result.js';
import { loadCorrectionTable, type CorrectionRow, type LoadedCorrectionTable } from './corrections.js';
import { valueForm, type ElementRef } from './elements.js';
import type { TransformLoadError } from './errors.js';
import { compileRule, replaceValue, type CompiledRule } from './rules.js';

export interface ChangeSource {
  kind: 'correction' | 'rule';
  id: string;
  /** 1-based data row of the CSV (header = row 0) */
  row?: number;
}

export interface PlannedChange {
  tag: number;
  keyword: string;
  /** The new value ('' makes the element empty); null is reserved for removal and not produced today. */
  value: string | null;
  by: ChangeSource;
}

export type HeaderValues = Readonly<Record<string, string | null>>;

export interface Transformer {
  /** false when the plan has no corrections and no rules (the engine then skips the whole step) */
  readonly active: boolean;
  /** header keywords the transformer must be given for each instance (match columns, replaced elements, set elements for before-values) */
  readonly readKeywords: readonly string[];
  /** Planned changes for one instance (see the module comment for the order and override rules). */
  plan(header: HeaderValues, study: ScopeStudy | undefined): PlannedChange[];
  /** per table/rule: rows loaded, for the report */
  readonly summary: readonly { kind: 'correction' | 'rule'; id: string; rows?: number }[];
  /** Load-time warnings (duplicate rows setting identical values: the first is kept). */
  readonly warnings: readonly TransformLoadError[];
}

export interface Trace {
  readonly changes: PlannedChange[];
  /** Per correction table (plan order): the row that applied, if any. */
  readonly rows: readonly (CorrectionRow | undefined)[];
  /** Per correction table: whether its row gave some element another value than it had at that point. */
  readonly effective: readonly boolean[];
  /** Every read keyword's value after all changes (null: absent). */
  readonly final: (keyword: string) => string | null;
}

export class PlanTransformer implements Transformer {
  readonly active: boolean;
  readonly readKeywords: readonly string[];
  readonly summary: readonly { kind: 'correction' | 'rule'; id: string; rows?: number }[];

  constructor(
    readonly tables: readonly LoadedCorrectionTable[],
    readonly rules: readonly CompiledRule[],
    readonly warnings: readonly TransformLoadError[] = [],
  ) {
    this.active = tables.length > 0 || rules.length > 0;
    const kws = new Set<string>();
    for (const t of tables) for (const c of [...t.match, ...t.set]) kws.add(c.keyword);
    for (const r of rules) for (const c of [...r.set, ...r.replace]) kws.add(c.el.keyword);
    this.readKeywords = [...kws];
    this.summary = [
      ...tables.map((t) => ({ kind: 'correction' as const, id: t.id, rows: t.rows.length })),
      ...rules.map((r) => ({ kind: 'rule' as const, id: r.id })),
    ];
  }

  plan(header: HeaderValues, study: ScopeStudy | undefined): PlannedChange[] {
    return this.trace(header, study).changes;
  }

  trace(header: HeaderValues, study: ScopeStudy | undefined): Trace {
    const original = (kw: string): string | null => header[kw] ?? null;
    const current = new Map<string, string | null>();
    const get = (kw: string): string | null => (current.has(kw) ? current.get(kw)! : original(kw));
    const winners = new Map<string, PlannedChange>();
    const apply = (el: ElementRef, value: string, by: ChangeSource) => {
      current.set(el.keyword, value);
      winners.delete(el.keyword);
      winners.set(el.keyword, { tag: el.tag, keyword: el.keyword, value, by });
    };
    const effective: boolean[] = [];
    const rows = this.tables.map((t) => {
      const row = t.lookup(get);
      let changed = false;
      if (row)
        for (const s of t.set) {
          const v = row.set.get(s.keyword);
          if (v === undefined) continue;
          if (valueForm(v) !== valueForm(get(s.keyword))) changed = true;
          apply(s, v, { kind: 'correction', id: t.id, row: row.row });
        }
      effective.push(changed);
      return row;
    });
    for (const r of this.rules) {
      if (!r.applies(study)) continue;
      const by: ChangeSource = { kind: 'rule', id: r.id };
      for (const s of r.set) apply(s.el, s.value, by);
      for (const x of r.replace) {
        const cur = get(x.el.keyword);
        if (cur === null) continue;
        const next = replaceValue(cur, x.pattern, x.with);
        if (next !== undefined) apply(x.el, next, by);
      }
    }
    const changes = [...winners.values()].filter(
      (c) => valueForm(c.value) !== valueForm(original(c.keyword)),
    );
    return { changes, rows, effective, final: get };
  }
}

/** Loads every correction table and compiles every rule; all problems at once, or the transformer. */
export async function loadTransformer(
  transform: TransformPlan,
): Promise<Result<PlanTransformer, TransformLoadError[]>> {
  const errors: TransformLoadError[] = [];
  const warnings: TransformLoadError[] = [];
  const tables: LoadedCorrectionTable[] = [];
  const loads = await Promise.all(transform.corrections.map((c, i) => loadCorrectionTable(c, i)));
  for (const l of loads) {
    errors.push(...l.errors);
    warnings.push(...l.warnings);
    if (l.table) tables.push(l.table);
  }
  const rules: CompiledRule[] = [];
  transform.rules.forEach((r, i) => {
    const c = compileRule(r, i);
    errors.push(...c.errors);
    if (c.rule) rules.push(c.rule);
  });
  if (errors.length > 0) return err(errors);
  return ok(new PlanTransformer(tables, rules, warnings));
}
