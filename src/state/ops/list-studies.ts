import type { Row } from '../db.js';
import type { Study } from '../types.js';
import type { OpContext } from './context.js';
import { studyFromRow } from './_rows.js';

/** Inventoried studies in study UID order, a page at a time (keyset: rows after `after`). */
export async function listStudies(
  ctx: OpContext,
  opts: { readonly after?: string; readonly limit?: number } = {},
): Promise<Study[]> {
  const rows = await ctx.db.all<Row>(
    `SELECT * FROM studies ${opts.after !== undefined ? 'WHERE study_uid > ?' : ''} ORDER BY study_uid LIMIT ?`,
    opts.after !== undefined ? [opts.after, opts.limit ?? 1000] : [opts.limit ?? 1000],
  );
  return rows.map(studyFromRow);
}
