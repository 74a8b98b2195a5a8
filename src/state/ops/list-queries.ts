import type { Row } from '../db.js';
import type { InventoryQuery } from '../types.js';
import type { OpContext } from './context.js';
import { queryFromRow } from './_rows.js';

/** The C-FIND queries of a run, in the order issued. */
export async function listQueries(ctx: OpContext, runId: number): Promise<InventoryQuery[]> {
  const rows = await ctx.db.all<Row>('SELECT * FROM inventory_queries WHERE run_id = ? ORDER BY id', [runId]);
  return rows.map(queryFromRow);
}
