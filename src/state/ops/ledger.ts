import { chunks, num, numOrNull, placeholders, strOrNull, type Row, type SqlParam } from '../db.js';
import type { JobState } from '../job-state.js';
import type { LedgerOptions, LedgerRow, LedgerStatus } from '../types.js';
import type { OpContext } from './context.js';
import { LEDGER_FROM_SQL, LEDGER_STATUS_SQL, VANISHED } from './_ledger-sql.js';

/**
 * The ledger: one row per inventoried study, in study UID order (keyset pages via `after`), saying
 * whether it is excluded (and by which rule), pending, failed (code and cause), migrated but not
 * verified, or verified, with its instance counts.
 */
export async function ledger(ctx: OpContext, opts: LedgerOptions = {}): Promise<LedgerRow[]> {
  const where: string[] = [];
  const params: SqlParam[] = [];
  if (opts.after !== undefined) {
    where.push('s.study_uid > ?');
    params.push(opts.after);
  }
  if (opts.status !== undefined) {
    where.push(`(${LEDGER_STATUS_SQL}) = ?`);
    params.push(opts.status);
  }
  params.push(opts.limit ?? 1000);
  const rows = await ctx.db.all<Row>(
    `SELECT s.study_uid, s.num_instances, s.vanished_at, d.in_scope, d.rule_id, d.rule_description,
            j.id AS job_id, j.state, j.attempts, j.last_error_code, j.last_error,
            ${LEDGER_STATUS_SQL} AS status
     FROM ${LEDGER_FROM_SQL}
     ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
     ORDER BY s.study_uid
     LIMIT ?`,
    params,
  );
  const counts = new Map<string, Row>();
  const quarantined = new Map<string, { n: number; status: number | null; cause: string | null }>();
  for (const part of chunks(rows.map((r) => String(r.study_uid)))) {
    const aggregates = await ctx.db.all<Row>(
      `SELECT study_uid, COUNT(received_at) AS received, COUNT(stored_at) AS stored,
              SUM(CASE WHEN verify_outcome = 'verified' THEN 1 ELSE 0 END) AS verified,
              SUM(CASE WHEN verify_outcome IS NOT NULL AND verify_outcome <> 'verified' THEN 1 ELSE 0 END) AS problems
       FROM instances WHERE study_uid IN (${placeholders(part.length)}) GROUP BY study_uid`,
      part,
    );
    for (const a of aggregates) counts.set(String(a.study_uid), a);
    const q = await ctx.db.all<Row>(
      `SELECT study_uid, COUNT(*) AS n, MIN(status) AS status, MIN(cause) AS cause
       FROM quarantine WHERE study_uid IN (${placeholders(part.length)}) GROUP BY study_uid`,
      part,
    );
    for (const a of q)
      quarantined.set(String(a.study_uid), {
        n: num(a.n),
        status: numOrNull(a.status),
        cause: strOrNull(a.cause),
      });
  }
  return rows.map((r) => {
    const uid = String(r.study_uid);
    const status = String(r.status) as LedgerStatus;
    const jobState = strOrNull(r.state) as JobState | null;
    const vanished = r.vanished_at !== null && r.vanished_at !== undefined;
    const jobFailed = jobState === 'failed' || jobState === 'dead';
    const c = counts.get(uid);
    const q = quarantined.get(uid);
    // A verified job whose study is failed: the target refused some instances (they are in quarantine).
    const refused = status === 'failed' && jobState === 'verified' && q !== undefined;
    return {
      studyUid: uid,
      status,
      ruleId: strOrNull(r.rule_id),
      ruleDescription: strOrNull(r.rule_description),
      jobId: numOrNull(r.job_id),
      jobState,
      attempts: num(r.attempts),
      errorCode:
        status !== 'failed'
          ? null
          : refused
            ? q.status === null
              ? 'QUARANTINED'
              : `0x${q.status.toString(16).toUpperCase().padStart(4, '0')}`
            : jobFailed
              ? strOrNull(r.last_error_code)
              : VANISHED,
      error:
        status !== 'failed'
          ? null
          : refused
            ? `${q.n} instance(s) refused by the target (quarantined): ${q.cause ?? 'no cause recorded'}`
            : jobFailed
              ? strOrNull(r.last_error)
              : 'the study vanished from the source before it was migrated',
      vanished,
      instancesReported: numOrNull(r.num_instances),
      instancesReceived: num(c?.received),
      instancesStored: num(c?.stored),
      instancesVerified: num(c?.verified),
      instancesWithProblems: num(c?.problems),
      instancesQuarantined: q?.n ?? 0,
    };
  });
}
