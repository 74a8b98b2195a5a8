import { chunks, num, placeholders, type Row } from '../db.js';
import type { EventInput, InstanceFailureInput, RecordContext, StoredInput, StoredResult } from '../types.js';
import type { OpContext } from './context.js';
import { insertEvents } from './_events.js';
import { insertOutcomes, insertSample } from './_outcomes.js';
import { clip } from './_rows.js';

/**
 * Records C-STORE results of a batch (one transaction, one throughput sample). A confirmed store
 * sets stored_at once: an instance stored before is reported in `alreadyStored` and not counted again
 * (a restarted worker lists `unstored` instances and sends only those). Failures go to the per-instance
 * ledger; quarantined objects also to the quarantine list with their cause. A stored instance with a
 * cause (warning status B000/B006/B007, coercion comment) gets an audit event.
 * Storing an instance that was never recorded (inventoried or received) is a programmer error.
 */
export async function recordInstancesStored(
  ctx: OpContext,
  items: readonly StoredInput[],
  rc: RecordContext = {},
): Promise<StoredResult> {
  const jobId = rc.jobId ?? null;
  const now = ctx.clock.now();
  for (const it of items) {
    if (it.outcome !== 'stored' && !it.category)
      throw new TypeError(
        `recordInstancesStored: ${it.sopInstanceUid}: a ${it.outcome} outcome needs a category`,
      );
  }
  return ctx.db.transaction(async (tx) => {
    const forUpdate = tx.dialect === 'postgres' ? ' FOR UPDATE' : '';
    const known = new Map<string, Row>();
    for (const part of chunks([...new Set(items.map((i) => i.sopInstanceUid))].sort())) {
      const rows = await tx.all<Row>(
        `SELECT sop_instance_uid, study_uid, series_uid, stored_at, size_bytes FROM instances
         WHERE sop_instance_uid IN (${placeholders(part.length)}) ORDER BY sop_instance_uid${forUpdate}`,
        part,
      );
      for (const r of rows) known.set(String(r.sop_instance_uid), r);
    }
    let stored = 0;
    let bytes = 0;
    let failed = 0;
    let quarantined = 0;
    const alreadyStored: string[] = [];
    const failures: InstanceFailureInput[] = [];
    const events: EventInput[] = [];
    const newlyStored = new Set<string>();
    for (const it of items) {
      const row = known.get(it.sopInstanceUid);
      if (!row) throw new Error(`recordInstancesStored: unknown instance ${it.sopInstanceUid}`);
      const studyUid = String(row.study_uid);
      const isStored =
        (row.stored_at !== null && row.stored_at !== undefined) || newlyStored.has(it.sopInstanceUid);
      if (it.outcome === 'stored') {
        if (isStored) {
          alreadyStored.push(it.sopInstanceUid);
          continue;
        }
        await tx.run('UPDATE instances SET stored_at = ?, store_status = ? WHERE sop_instance_uid = ?', [
          now,
          it.status,
          it.sopInstanceUid,
        ]);
        newlyStored.add(it.sopInstanceUid);
        stored++;
        bytes += it.sizeBytes ?? (row.size_bytes === null ? 0 : num(row.size_bytes));
        if (it.cause || it.status !== 0) {
          events.push({
            jobId,
            studyUid,
            sopInstanceUid: it.sopInstanceUid,
            kind: 'instance.store-warning',
            detail: { status: it.status, cause: clip(it.cause, 500) },
          });
        }
        continue;
      }
      failures.push({
        sopInstanceUid: it.sopInstanceUid,
        studyUid,
        phase: 'store',
        status: it.status,
        category: it.category!,
        cause: it.cause ?? null,
      });
      if (!isStored)
        await tx.run('UPDATE instances SET store_status = ? WHERE sop_instance_uid = ?', [
          it.status,
          it.sopInstanceUid,
        ]);
      if (it.outcome === 'failed') {
        failed++;
        continue;
      }
      quarantined++;
      await tx.run(
        `INSERT INTO quarantine (sop_instance_uid, study_uid, series_uid, status, category, cause, path, quarantined_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (sop_instance_uid) DO UPDATE SET status = excluded.status, category = excluded.category,
           cause = excluded.cause, path = COALESCE(excluded.path, quarantine.path), quarantined_at = excluded.quarantined_at`,
        [
          it.sopInstanceUid,
          studyUid,
          row.series_uid === null ? null : String(row.series_uid),
          it.status,
          it.category!,
          clip(it.cause),
          it.path ?? null,
          now,
        ],
      );
    }
    await insertOutcomes(tx, now, jobId, failures);
    await insertEvents(tx, now, events);
    await insertSample(tx, now, 'store', stored, bytes, jobId);
    return { stored, alreadyStored, failed, quarantined };
  });
}
