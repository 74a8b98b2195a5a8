import { chunks, fromJson, num, placeholders, strOrNull, toJson, type Row, type SqlParam } from '../db.js';
import type {
  AnalysisFinding,
  AnalysisFindingInput,
  AnalysisRun,
  AnalysisRunInput,
  AnalysisSeverity,
} from '../analysis-types.js';
import type { Json } from '../types.js';
import type { OpContext } from './context.js';

/** Records a finished analysis run with its findings and the studies each touches (one transaction). */
export async function saveAnalysisRun(
  ctx: OpContext,
  run: AnalysisRunInput,
  findings: readonly AnalysisFindingInput[],
): Promise<number> {
  const now = ctx.clock.now();
  return ctx.db.transaction(async (tx) => {
    const r = await tx.get<{ id: unknown }>(
      'INSERT INTO analysis_runs (started_at, finished_at, params, summary) VALUES (?, ?, ?, ?) RETURNING id',
      [run.startedAt, now, toJson(run.params ?? null), toJson(run.summary ?? null)],
    );
    const runId = num(r!.id);
    for (const part of chunks(findings, 200)) {
      const params: SqlParam[] = [];
      for (const f of part)
        params.push(
          runId,
          f.code,
          f.severity,
          f.subject,
          f.seriesUid ?? null,
          f.sopInstanceUid ?? null,
          toJson(f.detail ?? null),
        );
      const ids = await tx.all<{ id: unknown }>(
        `INSERT INTO analysis_findings (run_id, code, severity, subject, series_uid, sop_instance_uid, detail)
         VALUES ${part.map(() => `(${placeholders(7)})`).join(', ')} RETURNING id`,
        params,
      );
      // RETURNING gives the rows in VALUES order in both SQLite and PostgreSQL for a plain INSERT.
      const pairs: [number, string][] = [];
      part.forEach((f, i) => {
        for (const s of new Set(f.studyUids)) pairs.push([num(ids[i]!.id), s]);
      });
      for (const p of chunks(pairs, 300))
        await tx.run(
          `INSERT INTO analysis_finding_studies (finding_id, study_uid) VALUES ${p.map(() => '(?, ?)').join(', ')}`,
          p.flat(),
        );
    }
    return runId;
  });
}

function runFromRow(r: Row): AnalysisRun {
  return {
    id: num(r.id),
    startedAt: num(r.started_at),
    finishedAt: num(r.finished_at),
    params: fromJson<Json>(r.params),
    summary: fromJson<Json>(r.summary),
  };
}

/** A run by id, or the latest run when no id is given. */
export async function getAnalysisRun(ctx: OpContext, runId?: number): Promise<AnalysisRun | undefined> {
  const r =
    runId === undefined
      ? await ctx.db.get<Row>('SELECT * FROM analysis_runs ORDER BY id DESC LIMIT 1')
      : await ctx.db.get<Row>('SELECT * FROM analysis_runs WHERE id = ?', [runId]);
  return r ? runFromRow(r) : undefined;
}

/** The findings of a run (only those touching `studyUid`, when given), in the order they were saved. */
export async function listAnalysisFindings(
  ctx: OpContext,
  runId: number,
  opts: { readonly studyUid?: string } = {},
): Promise<AnalysisFinding[]> {
  const rows =
    opts.studyUid === undefined
      ? await ctx.db.all<Row>('SELECT * FROM analysis_findings WHERE run_id = ? ORDER BY id', [runId])
      : await ctx.db.all<Row>(
          `SELECT f.* FROM analysis_findings f JOIN analysis_finding_studies s ON s.finding_id = f.id
           WHERE f.run_id = ? AND s.study_uid = ? ORDER BY f.id`,
          [runId, opts.studyUid],
        );
  const studies = new Map<number, string[]>();
  for (const part of chunks(
    rows.map((r) => num(r.id)),
    400,
  )) {
    const links = await ctx.db.all<Row>(
      `SELECT finding_id, study_uid FROM analysis_finding_studies WHERE finding_id IN (${placeholders(part.length)})
       ORDER BY finding_id, study_uid`,
      part,
    );
    for (const l of links) {
      const id = num(l.finding_id);
      studies.set(id, [...(studies.get(id) ?? []), String(l.study_uid)]);
    }
  }
  return rows.map((r) => ({
    id: num(r.id),
    runId: num(r.run_id),
    code: String(r.code),
    severity: String(r.severity) as AnalysisSeverity,
    subject: String(r.subject),
    studyUids: studies.get(num(r.id)) ?? [],
    seriesUid: strOrNull(r.series_uid),
    sopInstanceUid: strOrNull(r.sop_instance_uid),
    detail: fromJson<Json>(r.detail),
  }));
}
