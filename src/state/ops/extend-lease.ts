import type { Row } from '../db.js';
import { err, ok, type Result } from '../../util/result.js';
import type { Job, LeaseError } from '../types.js';
import type { OpContext } from './context.js';
import { checkLease, lockJob } from './_lease.js';
import { JOB_COLUMNS, jobFromRow } from './_rows.js';

/** Heartbeat: extends a held lease to now + leaseMs. An expired lease cannot be revived. */
export async function extendLease(
  ctx: OpContext,
  id: number,
  owner: string,
  leaseMs: number,
): Promise<Result<Job, LeaseError>> {
  if (!(leaseMs > 0)) throw new RangeError('extendLease: leaseMs must be > 0');
  const now = ctx.clock.now();
  return ctx.db.transaction(async (tx) => {
    const row = await lockJob(tx, id);
    const e = checkLease(row, id, owner, now);
    if (e) return err(e);
    const updated = await tx.get<Row>(
      `UPDATE jobs SET lease_expires_at = ?, updated_at = ? WHERE id = ? RETURNING ${JOB_COLUMNS}`,
      [now + leaseMs, now, id],
    );
    return ok(jobFromRow(updated!));
  });
}
