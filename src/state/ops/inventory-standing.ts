import { bool, num, type Row } from '../db.js';
import type { InventoryStanding } from '../types.js';
import type { OpContext } from './context.js';

/**
 * Which inventory run is the inventory: the newest finished run that was not stopped, when it is
 * complete or recorded its uncovered parts as exceptions, none of them a part that failed (they, not
 * a missing run, then keep the migration from DONE); else the newest complete run; else none. A stopped run proves nothing
 * (runs recorded before migration 007 count only when complete).
 */
export async function inventoryStanding(ctx: OpContext): Promise<InventoryStanding> {
  const latest = await ctx.db.get<Row>(
    `SELECT id, complete FROM inventory_runs
     WHERE finished_at IS NOT NULL AND (complete = TRUE OR stopped = FALSE)
     ORDER BY id DESC LIMIT 1`,
  );
  if (latest && bool(latest.complete)) return { runId: num(latest.id), complete: true };
  if (latest) {
    // A capped part the source allows no finer split of stays as it is however often the run is
    // repeated; a part that failed (no association, no answer) may be listed next time: the run with
    // one is no inventory, so migrate runs it again (and says so when the source is still down).
    const parts = await ctx.db.get<Row>(
      `SELECT COUNT(*) AS n, SUM(CASE WHEN code = 'failed' THEN 1 ELSE 0 END) AS failed
       FROM exceptions WHERE kind = 'inventory-part-uncovered' AND last_run_id = ?`,
      [num(latest.id)],
    );
    if (num(parts?.n) > 0 && num(parts?.failed) === 0) return { runId: num(latest.id), complete: false };
  }
  const complete = await ctx.db.get<Row>(
    'SELECT id FROM inventory_runs WHERE finished_at IS NOT NULL AND complete = TRUE ORDER BY id DESC LIMIT 1',
  );
  return complete ? { runId: num(complete.id), complete: true } : { runId: null, complete: false };
}
