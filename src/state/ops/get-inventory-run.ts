import type { Row } from '../db.js';
import type { InventoryRun } from '../types.js';
import type { OpContext } from './context.js';
import { runFromRow } from './_rows.js';

export async function getInventoryRun(ctx: OpContext, runId: number): Promise<InventoryRun | undefined> {
  const r = await ctx.db.get<Row>('SELECT * FROM inventory_runs WHERE id = ?', [runId]);
  return r ? runFromRow(r) : undefined;
}
