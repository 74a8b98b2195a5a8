import { num, type Row } from '../db.js';
import { isDeadLocalOwner } from '../owner.js';
import type { LockHeld } from '../types.js';
import { err, ok, type Result } from '../../util/result.js';
import type { OpContext } from './context.js';

/**
 * Takes the named lock for `owner` until now + leaseMs, in one statement (an upsert that only
 * overwrites an expired lease or the owner's own): two processes never both get it. A lock held by a
 * process of this host that is gone is taken over at once. Held by another: its holder and expiry.
 */
export async function acquireLock(
  ctx: OpContext,
  name: string,
  owner: string,
  leaseMs: number,
): Promise<Result<{ expiresAt: number }, LockHeld>> {
  const now = ctx.clock.now();
  const expiresAt = now + leaseMs;
  const take = (condition: string, params: readonly (string | number)[]) =>
    ctx.db.get<Row>(
      `INSERT INTO locks (name, owner, acquired_at, expires_at) VALUES (?, ?, ?, ?)
       ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, acquired_at = excluded.acquired_at,
         expires_at = excluded.expires_at
       WHERE ${condition}
       RETURNING owner`,
      [name, owner, now, expiresAt, ...params],
    );
  if (await take('locks.expires_at <= ? OR locks.owner = ?', [now, owner])) return ok({ expiresAt });
  const held = await ctx.db.get<Row>('SELECT owner, expires_at FROM locks WHERE name = ?', [name]);
  if (!held) return acquireLock(ctx, name, owner, leaseMs); // released meanwhile
  const holder = String(held.owner);
  if (isDeadLocalOwner(holder) && (await take('locks.owner = ?', [holder]))) return ok({ expiresAt });
  return err({ name, holder, expiresAt: num(held.expires_at) });
}

/** Extends the owner's lease; false when it is not (any more) the owner's. */
export async function extendLock(
  ctx: OpContext,
  name: string,
  owner: string,
  leaseMs: number,
): Promise<boolean> {
  const now = ctx.clock.now();
  const n = await ctx.db.run(
    'UPDATE locks SET expires_at = ? WHERE name = ? AND owner = ? AND expires_at > ?',
    [now + leaseMs, name, owner, now],
  );
  return n > 0;
}

/** Gives the lock up (nothing happens when the owner does not hold it). */
export async function releaseLock(ctx: OpContext, name: string, owner: string): Promise<void> {
  await ctx.db.run('DELETE FROM locks WHERE name = ? AND owner = ?', [name, owner]);
}
