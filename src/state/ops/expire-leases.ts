import { num, placeholders, type Row } from '../db.js';
import type { OpContext } from './context.js';
import { insertEvents } from './_events.js';

/**
 * Ends now the live leases of `owners` (workers known to be gone: a restarted worker's dead predecessor
 * on the same host). The jobs are claimable at once and, as after any expiry, the claim counts an
 * attempt and records whom it was reclaimed from. One `job.lease-expired` event per job.
 * Returns how many leases were ended.
 */
export async function expireLeases(
  ctx: OpContext,
  owners: readonly string[],
  reason: string,
): Promise<number> {
  if (owners.length === 0) return 0;
  const now = ctx.clock.now();
  return ctx.db.transaction(async (tx) => {
    const forUpdate = tx.dialect === 'postgres' ? ' FOR UPDATE' : '';
    const rows = await tx.all<Row>(
      `SELECT id, study_uid, state, lease_owner FROM jobs
       WHERE lease_owner IN (${placeholders(owners.length)}) AND lease_expires_at > ?
       ORDER BY id${forUpdate}`,
      [...owners, now],
    );
    if (rows.length === 0) return 0;
    await tx.run(
      `UPDATE jobs SET lease_expires_at = ?, updated_at = ? WHERE id IN (${placeholders(rows.length)})`,
      [now, now, ...rows.map((r) => num(r.id))],
    );
    await insertEvents(
      tx,
      now,
      rows.map((r) => ({
        jobId: num(r.id),
        studyUid: String(r.study_uid),
        kind: 'job.lease-expired',
        detail: { owner: String(r.lease_owner), state: String(r.state), reason },
      })),
    );
    return rows.length;
  });
}
