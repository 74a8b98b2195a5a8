import { placeholders } from '../db.js';
import type { ExceptionKind } from '../types.js';
import type { OpContext } from './context.js';

/**
 * After an inventory run that looked at everything `kinds` are about (a folder walked to its end, a
 * query tree run to its end): exceptions of those kinds this run did not record again are gone from
 * the source, hence resolved. Returns how many were resolved.
 */
export async function resolveExceptions(
  ctx: OpContext,
  runId: number,
  kinds: readonly ExceptionKind[],
): Promise<number> {
  if (kinds.length === 0) return 0;
  return ctx.db.transaction((tx) =>
    tx.run(
      `UPDATE exceptions SET status = 'resolved', status_at = ?
       WHERE kind IN (${placeholders(kinds.length)}) AND status <> 'resolved'
         AND (last_run_id IS NULL OR last_run_id <> ?)`,
      [ctx.clock.now(), ...kinds, runId],
    ),
  );
}
