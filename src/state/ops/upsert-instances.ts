import type { InstanceInput, UpsertResult } from '../types.js';
import type { OpContext } from './context.js';
import { INSTANCE_LEVEL } from './_inventory-levels.js';
import { upsertInventory } from './_upsert-inventory.js';

/**
 * Inventory instances seen by a run (one transaction). An instance already recorded as received
 * (it arrived before any query listed it) gains its inventory values and counts as new here.
 */
export function upsertInstances(
  ctx: OpContext,
  runId: number,
  rows: readonly InstanceInput[],
): Promise<UpsertResult> {
  return upsertInventory(ctx, INSTANCE_LEVEL, runId, rows as unknown as readonly Record<string, unknown>[]);
}
