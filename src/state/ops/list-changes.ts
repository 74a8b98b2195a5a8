import type { Row, SqlParam } from '../db.js';
import type { InventoryChange, InventoryLevel } from '../types.js';
import type { OpContext } from './context.js';
import { changeFromRow } from './_rows.js';

/** The deltas a run recorded (optionally one level), in order. */
export async function listChanges(
  ctx: OpContext,
  runId: number,
  level?: InventoryLevel,
): Promise<InventoryChange[]> {
  const params: SqlParam[] = [runId];
  let sql = 'SELECT * FROM inventory_changes WHERE run_id = ?';
  if (level) {
    sql += ' AND level = ?';
    params.push(level);
  }
  return (await ctx.db.all<Row>(`${sql} ORDER BY id`, params)).map(changeFromRow);
}
