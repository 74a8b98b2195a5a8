import { chunks, placeholders, type SqlParam } from '../db.js';
import type { EnqueueInput, EnqueueOptions, EnqueueResult } from '../types.js';
import type { OpContext } from './context.js';

/**
 * Creates one job per study (and kind), idempotently: a study that already has a job keeps it,
 * whatever its state. A study whose scope decision excludes it gets its job in `excluded`, never
 * `pending`. The study date is copied from the inventory for the claim order. A study not in the
 * inventory gets no job (reported as unknown). One transaction.
 */
export async function enqueueJobs(
  ctx: OpContext,
  items: readonly (string | EnqueueInput)[],
  opts: EnqueueOptions = {},
): Promise<EnqueueResult> {
  const kind = opts.kind ?? 'migrate';
  const byStudy = new Map<string, EnqueueInput>();
  for (const it of items) {
    const e = typeof it === 'string' ? { studyUid: it } : it;
    byStudy.set(e.studyUid, e);
  }
  const all = [...byStudy.values()];
  const now = ctx.clock.now();
  return ctx.db.transaction(async (tx) => {
    const created: string[] = [];
    const unknown: string[] = [];
    for (const batch of chunks(all, 200)) {
      const uids = batch.map((e) => e.studyUid);
      const known = new Set(
        (
          await tx.all<{ study_uid: string }>(
            `SELECT study_uid FROM studies WHERE study_uid IN (${placeholders(uids.length)})`,
            uids,
          )
        ).map((r) => String(r.study_uid)),
      );
      unknown.push(...uids.filter((u) => !known.has(u)));
      const part = batch.filter((e) => known.has(e.studyUid));
      if (part.length === 0) continue;
      const params: SqlParam[] = [];
      for (const e of part) {
        const maxAttempts = e.maxAttempts ?? opts.maxAttempts ?? ctx.defaultMaxAttempts;
        if (!(Number.isInteger(maxAttempts) && maxAttempts >= 1))
          throw new RangeError(`maxAttempts must be an integer >= 1`);
        params.push(
          kind,
          e.studyUid,
          e.studyUid,
          Math.trunc(e.priority ?? opts.priority ?? 0),
          maxAttempts,
          e.studyUid,
          now,
          now,
          now,
        );
      }
      const row = `(?, ?,
          COALESCE((SELECT CASE WHEN in_scope THEN 'pending' ELSE 'excluded' END FROM scope_decisions WHERE study_uid = ?), 'pending'),
          ?, ?, (SELECT study_date FROM studies WHERE study_uid = ?), ?, ?, ?)`;
      const rows = await tx.all<{ study_uid: string }>(
        `INSERT INTO jobs (kind, study_uid, state, priority, max_attempts, study_date, next_run_at, created_at, updated_at)
         VALUES ${part.map(() => row).join(', ')}
         ON CONFLICT (kind, study_uid) DO NOTHING
         RETURNING study_uid`,
        params,
      );
      created.push(...rows.map((r) => String(r.study_uid)));
    }
    const createdSet = new Set(created);
    const unknownSet = new Set(unknown);
    const existing = all.map((e) => e.studyUid).filter((u) => !createdSet.has(u) && !unknownSet.has(u));
    return { created, existing, unknown };
  });
}
