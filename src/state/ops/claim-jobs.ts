import { num, placeholders, strOrNull, type Row } from '../db.js';
import { isTerminal } from '../job-state.js';
import type { ClaimOptions, EventInput, Job } from '../types.js';
import type { OpContext } from './context.js';
import { insertEvents } from './_events.js';
import { JOB_COLUMNS, jobFromRow } from './_rows.js';
import { CLAIM_ORDER_SQL, RUNNABLE_SQL, stateList } from './_sql.js';

export const LEASE_EXPIRED = 'LEASE_EXPIRED';

/**
 * Atomically takes up to `n` runnable jobs for `owner` and leases them for `leaseMs`.
 *
 * Runnable: a non-terminal state, due (next_run_at <= now), and unleased or with an expired lease.
 * Order: bumped first, then priority (higher first), then newest study date, then age.
 * A job reclaimed from an expired lease counts that expiry as a failed attempt (a worker that died,
 * or one that stopped heartbeating); when that exhausts max_attempts the job goes to the dead letter
 * instead (so a study that kills its worker every time cannot loop forever).
 *
 * SQLite: one BEGIN IMMEDIATE transaction (writers are serialised). PostgreSQL: one transaction whose
 * candidate rows are locked FOR UPDATE SKIP LOCKED, so concurrent claimers take disjoint jobs
 * without waiting on each other. Nothing is claimed while the migration is paused.
 * `opts.states` limits what is picked to jobs in those (non-terminal) states, e.g. a verifier takes
 * only `stored` and `verifying` jobs; the dead-letter housekeeping above still covers every job.
 */
export async function claimJobs(
  ctx: OpContext,
  owner: string,
  n: number,
  leaseMs: number,
  opts: ClaimOptions = {},
): Promise<Job[]> {
  if (!owner) throw new TypeError('claimJobs: owner is required');
  if (!(Number.isInteger(n) && n >= 1)) throw new RangeError('claimJobs: n must be an integer >= 1');
  if (!(leaseMs > 0)) throw new RangeError('claimJobs: leaseMs must be > 0');
  if (opts.states?.length === 0) return [];
  for (const s of opts.states ?? []) {
    if (isTerminal(s)) throw new TypeError(`claimJobs: ${s} is terminal, never claimable`);
  }
  const pickable = opts.states ? stateList(opts.states) : RUNNABLE_SQL;
  const skipLocked = ctx.db.dialect === 'postgres' ? ' FOR UPDATE SKIP LOCKED' : '';
  const now = ctx.clock.now();

  return ctx.db.transaction(async (tx) => {
    const paused = await tx.get("SELECT key FROM control WHERE key = 'paused'");
    if (paused) return [];
    const events: EventInput[] = [];

    // Dead letter: expired leases with no attempt left.
    const exhausted = await tx.all<Row>(
      `SELECT id, study_uid, state, lease_owner, lease_expires_at FROM jobs
       WHERE state IN (${RUNNABLE_SQL}) AND lease_owner IS NOT NULL AND lease_expires_at <= ?
         AND attempts + 1 >= max_attempts
       ORDER BY id${skipLocked}`,
      [now],
    );
    if (exhausted.length > 0) {
      await tx.run(
        `UPDATE jobs SET state = 'dead', attempts = attempts + 1, lease_owner = NULL, lease_expires_at = NULL,
           last_error_code = ?, last_error = ?, updated_at = ?
         WHERE id IN (${placeholders(exhausted.length)})`,
        [LEASE_EXPIRED, 'lease expired: attempts exhausted', now, ...exhausted.map((r) => num(r.id))],
      );
      for (const r of exhausted) {
        events.push({
          jobId: num(r.id),
          studyUid: String(r.study_uid),
          kind: 'job.failed',
          detail: {
            code: LEASE_EXPIRED,
            outcome: 'dead',
            from: String(r.state),
            owner: strOrNull(r.lease_owner),
          },
        });
      }
    }

    const picked = await tx.all<Row>(
      `SELECT id, state, lease_owner FROM jobs
       WHERE state IN (${pickable}) AND next_run_at <= ? AND (lease_owner IS NULL OR lease_expires_at <= ?)
       ORDER BY ${CLAIM_ORDER_SQL}
       LIMIT ?${skipLocked}`,
      [now, now, n],
    );
    if (picked.length === 0) {
      await insertEvents(tx, now, events);
      return [];
    }
    const ids = picked.map((r) => num(r.id));
    const rows = await tx.all<Row>(
      `UPDATE jobs SET
         attempts = attempts + CASE WHEN lease_owner IS NULL THEN 0 ELSE 1 END,
         last_error_code = CASE WHEN lease_owner IS NULL THEN last_error_code ELSE ? END,
         last_error = CASE WHEN lease_owner IS NULL THEN last_error ELSE 'lease expired' END,
         lease_owner = ?, lease_expires_at = ?, updated_at = ?
       WHERE id IN (${placeholders(ids.length)})
       RETURNING ${JOB_COLUMNS}`,
      [LEASE_EXPIRED, owner, now + leaseMs, now, ...ids],
    );
    const byId = new Map(rows.map((r) => [num(r.id), jobFromRow(r)]));
    const jobs = ids.map((id) => byId.get(id)!);
    for (const r of picked) {
      const previous = strOrNull(r.lease_owner);
      events.push({
        jobId: num(r.id),
        studyUid: byId.get(num(r.id))!.studyUid,
        kind: 'job.claimed',
        detail: previous
          ? { owner, state: String(r.state), reclaimedFrom: previous }
          : { owner, state: String(r.state) },
      });
    }
    await insertEvents(tx, now, events);
    return jobs;
  });
}
