import type { InstanceFailureInput, RecordContext } from '../types.js';
import type { OpContext } from './context.js';
import { insertOutcomes } from './_outcomes.js';

/** Appends per-instance failures (e.g. retrieve: inventoried but never arrived), one transaction. */
export async function recordInstanceFailures(
  ctx: OpContext,
  items: readonly InstanceFailureInput[],
  rc: RecordContext = {},
): Promise<void> {
  if (items.length === 0) return;
  const now = ctx.clock.now();
  await ctx.db.transaction((tx) => insertOutcomes(tx, now, rc.jobId ?? null, items));
}
