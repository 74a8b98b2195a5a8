import { fromJson, num, toJson, type Row } from '../db.js';
import type { PauseState } from '../types.js';
import type { OpContext } from './context.js';
import { insertEvents } from './_events.js';

/** Stops claims for every worker sharing this state database (running jobs finish their step). */
export async function pause(ctx: OpContext, reason: string | null = null): Promise<void> {
  const now = ctx.clock.now();
  await ctx.db.transaction(async (tx) => {
    await tx.run(
      `INSERT INTO control (key, value, updated_at) VALUES ('paused', ?, ?)
       ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`,
      [toJson({ reason }), now],
    );
    await insertEvents(tx, now, [{ kind: 'control.paused', detail: { reason } }]);
  });
}

export async function resume(ctx: OpContext): Promise<void> {
  const now = ctx.clock.now();
  await ctx.db.transaction(async (tx) => {
    const n = await tx.run("DELETE FROM control WHERE key = 'paused'");
    if (n > 0) await insertEvents(tx, now, [{ kind: 'control.resumed', detail: null }]);
  });
}

export async function isPaused(ctx: OpContext): Promise<PauseState> {
  const r = await ctx.db.get<Row>("SELECT value, updated_at FROM control WHERE key = 'paused'");
  if (!r) return { paused: false, reason: null, since: null };
  const v = fromJson<{ reason?: string | null }>(r.value);
  return { paused: true, reason: v?.reason ?? null, since: num(r.updated_at) };
}
