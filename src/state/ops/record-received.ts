import { chunks, placeholders, strOrNull, toJson, type Queryable, type Row } from '../db.js';
import type {
  EventInput,
  InstanceFailureInput,
  ReceivedInput,
  ReceivedOutcome,
  RecordContext,
} from '../types.js';
import type { OpContext } from './context.js';
import { insertEvents } from './_events.js';
import { insertOutcomes, insertSample } from './_outcomes.js';

export interface ReceivedResult {
  readonly sopInstanceUid: string;
  readonly outcome: ReceivedOutcome;
}

const COLUMNS = 'sop_instance_uid, study_uid, received_at, dataset_sha256, pixel_digest';

/**
 * Records instances that arrived in the spool (one transaction, one throughput sample). An instance
 * that arrives a second time with other content under the same SOP Instance UID (or in another study)
 * is a conflict: the first copy's record is kept, the conflict goes to the failure ledger and the
 * audit log, never silently overwritten.
 */
export async function recordInstancesReceived(
  ctx: OpContext,
  items: readonly ReceivedInput[],
  rc: RecordContext = {},
): Promise<ReceivedResult[]> {
  const jobId = rc.jobId ?? null;
  const now = ctx.clock.now();
  const bySop = new Map(items.map((i) => [i.sopInstanceUid, i]));
  return ctx.db.transaction(async (tx) => {
    const results = new Map<string, ReceivedOutcome>();
    const failures: InstanceFailureInput[] = [];
    const events: EventInput[] = [];
    let count = 0;
    let bytes = 0;
    for (const part of chunks([...bySop.keys()].sort(), 200)) {
      const existing = await lockInstances(tx, part);
      for (const uid of part) {
        const it = bySop.get(uid)!;
        let ex = existing.get(uid);
        if (!ex) {
          const inserted = await tx.get(
            `INSERT INTO instances (sop_instance_uid, series_uid, study_uid, sop_class_uid, transfer_syntax_uid, size_bytes,
               received_at, spool_path, dataset_sha256, pixel_digest, pixel_digest_ts, header)
             VALUES (${placeholders(12)})
             ON CONFLICT (sop_instance_uid) DO NOTHING RETURNING sop_instance_uid`,
            [
              uid,
              it.seriesUid,
              it.studyUid,
              it.sopClassUid ?? null,
              it.transferSyntaxUid ?? null,
              it.sizeBytes ?? null,
              now,
              it.spoolPath ?? null,
              it.datasetSha256 ?? null,
              it.pixelDigest ?? null,
              it.pixelDigestTs ?? null,
              toJson(it.header),
            ],
          );
          if (inserted) {
            results.set(uid, 'unlisted');
            count++;
            bytes += it.sizeBytes ?? 0;
            continue;
          }
          ex = (await lockInstances(tx, [uid])).get(uid)!; // lost an insert race (PostgreSQL)
        }
        const conflict = conflictOf(ex, it);
        if (conflict) {
          results.set(uid, 'conflict');
          failures.push({
            sopInstanceUid: uid,
            studyUid: it.studyUid,
            phase: 'retrieve',
            category: 'uid-conflict',
            cause: conflict,
          });
          events.push({
            jobId,
            studyUid: it.studyUid,
            sopInstanceUid: uid,
            kind: 'instance.uid-conflict',
            detail: {
              cause: conflict,
              first: {
                studyUid: String(ex.study_uid),
                datasetSha256: strOrNull(ex.dataset_sha256),
                pixelDigest: strOrNull(ex.pixel_digest),
              },
              again: {
                studyUid: it.studyUid,
                datasetSha256: it.datasetSha256 ?? null,
                pixelDigest: it.pixelDigest ?? null,
              },
            },
          });
          continue;
        }
        const again = ex.received_at !== null && ex.received_at !== undefined;
        await tx.run(
          `UPDATE instances SET received_at = ?, spool_path = COALESCE(?, spool_path),
             sop_class_uid = COALESCE(?, sop_class_uid), transfer_syntax_uid = COALESCE(?, transfer_syntax_uid),
             size_bytes = COALESCE(?, size_bytes), dataset_sha256 = COALESCE(dataset_sha256, ?),
             pixel_digest = COALESCE(pixel_digest, ?), pixel_digest_ts = COALESCE(pixel_digest_ts, ?),
             header = COALESCE(header, ?)
           WHERE sop_instance_uid = ?`,
          [
            now,
            it.spoolPath ?? null,
            it.sopClassUid ?? null,
            it.transferSyntaxUid ?? null,
            it.sizeBytes ?? null,
            it.datasetSha256 ?? null,
            it.pixelDigest ?? null,
            it.pixelDigestTs ?? null,
            toJson(it.header),
            uid,
          ],
        );
        results.set(uid, again ? 'again' : 'received');
        count++;
        bytes += it.sizeBytes ?? 0;
      }
    }
    await insertOutcomes(tx, now, jobId, failures);
    await insertEvents(tx, now, events);
    await insertSample(tx, now, 'retrieve', count, bytes, jobId);
    return items.map((i) => ({ sopInstanceUid: i.sopInstanceUid, outcome: results.get(i.sopInstanceUid)! }));
  });
}

async function lockInstances(tx: Queryable, uids: readonly string[]): Promise<Map<string, Row>> {
  const forUpdate = tx.dialect === 'postgres' ? ' FOR UPDATE' : '';
  const rows = await tx.all<Row>(
    `SELECT ${COLUMNS} FROM instances WHERE sop_instance_uid IN (${placeholders(uids.length)}) ORDER BY sop_instance_uid${forUpdate}`,
    uids,
  );
  return new Map(rows.map((r) => [String(r.sop_instance_uid), r]));
}

function conflictOf(ex: Row, it: ReceivedInput): string | null {
  if (String(ex.study_uid) !== it.studyUid) return 'SOP Instance UID already known in another study';
  const sha = strOrNull(ex.dataset_sha256);
  if (sha && it.datasetSha256 && sha !== it.datasetSha256) {
    const pix = strOrNull(ex.pixel_digest);
    if (pix && it.pixelDigest && pix === it.pixelDigest)
      return 'same SOP Instance UID, same pixels, different header';
    return 'same SOP Instance UID, different content';
  }
  const pix = strOrNull(ex.pixel_digest);
  if (!sha && pix && it.pixelDigest && pix !== it.pixelDigest)
    return 'same SOP Instance UID, different pixel data';
  return null;
}
