/**
 * One inventory at a time per migration (issue 7 item 4): the state database's named lock
 * `inventory` (store.acquireLock, a row with a lease, on SQLite and PostgreSQL alike). Two
 * inventories listing at once each upserted rows under their own run id, and each then marked the
 * other's as vanished. Whoever comes second waits for the first, then runs (pacshift inventory) or
 * takes its result (migrate: ensureInventory).
 */
import { newOwnerId, type LockHeld, type Store } from '../state/index.js';

export const INVENTORY_LOCK = 'inventory';

export interface LockOptions {
  /** Lease of the lock, extended every third of it while the inventory runs (default 60 s). */
  readonly leaseMs?: number;
  /** How often a waiting process tries again (default 500 ms). */
  readonly pollMs?: number;
  readonly signal?: AbortSignal;
  /** Called once when the lock is held by another process (which, until when). */
  readonly onWait?: (held: LockHeld) => void;
}

const pause = (ms: number, signal: AbortSignal | undefined) =>
  new Promise<void>((resolve) => {
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });

/**
 * Runs `fn` holding the inventory lock. `fn` gets a signal that aborts when the caller's does or
 * when the lease is lost (expired or taken over: the inventory must stop, another one may run).
 * Returns undefined when stopped while waiting.
 */
export async function withInventoryLock<T>(
  store: Store,
  fn: (signal: AbortSignal) => Promise<T>,
  opts: LockOptions = {},
): Promise<{ value: T } | undefined> {
  const leaseMs = opts.leaseMs ?? 60_000;
  const owner = newOwnerId('inventory');
  let told = false;
  for (;;) {
    if (opts.signal?.aborted) return undefined;
    const got = await store.acquireLock(INVENTORY_LOCK, owner, leaseMs);
    if (got.ok) break;
    if (!told) opts.onWait?.(got.error);
    told = true;
    await pause(opts.pollMs ?? 500, opts.signal);
  }
  const lost = new AbortController();
  const onAbort = () => lost.abort();
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  const beat = setInterval(() => {
    store.extendLock(INVENTORY_LOCK, owner, leaseMs).then(
      (held) => held || lost.abort(),
      () => undefined, // a failed heartbeat is retried at the next beat; the lease covers two misses
    );
  }, leaseMs / 3);
  try {
    return { value: await fn(lost.signal) };
  } finally {
    clearInterval(beat);
    opts.signal?.removeEventListener('abort', onAbort);
    await store.releaseLock(INVENTORY_LOCK, owner);
  }
}
