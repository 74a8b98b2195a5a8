import { chunks, num, placeholders, type Row } from '../db.js';
import type { MarkVanishedOptions } from '../types.js';
import type { OpContext } from './context.js';
import { LEVELS } from './_inventory-levels.js';
import { insertChanges } from './_upsert-inventory.js';

/**
 * Marks as vanished the inventoried rows of a level that this run did not see: by default those not
 * upserted with `runId` (nor by a later run); with `seen`, those not in it; with `among`, only those candidates. Rows
 * already vanished, and instances never inventoried (only received), are left alone. One
 * transaction; returns the UIDs newly marked.
 */
export async function markVanished(
  ctx: OpContext,
  runId: number,
  opts: MarkVanishedOptions = {},
): Promise<string[]> {
  const spec = LEVELS[opts.level ?? 'study'];
  const seen = opts.seen ? new Set(opts.seen) : undefined;
  const now = ctx.clock.now();
  const base = `SELECT ${spec.keyColumn} AS k, study_uid, last_run_id FROM ${spec.table}
                WHERE vanished_at IS NULL AND first_seen_at IS NOT NULL`;
  return ctx.db.transaction(async (tx) => {
    let candidates: Row[];
    if (opts.among) {
      candidates = [];
      for (const part of chunks([...new Set(opts.among)])) {
        candidates.push(
          ...(await tx.all<Row>(`${base} AND ${spec.keyColumn} IN (${placeholders(part.length)})`, part)),
        );
      }
    } else {
      candidates = await tx.all<Row>(base);
    }
    // Not seen by this run, and not by a later one either (whose evidence is newer than ours).
    const gone = candidates.filter((r) =>
      seen ? !seen.has(String(r.k)) : r.last_run_id === null || num(r.last_run_id) < runId,
    );
    for (const part of chunks(gone)) {
      await tx.run(
        `UPDATE ${spec.table} SET vanished_at = ? WHERE ${spec.keyColumn} IN (${placeholders(part.length)})`,
        [now, ...part.map((r) => String(r.k))],
      );
    }
    await insertChanges(
      tx,
      spec,
      runId,
      now,
      gone.map((r) => ({
        uid: String(r.k),
        studyUid: String(r.study_uid),
        kind: 'vanished' as const,
        oldValue: { lastRunId: r.last_run_id === null ? null : num(r.last_run_id) },
        newValue: null,
      })),
    );
    return gone.map((r) => String(r.k));
  });
}
