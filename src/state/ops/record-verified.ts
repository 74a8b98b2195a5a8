import { chunks, placeholders, toJson, type Row } from '../db.js';
import {
  VERIFY_OUTCOMES,
  type InstanceFailureInput,
  type RecordContext,
  type VerifiedInput,
} from '../types.js';
import type { OpContext } from './context.js';
import { insertOutcomes } from './_outcomes.js';
import { clip, stableStringify } from './_rows.js';

/**
 * Records what verification found per instance (one transaction). The latest verification of an
 * instance wins; every problem found (missing, attribute/pixel mismatch, duplicate conflict) is also
 * appended to the per-instance failure ledger.
 */
export async function recordInstancesVerified(
  ctx: OpContext,
  items: readonly VerifiedInput[],
  rc: RecordContext = {},
): Promise<{ verified: number; problems: number }> {
  for (const it of items) {
    if (!VERIFY_OUTCOMES.includes(it.outcome))
      throw new TypeError(`recordInstancesVerified: unknown outcome ${it.outcome}`);
  }
  const now = ctx.clock.now();
  return ctx.db.transaction(async (tx) => {
    const studyOf = new Map<string, string>();
    for (const part of chunks([...new Set(items.map((i) => i.sopInstanceUid))])) {
      const rows = await tx.all<Row>(
        `SELECT sop_instance_uid, study_uid FROM instances WHERE sop_instance_uid IN (${placeholders(part.length)})`,
        part,
      );
      for (const r of rows) studyOf.set(String(r.sop_instance_uid), String(r.study_uid));
    }
    let verified = 0;
    const failures: InstanceFailureInput[] = [];
    for (const it of items) {
      const studyUid = studyOf.get(it.sopInstanceUid);
      if (studyUid === undefined)
        throw new Error(`recordInstancesVerified: unknown instance ${it.sopInstanceUid}`);
      await tx.run(
        'UPDATE instances SET verified_at = ?, verify_outcome = ?, verify_detail = ? WHERE sop_instance_uid = ?',
        [now, it.outcome, toJson(it.detail ?? null), it.sopInstanceUid],
      );
      if (it.outcome === 'verified') verified++;
      else {
        failures.push({
          sopInstanceUid: it.sopInstanceUid,
          studyUid,
          phase: 'verify',
          category: it.outcome,
          cause:
            it.detail === undefined || it.detail === null ? null : clip(stableStringify(it.detail), 1000),
        });
      }
    }
    await insertOutcomes(tx, now, rc.jobId ?? null, failures);
    return { verified, problems: failures.length };
  });
}
