import type { Row, SqlParam } from '../db.js';
import type { InventoryRun } from '../types.js';
import type { OpContext } from './context.js';
import { runFromRow } from './_rows.js';

/** The newest inventory run matching the filter (finished: has finished; complete: finished complete). */
export async function latestInventoryRun(
  ctx: OpContext,
  f: { readonly finished?: boolean; readonly complete?: boolean } = {},
): Promise<InventoryRun | undefined> {
  const where: string[] = [];
  const params: SqlParam[] = [];
  if (f.finished) where.push('finished_at IS NOT NULL');
  if (f.complete !== undefined) {
    where.push('finished_at IS NOT NULL AND complete = ?');
    params.push(f.complete);
  }
  const r = await ctx.db.get<Row>(
    `SELECT * FROM inventory_runs${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC LIMIT 1`,
    params,
  );
  return r ? runFromRow(r) : undefined;
}
