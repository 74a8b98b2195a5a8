import { num, type Row } from '../db.js';
import type { DoneReport, ExceptionStatus, NotDoneCode } from '../types.js';
import type { OpContext } from './context.js';
import { LEDGER_FROM_SQL, LEDGER_STATUS_SQL } from './_ledger-sql.js';
import { inventoryStanding } from './inventory-standing.js';
import { ledgerSummary } from './ledger-summary.js';

/**
 * The definition of done: an inventory run finished complete (every C-FIND covered), every
 * inventoried study is verified, excluded by a rule, or failed terminally with its cause, and no
 * exception of the ledger (an unreadable source file, a part of the source no query covered) is
 * open: each is resolved or accepted. `clean` additionally requires that nothing failed.
 */
export async function isDone(ctx: OpContext): Promise<DoneReport> {
  const summary = await ledgerSummary(ctx);
  const reasons: string[] = [];
  const blockers: { code: NotDoneCode; count: number }[] = [];
  const block = (code: NotDoneCode, count: number, why: string) => {
    blockers.push({ code, count });
    reasons.push(why);
  };
  // A finished run whose uncovered parts are exceptions is the inventory: those exceptions block.
  if ((await inventoryStanding(ctx)).runId === null)
    block('no-complete-inventory', 0, 'no inventory run has finished complete');
  if (summary.pending > 0) {
    const unscoped = await ctx.db.get<Row>(
      `SELECT COUNT(*) AS n FROM ${LEDGER_FROM_SQL} WHERE d.study_uid IS NULL AND (${LEDGER_STATUS_SQL}) = 'pending'`,
    );
    const u = num(unscoped?.n);
    if (u > 0) block('unscoped', u, `${u} studies have no scope decision`);
    if (summary.pending - u > 0)
      block('pending', summary.pending - u, `${summary.pending - u} studies are still to migrate`);
  }
  if (summary['migrated-not-verified'] > 0) {
    const n = summary['migrated-not-verified'];
    block('not-verified', n, `${n} studies are stored but not verified`);
  }
  const exceptions: Record<ExceptionStatus, number> = { open: 0, accepted: 0, resolved: 0 };
  const byStatus = await ctx.db.all<Row>(
    'SELECT status, kind, COUNT(*) AS n FROM exceptions GROUP BY status, kind',
  );
  const openKinds: string[] = [];
  for (const r of byStatus) {
    exceptions[String(r.status) as ExceptionStatus] += num(r.n);
    if (r.status === 'open') openKinds.push(`${num(r.n)} ${String(r.kind)}`);
  }
  if (exceptions.open > 0)
    block(
      'open-exceptions',
      exceptions.open,
      `${exceptions.open} open exceptions (${openKinds.sort().join(', ')}): each is fixed at the source or accepted (see pacshift report)`,
    );
  const done = blockers.length === 0;
  return { done, clean: done && summary.failed === 0, summary, reasons, blockers, exceptions };
}
