import type { Migration } from './types.js';

/**
 * Whether an inventory run was stopped (signal, lost lock) before it listed everything (issue 7 item
 * 5). A finished run that was not stopped but could not cover every part is still the inventory:
 * its uncovered parts are exceptions of the ledger, and `migrate` does not run it again; a stopped
 * run proves nothing. NULL for runs recorded before this column.
 */
export const migration: Migration = {
  id: 7,
  name: 'run-stopped',
  sql: `
ALTER TABLE inventory_runs ADD COLUMN stopped {{bool}};
`,
};
