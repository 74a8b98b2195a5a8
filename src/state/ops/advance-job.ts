import type { Row } from '../db.js';
import { checkAdvance, isJobState, type JobState } from '../job-state.js';
import { err, ok, type Result } from '../../util/result.js';
import type { AdvanceError, Job } from '../types.js';
import type { OpContext } from './context.js';
import { insertEvents } from './_events.js';
import { checkLease, lockJob } from './_lease.js';
import { JOB_COLUMNS, jobFromRow } from './_rows.js';

/**
 * Moves a leased job forward along the progress line (see job-state.ts), in one transaction with its
 * audit event. Refused, as a typed result, when the caller does not hold a live lease or the move
 * would go backwards or out of a terminal state. Advancing to the current state is an idempotent
 * no-op. Reaching `verified` releases the lease.
 */
export async function advanceJob(
  ctx: OpContext,
  id: number,
  owner: string,
  to: JobState,
): Promise<Result<Job, AdvanceError>> {
  if (!isJobState(to)) throw new TypeError(`advanceJob: unknown state ${JSON.stringify(to)}`);
  const now = ctx.clock.now();
  return ctx.db.transaction(async (tx) => {
    const row = await lockJob(tx, id);
    const leaseError = checkLease(row, id, owner, now);
    if (leaseError) return err(leaseError);
    const from = String(row!.state) as JobState;
    const check = checkAdvance(from, to);
    if (!check.ok) return err({ kind: check.reason, jobId: id, from, to });
    if (!check.changed) return ok(jobFromRow(row!));
    const release = to === 'verified' ? ', lease_owner = NULL, lease_expires_at = NULL' : '';
    const updated = await tx.get<Row>(
      `UPDATE jobs SET state = ?, updated_at = ?${release} WHERE id = ? RETURNING ${JOB_COLUMNS}`,
      [to, now, id],
    );
    const job = jobFromRow(updated!);
    await insertEvents(tx, now, [
      { jobId: id, studyUid: job.studyUid, kind: 'job.state', detail: { from, to, owner } },
    ]);
    return ok(job);
  });
}
