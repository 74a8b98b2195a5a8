/**
 * Inventory: the source listed into the state database (C-FIND with splits, or a folder index),
 * with the queries that prove it complete, deltas against earlier runs, and findings.
 *
 *   const summary = await runInventory(ctx);   // ctx from openMigration(planPath)
 */
export {
  runInventory,
  matchKeywordsOf,
  type InventoryOptions,
  type InventoryProgress,
  type InventorySummary,
  type ChangeCounts,
} from './run.js';
export { FINDING_KINDS, type FindingKind } from './findings.js';
export { DEFAULT_UNDATED_KEYS, DATED_DIMS, type UndatedKey } from './split.js';
export { checkSource, type SourceCheck } from './source-check.js';
