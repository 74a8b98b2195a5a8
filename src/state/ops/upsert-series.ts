import type { SeriesInput, UpsertResult } from '../types.js';
import type { OpContext } from './context.js';
import { SERIES_LEVEL } from './_inventory-levels.js';
import { upsertInventory } from './_upsert-inventory.js';

/** Inventory series seen by a run (one transaction). */
export function upsertSeries(
  ctx: OpContext,
  runId: number,
  rows: readonly SeriesInput[],
): Promise<UpsertResult> {
  return upsertInventory(ctx, SERIES_LEVEL, runId, rows as unknown as readonly Record<string, unknown>[]);
}
