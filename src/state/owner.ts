import { hostname } from 'node:os';
import { processExists } from '../util/process.js';

/**
 * True when `owner` (a newOwnerId: prefix@host:pid:random) names a process of this host that no longer runs: its lease can
 * be taken over at once instead of waiting for it to expire. Unknown formats and other hosts: false.
 */
export function isDeadLocalOwner(owner: string): boolean {
  const m = /@([^@:]+):(\d+):[0-9a-f]+$/.exec(owner);
  if (!m || m[1] !== hostname()) return false;
  const pid = Number(m[2]);
  return pid !== process.pid && !processExists(pid);
}
