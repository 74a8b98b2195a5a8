import { num, type Row } from '../db.js';
import type { DoneReport } from '../types.js';
import type { OpContext } from './context.js';
import { LEDGER_FROM_SQL, LEDGER_STATUS_SQL } from './_ledger-sql.js';
import { ledgerSummary } from './ledger-summary.js';

/**
 * The definition of done: an inventory run finished complete (every C-FIND covered), and every
 * inventoried study is verified, excluded by a rule, or failed terminally with its cause. `clean`
 * additionally requires that nothing failed.
 */
export async function isDone(ctx: OpContext): Promise<DoneReport> {
  const summary = await ledgerSummary(ctx);
  const reasons: string[] = [];
  const run = await ctx.db.get<Row>(
    'SELECT COUNT(*) AS n FROM inventory_runs WHERE finished_at IS NOT NULL AND complete = TRUE',
  );
  if (num(run?.n) === 0) reasons.push('no inventory run has finished complete');
  if (summary.pending > 0) {
    const unscoped = await ctx.db.get<Row>(
      `SELECT COUNT(*) AS n FROM ${LEDGER_FROM_SQL} WHERE d.study_uid IS NULL AND (${LEDGER_STATUS_SQL}) = 'pending'`,
    );
    const u = num(unscoped?.n);
    if (u > 0) reasons.push(`${u} studies have no scope decision`);
    if (summary.pending - u > 0) reasons.push(`${summary.pending - u} studies are still to migrate`);
  }
  if (summary['migrated-not-verified'] > 0) {
    reasons.push(`${summary['migrated-not-verified']} studies are stored but not verified`);
  }
  const done = reasons.length === 0;
  return { done, clean: done && summary.failed === 0, summary, reasons };
}
