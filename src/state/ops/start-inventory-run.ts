import { num, toJson } from '../db.js';
import type { Json } from '../types.js';
import type { OpContext } from './context.js';

/** Opens an inventory run; its id tags every upsert, query and delta of the run. */
export async function startInventoryRun(
  ctx: OpContext,
  params: Json = null,
  note: string | null = null,
): Promise<number> {
  const row = await ctx.db.transaction((tx) =>
    tx.get<{ id: unknown }>(
      'INSERT INTO inventory_runs (started_at, params, note) VALUES (?, ?, ?) RETURNING id',
      [ctx.clock.now(), toJson(params), note],
    ),
  );
  return num(row!.id);
}
