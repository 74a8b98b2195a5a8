/**
 * A restarted worker need not wait out the leases of its predecessor that was killed: on the same
 * host, a process that no longer exists (isDeadLocalOwner: `kill(pid, 0)` answers ESRCH) holds nothing
 * any more. Leases of other hosts, or of a process that still exists, expire by themselves once their
 * heartbeat stops (a short lease, extended every third of it while working).
 */
import { isDeadLocalOwner } from './owner.js';
import type { Store } from './store.js';

/**
 * Ends the live leases held by dead processes of this host, so their studies are taken at once (the
 * claim counts the attempt, as after any expiry). Returns the jobs freed and whose they were.
 */
export async function reclaimDeadOwners(store: Store): Promise<{ jobs: number; owners: string[] }> {
  const owners = (await store.listLeaseOwners()).map((o) => o.owner).filter((o) => isDeadLocalOwner(o));
  if (owners.length === 0) return { jobs: 0, owners };
  const jobs = await store.expireLeases(owners, 'owner process gone (same host)');
  return { jobs, owners };
}
