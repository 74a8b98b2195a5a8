import { migration as m001 } from './001_inventory.js';
import { migration as m002 } from './002_scope_jobs.js';
import { migration as m003 } from './003_outcomes_audit.js';
import { migration as m004 } from './004_analysis.js';
import { migration as m005 } from './005_exceptions_3_5.js';
import { migration as m006 } from './006_locks_4.js';
import { migration as m007 } from './007_run_stopped_5.js';
import type { Migration } from './types.js';

/** In order. Append only. */
export const MIGRATIONS: readonly Migration[] = [m001, m002, m003, m004, m005, m006, m007];

export type { Migration } from './types.js';
export { render } from './types.js';
