import { chunks, fromJson, num, placeholders, strOrNull, toJson, type Row, type SqlParam } from '../db.js';
import type { AnalysisHeader, AnalysisHeaderInput, AnalysisHeaderResult } from '../analysis-types.js';
import type { Json } from '../types.js';
import type { OpContext } from './context.js';

/**
 * Records copies the analysis read (one transaction). A SOP Instance UID read again with the same
 * content only moves last_seen_at; other content is a new row beside the first (both kept).
 */
export async function recordAnalysisHeaders(
  ctx: OpContext,
  items: readonly AnalysisHeaderInput[],
): Promise<AnalysisHeaderResult> {
  const now = ctx.clock.now();
  const unique = new Map(items.map((i) => [`${i.sopInstanceUid}\u0000${i.contentDigest}`, i]));
  return ctx.db.transaction(async (tx) => {
    let inserted = 0;
    let again = 0;
    for (const part of chunks([...unique.values()], 100)) {
      const known = await tx.all<Row>(
        `SELECT sop_instance_uid, content_digest FROM analysis_headers
         WHERE sop_instance_uid IN (${placeholders(part.length)})`,
        part.map((i) => i.sopInstanceUid),
      );
      const seen = new Set(
        known.map((r) => `${String(r.sop_instance_uid)}\u0000${String(r.content_digest)}`),
      );
      const fresh = part.filter((i) => !seen.has(`${i.sopInstanceUid}\u0000${i.contentDigest}`));
      for (const i of part) {
        if (!seen.has(`${i.sopInstanceUid}\u0000${i.contentDigest}`)) continue;
        again++;
        await tx.run(
          `UPDATE analysis_headers SET last_seen_at = ?, times_seen = times_seen + 1
           WHERE sop_instance_uid = ? AND content_digest = ?`,
          [now, i.sopInstanceUid, i.contentDigest],
        );
      }
      if (fresh.length === 0) continue;
      const params: SqlParam[] = [];
      for (const i of fresh)
        params.push(
          i.sopInstanceUid,
          i.contentDigest,
          i.studyUid,
          i.seriesUid,
          i.origin,
          i.datasetSha256 ?? null,
          i.transferSyntaxUid ?? null,
          toJson(i.header),
          toJson(i.problems ?? null),
          now,
          now,
        );
      // DO NOTHING: a concurrent analysis (PostgreSQL) that recorded the same copy first wins.
      const rows = await tx.all<Row>(
        `INSERT INTO analysis_headers (sop_instance_uid, content_digest, study_uid, series_uid, origin, dataset_sha256,
           transfer_syntax_uid, header, problems, first_seen_at, last_seen_at)
         VALUES ${fresh.map(() => `(${placeholders(11)})`).join(', ')}
         ON CONFLICT (sop_instance_uid, content_digest) DO NOTHING RETURNING id`,
        params,
      );
      inserted += rows.length;
      again += fresh.length - rows.length;
    }
    return { inserted, again };
  });
}

function headerFromRow(r: Row): AnalysisHeader {
  return {
    id: num(r.id),
    sopInstanceUid: String(r.sop_instance_uid),
    contentDigest: String(r.content_digest),
    studyUid: strOrNull(r.study_uid),
    seriesUid: strOrNull(r.series_uid),
    origin: String(r.origin),
    datasetSha256: strOrNull(r.dataset_sha256),
    transferSyntaxUid: strOrNull(r.transfer_syntax_uid),
    header: fromJson<{ [k: string]: Json }>(r.header) ?? {},
    problems: fromJson<Json>(r.problems),
    firstSeenAt: num(r.first_seen_at),
    lastSeenAt: num(r.last_seen_at),
    timesSeen: num(r.times_seen),
  };
}

/** Recorded copies, oldest first, a page at a time (ids after `afterId`). */
export async function listAnalysisHeaders(
  ctx: OpContext,
  p: { readonly afterId?: number; readonly limit?: number } = {},
): Promise<AnalysisHeader[]> {
  const rows = await ctx.db.all<Row>('SELECT * FROM analysis_headers WHERE id > ? ORDER BY id LIMIT ?', [
    p.afterId ?? 0,
    p.limit ?? 1000,
  ]);
  return rows.map(headerFromRow);
}
