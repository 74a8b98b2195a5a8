import type { Row } from '../db.js';
import { err, ok, type Result } from '../../util/result.js';
import type { Job, LeaseError } from '../types.js';
import type { OpContext } from './context.js';
import { insertEvents } from './_events.js';
import { checkLease, lockJob } from './_lease.js';
import { JOB_COLUMNS, jobFromRow } from './_rows.js';

/**
 * Gives a leased job back without counting an attempt (graceful shutdown, pause, window closing):
 * it is runnable again at once, in the state it reached. Releasing one's own expired lease is allowed.
 */
export async function releaseJob(
  ctx: OpContext,
  id: number,
  owner: string,
): Promise<Result<Job, LeaseError>> {
  const now = ctx.clock.now();
  return ctx.db.transaction(async (tx) => {
    const row = await lockJob(tx, id);
    const e = checkLease(row, id, owner, now);
    if (e && e.kind !== 'lease-expired') return err(e);
    const updated = await tx.get<Row>(
      `UPDATE jobs SET lease_owner = NULL, lease_expires_at = NULL, updated_at = ? WHERE id = ? RETURNING ${JOB_COLUMNS}`,
      [now, id],
    );
    const job = jobFromRow(updated!);
    await insertEvents(tx, now, [
      { jobId: id, studyUid: job.studyUid, kind: 'job.released', detail: { owner, state: job.state } },
    ]);
    return ok(job);
  });
}
