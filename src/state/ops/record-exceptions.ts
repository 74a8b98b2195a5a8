import { toJson, type Row } from '../db.js';
import type { ExceptionInput } from '../types.js';
import type { OpContext } from './context.js';
import { clip } from './_rows.js';

/**
 * Records what an inventory run found that cannot be migrated or proven, one row per (kind,
 * subject), in one transaction: a new one is open; one seen before gets this run and its current
 * cause; a resolved one is open again; an accepted one stays accepted unless its cause code changed
 * (what was accepted is not what is seen now: open again). Returns the ids, in input order.
 */
export async function recordExceptions(
  ctx: OpContext,
  runId: number | null,
  items: readonly ExceptionInput[],
): Promise<number[]> {
  if (items.length === 0) return [];
  const now = ctx.clock.now();
  return ctx.db.transaction(async (tx) => {
    const ids: number[] = [];
    for (const e of items) {
      const values = [
        clip(e.code, 200)!,
        clip(e.cause)!,
        e.studyUid ?? null,
        e.sopInstanceUid ?? null,
        toJson(e.detail ?? null),
      ];
      const inserted = await tx.get<Row>(
        `INSERT INTO exceptions (kind, subject, code, cause, study_uid, sop_instance_uid, detail,
                                 first_seen_at, last_seen_at, first_run_id, last_run_id, status, status_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'open', ?)
         ON CONFLICT (kind, subject) DO NOTHING
         RETURNING id`,
        [e.kind, e.subject, ...values, now, now, runId, runId, now],
      );
      if (inserted) {
        ids.push(Number(inserted.id));
        continue;
      }
      const old = (await tx.get<Row>(
        'SELECT id, status, code FROM exceptions WHERE kind = ? AND subject = ?',
        [e.kind, e.subject],
      ))!;
      const reopen = old.status === 'resolved' || (old.status === 'accepted' && old.code !== e.code);
      await tx.run(
        `UPDATE exceptions SET code = ?, cause = ?, study_uid = ?, sop_instance_uid = ?, detail = ?,
                last_seen_at = ?, last_run_id = ?${reopen ? ", status = 'open', status_at = ?" : ''}
         WHERE id = ?`,
        [...values, now, runId, ...(reopen ? [now] : []), Number(old.id)],
      );
      ids.push(Number(old.id));
    }
    return ids;
  });
}
