import { num, type Row } from '../db.js';
import type { LeaseOwner } from '../types.js';
import type { OpContext } from './context.js';

/** Every owner holding a live (unexpired) lease, with how many jobs it holds. */
export async function listLeaseOwners(ctx: OpContext): Promise<LeaseOwner[]> {
  const rows = await ctx.db.all<Row>(
    `SELECT lease_owner, COUNT(*) AS n FROM jobs
     WHERE lease_owner IS NOT NULL AND lease_expires_at > ?
     GROUP BY lease_owner ORDER BY lease_owner`,
    [ctx.clock.now()],
  );
  return rows.map((r) => ({ owner: String(r.lease_owner), jobs: num(r.n) }));
}
