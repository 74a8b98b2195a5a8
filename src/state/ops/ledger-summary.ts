import { num, type Row } from '../db.js';
import { LEDGER_STATUSES, type LedgerStatus, type LedgerSummary } from '../types.js';
import type { OpContext } from './context.js';
import { LEDGER_FROM_SQL, LEDGER_STATUS_SQL } from './_ledger-sql.js';

/** Studies per ledger status (every status present) and the total. */
export async function ledgerSummary(ctx: OpContext): Promise<LedgerSummary> {
  const rows = await ctx.db.all<Row>(
    `SELECT status, COUNT(*) AS n FROM (SELECT ${LEDGER_STATUS_SQL} AS status FROM ${LEDGER_FROM_SQL}) x GROUP BY status`,
  );
  const out = Object.fromEntries(LEDGER_STATUSES.map((s) => [s, 0])) as Record<LedgerStatus, number>;
  let total = 0;
  for (const r of rows) {
    out[String(r.status) as LedgerStatus] = num(r.n);
    total += num(r.n);
  }
  return { ...out, total };
}
