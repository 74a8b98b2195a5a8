import { bool, num, type Row } from '../db.js';
import type { FinishRunResult } from '../types.js';
import type { OpContext } from './context.js';

/**
 * Closes an inventory run. The run is complete when every root query is covered: complete itself, or
 * split into children that are all covered (a capped C-FIND proves nothing until its parts complete).
 * `complete: false` forces an incomplete run; `stopped: true` records that it was interrupted (it
 * proves nothing). Also returns the uncovered leaves: the parts of the source not listed.
 */
export async function finishInventoryRun(
  ctx: OpContext,
  runId: number,
  opts: { readonly complete?: boolean; readonly stopped?: boolean } = {},
): Promise<FinishRunResult> {
  return ctx.db.transaction(async (tx) => {
    const run = await tx.get('SELECT id FROM inventory_runs WHERE id = ?', [runId]);
    if (!run) throw new Error(`no inventory run ${runId}`);
    const rows = await tx.all<Row>('SELECT id, parent_id, complete FROM inventory_queries WHERE run_id = ?', [
      runId,
    ]);
    const children = new Map<number, number[]>();
    for (const r of rows) {
      if (r.parent_id === null || r.parent_id === undefined) continue;
      const p = num(r.parent_id);
      children.set(p, [...(children.get(p) ?? []), num(r.id)]);
    }
    const complete = new Map(rows.map((r) => [num(r.id), bool(r.complete)]));
    const memo = new Map<number, boolean>();
    const covered = (id: number): boolean => {
      const known = memo.get(id);
      if (known !== undefined) return known;
      memo.set(id, false); // cycle guard
      const kids = children.get(id) ?? [];
      const v = complete.get(id) === true || (kids.length > 0 && kids.every(covered));
      memo.set(id, v);
      return v;
    };
    const roots = rows.filter(
      (r) => r.parent_id === null || r.parent_id === undefined || !complete.has(num(r.parent_id)),
    );
    const uncovered = roots.map((r) => num(r.id)).filter((id) => !covered(id));
    const uncoveredLeaves = rows
      .map((r) => num(r.id))
      .filter((id) => !covered(id) && (children.get(id) ?? []).length === 0);
    const isComplete = uncovered.length === 0 && opts.complete !== false && opts.stopped !== true;
    await tx.run('UPDATE inventory_runs SET finished_at = ?, complete = ?, stopped = ? WHERE id = ?', [
      ctx.clock.now(),
      isComplete,
      opts.stopped === true,
      runId,
    ]);
    return { complete: isComplete, uncovered, uncoveredLeaves };
  });
}
