/**
 * The plan's correction tables checked against the source (`pacshift analyze`, issue 4).
 *
 * Each instance is judged by its own header when one was read (the analysis sample, or a header the
 * migration recorded), else by its study's inventoried values (the study's instances without a header
 * read count as one unit carrying the inventory's values). Every unit goes through the transformer as
 * the migration would (`PlanTransformer.trace`), which gives, per table, the row that applied and the
 * values after every change. From that:
 *
 * | code                 | when                                                                                          |
 * | -------------------- | --------------------------------------------------------------------------------------------- |
 * | CORR_LOAD_ERROR      | a table or rule cannot be loaded (its typed error: path, row, column; nothing is checked then) |
 * | CORR_ROW_DUPLICATE   | two rows with one key set identical values (the first is kept)                                |
 * | CORR_ROW_UNUSED      | rows whose key matches nothing in the source (one finding per table, listing the rows)         |
 * | CORR_TARGET_COLLIDES | a row's new PatientID is held in the source by instances that keep it, under another name or birth date (after all changes) |
 * | CORR_CHAIN           | a row's result key (its key with its own new values) is another row's key: A→B and B→C         |
 * | CORR_NOOP            | a row that matches but gives no element another value, for any unit it matches                |
 * | CORR_PARTIAL         | a row matching some of a study's instances but not all of them                                 |
 *
 * Findings carry table ids, row numbers and Study Instance UIDs; values only with logPhi. The summary
 * counts, per table and rule, the studies and instances whose final changes it made (the winner's
 * source, as plan() reports it).
 */
import type { Json, Study } from '../../state/index.js';
import type { AnalysisHeader } from '../../state/analysis-types.js';
import type { Instance } from '../../state/types.js';
import { attributeValues } from '../../scope/match.js';
import type {
  CorrectionRow,
  LoadedCorrectionTable,
  PlanTransformer,
  TransformLoadError,
} from '../../transform/index.js';
import { matchForm } from '../../transform/index.js';
import { normaliseDate, normaliseName } from '../normalise.js';
import { finding, type CheckContext, type Finding } from './context.js';

export interface CorrectionSummaryRow {
  readonly kind: 'correction' | 'rule';
  readonly id: string;
  /** Rows loaded (tables). */
  readonly rows?: number;
  /** Rows that match at least one unit (tables). */
  readonly rowsUsed?: number;
  /** Studies / instances this table or rule makes a change to (as the change's recorded source). */
  readonly studies: number;
  readonly instances: number;
}

export interface CorrectionsSummary {
  /** False when the transform could not be loaded (see CORR_LOAD_ERROR). */
  readonly loaded: boolean;
  readonly tables: readonly CorrectionSummaryRow[];
  /** Studies and instances with at least one change planned. */
  readonly studies: number;
  readonly instances: number;
  /** Instances judged by their own header, and by their study's inventoried values. */
  readonly judgedByHeader: number;
  readonly judgedByInventory: number;
}

type Header = { readonly [keyword: string]: Json };

/** One header's value for a keyword: undefined when not recorded or undecodable (then the inventory's counts). */
function headerValue(h: Header, k: string): string | null | undefined {
  const und = h._undecodable;
  if (Array.isArray(und) && und.includes(k)) return undefined;
  if (!(k in h)) return undefined;
  const v = h[k];
  if (v === null) return null;
  if (typeof v === 'string') return v;
  if (typeof v === 'number') return String(v);
  if (Array.isArray(v)) return v.map(String).join('\\');
  return undefined;
}

const inventoryValue = (s: Study | undefined, k: string): string | null => {
  if (!s) return null;
  const v = attributeValues(s, k);
  return v.length > 0 ? v.join('\\') : null;
};

interface StudyUnits {
  row?: Study;
  /** Inventoried instance rows (not vanished). */
  instanceRows: number;
  /**
   * SOP Instance UID → the header's values of the keywords checked (undefined: not recorded or
   * undecodable); the analysis' latest copy wins over a header the migration recorded.
   */
  readonly headers: Map<string, { values: (string | null | undefined)[]; fromCopy: boolean }>;
}

interface Unit {
  readonly studyUid: string;
  /** The inventoried study (rule `when` reads it). */
  readonly study: Study | undefined;
  readonly weight: number;
  readonly values: Record<string, string | null>;
}

/** Gathers the units while the analysis pages through the state database. */
export class CorrectionsEvidence {
  private readonly studies = new Map<string, StudyUnits>();
  /** The keywords read of each header (only their values are kept, not whole headers). */
  private readonly keywords: readonly string[];

  constructor(
    readonly transformer: PlanTransformer | undefined,
    readonly loadErrors: readonly TransformLoadError[] = [],
  ) {
    this.keywords = transformer ? keywordsOf(transformer) : [];
  }

  private valuesOf(h: Header): (string | null | undefined)[] {
    return this.keywords.map((k) => headerValue(h, k));
  }

  private study(uid: string): StudyUnits {
    let s = this.studies.get(uid);
    if (!s) this.studies.set(uid, (s = { instanceRows: 0, headers: new Map() }));
    return s;
  }

  addStudy(row: Study): void {
    if (row.vanishedAt === null) this.study(row.studyUid).row = row;
  }

  addInstance(row: Instance): void {
    if (row.vanishedAt !== null) return;
    if (row.firstSeenAt !== null) this.study(row.studyUid).instanceRows++;
    if (row.receivedAt !== null && row.header) {
      const s = this.study(row.studyUid);
      if (!s.headers.get(row.sopInstanceUid)?.fromCopy)
        s.headers.set(row.sopInstanceUid, { values: this.valuesOf(row.header as Header), fromCopy: false });
    }
  }

  addCopy(h: AnalysisHeader): void {
    if (!h.studyUid || h.contentDigest.startsWith('unreadable:')) return;
    this.study(h.studyUid).headers.set(h.sopInstanceUid, {
      values: this.valuesOf(h.header as Header),
      fromCopy: true,
    });
  }

  private *units(): Generator<Unit & { byHeader: boolean }> {
    const keywords = this.keywords;
    for (const [studyUid, s] of this.studies) {
      if (!s.row && s.headers.size === 0) continue;
      for (const h of s.headers.values()) {
        const values: Record<string, string | null> = {};
        keywords.forEach((k, i) => {
          const v = h.values[i];
          values[k] = v === undefined ? inventoryValue(s.row, k) : v;
        });
        yield { studyUid, study: s.row, weight: 1, values, byHeader: true };
      }
      const rest = s.row ? Math.max(0, s.instanceRows - s.headers.size) : 0;
      if (rest > 0 || (s.row && s.headers.size === 0)) {
        const values: Record<string, string | null> = {};
        for (const k of keywords) values[k] = inventoryValue(s.row, k);
        yield { studyUid, study: s.row, weight: rest, values, byHeader: false };
      }
    }
  }

  check(c: CheckContext): { findings: Finding[]; summary: CorrectionsSummary | undefined } {
    if (this.loadErrors.length > 0) return { findings: this.loadErrorFindings(), summary: failedSummary() };
    const t = this.transformer;
    if (!t || t.tables.length === 0) return { findings: [], summary: undefined };
    return new Judgement(t, c).run(this.units());
  }

  private loadErrorFindings(): Finding[] {
    return this.loadErrors.map((e) =>
      finding('CORR_LOAD_ERROR', `${e.id}: ${e.path}${e.row !== undefined ? ` row ${e.row}` : ''}`, [], {
        table: e.id,
        kind: e.kind,
        path: e.path,
        ...(e.row !== undefined ? { row: e.row } : {}),
        ...(e.rows ? { rows: [...e.rows] } : {}),
        ...(e.column !== undefined ? { column: e.column } : {}),
        message: e.message,
      }),
    );
  }
}

const failedSummary = (): CorrectionsSummary => ({
  loaded: false,
  tables: [],
  studies: 0,
  instances: 0,
  judgedByHeader: 0,
  judgedByInventory: 0,
});

/** What the checks read of each unit: the transformer's keywords and the identity compared for collisions. */
function keywordsOf(t: PlanTransformer): string[] {
  return [...new Set([...t.readKeywords, 'PatientID', 'PatientName', 'PatientBirthDate'])];
}

interface RowUse {
  readonly studies: Set<string>;
  /** Units matched, by study (weights). */
  readonly byStudy: Map<string, number>;
  effective: boolean;
  /** Corrected identities of the units it matched (normalised name, birth date), with their studies. */
  readonly identities: Map<string, Set<string>>;
}

const identityKey = (name: string | null, birth: string | null): string =>
  JSON.stringify([normaliseName(name), normaliseDate(birth)]);

class Judgement {
  private readonly uses: Map<CorrectionRow, RowUse>[];
  /**
   * Units that keep their PatientID (no change planned to it), by PatientID, grouped by identity (after
   * every change) and the rows that matched them.
   */
  private readonly kept = new Map<
    string,
    Map<string, { id: string; rows: CorrectionRow[]; studies: Set<string> }>
  >();
  /** Study → total unit weight. */
  private readonly studyWeight = new Map<string, number>();
  private readonly bySource = new Map<string, { studies: Set<string>; instances: number }>();
  private readonly changedStudies = new Set<string>();
  private changedInstances = 0;
  private judgedByHeader = 0;
  private judgedByInventory = 0;

  constructor(
    private readonly t: PlanTransformer,
    private readonly c: CheckContext,
  ) {
    this.uses = t.tables.map(() => new Map());
  }

  run(units: Iterable<Unit & { byHeader: boolean }>): { findings: Finding[]; summary: CorrectionsSummary } {
    for (const u of units) this.judge(u);
    const findings = this.t.tables.flatMap((table, i) => this.tableFindings(table, this.uses[i]!));
    for (const w of this.t.warnings)
      findings.push(
        finding('CORR_ROW_DUPLICATE', `${w.id}: rows ${(w.rows ?? []).join(', ')}`, [], {
          table: w.id,
          rows: [...(w.rows ?? [])],
          message: w.message,
        }),
      );
    const tables: CorrectionSummaryRow[] = this.t.summary.map((s, i) => {
      const by = this.bySource.get(`${s.kind}:${s.id}`);
      return {
        kind: s.kind,
        id: s.id,
        ...(s.kind === 'correction' ? { rows: s.rows ?? 0, rowsUsed: this.uses[i]!.size } : {}),
        studies: by?.studies.size ?? 0,
        instances: by?.instances ?? 0,
      };
    });
    return {
      findings,
      summary: {
        loaded: true,
        tables,
        studies: this.changedStudies.size,
        instances: this.changedInstances,
        judgedByHeader: this.judgedByHeader,
        judgedByInventory: this.judgedByInventory,
      },
    };
  }

  private judge(u: Unit & { byHeader: boolean }): void {
    if (u.byHeader) this.judgedByHeader += u.weight;
    else this.judgedByInventory += u.weight;
    this.studyWeight.set(u.studyUid, (this.studyWeight.get(u.studyUid) ?? 0) + u.weight);
    const tr = this.t.trace(u.values, u.study);
    const final = (k: string) => tr.final(k);
    const id = identityKey(final('PatientName'), final('PatientBirthDate'));
    tr.rows.forEach((row, i) => {
      if (!row) return;
      const uses = this.uses[i]!;
      let use = uses.get(row);
      if (!use)
        uses.set(
          row,
          (use = { studies: new Set(), byStudy: new Map(), effective: false, identities: new Map() }),
        );
      use.studies.add(u.studyUid);
      use.byStudy.set(u.studyUid, (use.byStudy.get(u.studyUid) ?? 0) + u.weight);
      if (tr.effective[i]) use.effective = true;
      use.identities.set(id, (use.identities.get(id) ?? new Set()).add(u.studyUid));
    });
    const pid = (final('PatientID') ?? '').trim();
    if (!tr.changes.some((x) => x.keyword === 'PatientID') && pid !== '') {
      const rows = tr.rows.filter((x): x is CorrectionRow => x !== undefined);
      const k = JSON.stringify([id, rows.map((x) => x.row), tr.rows.map((x) => x !== undefined)]);
      const m = this.kept.get(pid) ?? new Map();
      const e = m.get(k) ?? { id, rows, studies: new Set<string>() };
      e.studies.add(u.studyUid);
      m.set(k, e);
      this.kept.set(pid, m);
    }
    if (tr.changes.length > 0 && u.weight > 0) {
      this.changedStudies.add(u.studyUid);
      this.changedInstances += u.weight;
      for (const s of new Set(tr.changes.map((x) => `${x.by.kind}:${x.by.id}`))) {
        const b = this.bySource.get(s) ?? { studies: new Set<string>(), instances: 0 };
        b.studies.add(u.studyUid);
        b.instances += u.weight;
        this.bySource.set(s, b);
      }
    }
  }

  private tableFindings(table: LoadedCorrectionTable, uses: Map<CorrectionRow, RowUse>): Finding[] {
    const out: Finding[] = [];
    const phi = this.c.logPhi;
    const unused = table.rows.filter((r) => !uses.has(r)).map((r) => r.row);
    if (unused.length > 0)
      out.push(
        finding(
          'CORR_ROW_UNUSED',
          `${table.id}: ${unused.length} ${unused.length === 1 ? 'row' : 'rows'}`,
          [],
          {
            table: table.id,
            rows: unused,
          },
        ),
      );

    // Chains: a row's result key is another row's key.
    const byKey = new Map(table.rows.map((r) => [JSON.stringify(r.key), r]));
    for (const r of table.rows) {
      const result = table.match.map((m, i) => {
        const v = r.set.get(m.keyword);
        return v === undefined ? r.key[i]! : matchForm(m.vr, v);
      });
      const next = byKey.get(JSON.stringify(result));
      if (!next || next === r) continue;
      const studies = [...(uses.get(r)?.studies ?? []), ...(uses.get(next)?.studies ?? [])];
      out.push(
        finding('CORR_CHAIN', `${table.id}: row ${r.row} → row ${next.row}`, studies, {
          table: table.id,
          rows: [r.row, next.row],
        }),
      );
    }

    const newIdCol = table.set.find((s) => s.keyword === 'PatientID');
    for (const r of table.rows) {
      const use = uses.get(r);
      if (!use) continue;
      // Collisions: the new PatientID is kept by instances this row does not match, and the identities
      // (after every change) of those and of this row's instances are not all one.
      const newId = newIdCol ? r.set.get('PatientID')?.trim() : undefined;
      const others = [...((newId && this.kept.get(newId)?.values()) || [])].filter(
        (e) => !e.rows.includes(r),
      );
      if (others.length > 0) {
        const identities = new Set([...others.map((e) => e.id), ...use.identities.keys()]);
        if (identities.size > 1) {
          const theirs = new Set(others.flatMap((e) => [...e.studies]));
          out.push(
            finding('CORR_TARGET_COLLIDES', `${table.id}: row ${r.row}`, [...use.studies, ...theirs], {
              table: table.id,
              rows: [r.row],
              studies: [...use.studies].sort(),
              existingStudies: [...theirs].sort(),
              ...(phi ? { patientId: newId!, identities: [...identities] } : {}),
            }),
          );
        }
      }
      if (!use.effective)
        out.push(
          finding('CORR_NOOP', `${table.id}: row ${r.row}`, use.studies, { table: table.id, rows: [r.row] }),
        );
      for (const [study, matched] of use.byStudy) {
        const total = this.studyWeight.get(study) ?? 0;
        if (matched < total)
          out.push(
            finding('CORR_PARTIAL', `${table.id}: row ${r.row} in ${study}`, [study], {
              table: table.id,
              rows: [r.row],
              instancesMatched: matched,
              instancesInStudy: total,
            }),
          );
      }
    }
    return out;
  }
}
