import type { StudyInput, UpsertResult } from '../types.js';
import type { OpContext } from './context.js';
import { STUDY_LEVEL } from './_inventory-levels.js';
import { upsertInventory } from './_upsert-inventory.js';

/** Inventory studies seen by a run (one transaction); returns which were new, changed, reappeared. */
export function upsertStudies(
  ctx: OpContext,
  runId: number,
  rows: readonly StudyInput[],
): Promise<UpsertResult> {
  return upsertInventory(ctx, STUDY_LEVEL, runId, rows as unknown as readonly Record<string, unknown>[]);
}
