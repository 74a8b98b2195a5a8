/**
 * Store a study's spooled instances to the target and record every outcome; what the status
 * table says decides whether the job goes on, retries later, or stops the run.
 */
import type { Store, StoredInput } from '../state/index.js';
import type { Spool, SpooledInstance } from './spool.js';
import { type JobEffect, decideStoreOutcome } from './store-outcome.js';
import type { Target } from './targets/target.js';

export interface SendReport {
  stored: number;
  quarantined: number;
  /** `code`: for a failure without a DICOM status, what happened (store-outcome.ts NO_STATUS). */
  retry: { sopInstanceUid: string; cause: string; status: number; code?: string }[];
  stop?: string;
  bytes: number;
}

/** Store through any target (DIMSE, folder, DICOMweb: src/transfer/targets): one outcome per instance. */
export async function sendStudy(
  target: Target,
  store: Store,
  spool: Spool,
  jobId: number,
  items: SpooledInstance[],
  opts: { associations: number; keepAfterStore: boolean },
): Promise<SendReport> {
  const report: SendReport = { stored: 0, quarantined: 0, retry: [], bytes: 0 };
  if (items.length === 0) return report;
  const byPath = new Map(items.map((s) => [s.path, s]));
  const records: StoredInput[] = [];
  const effects: JobEffect[] = [];
  const outcomes = await target.store(items, { concurrency: opts.associations });
  for (const o of outcomes) {
    const s = byPath.get(o.instance.path)!;
    let d = decideStoreOutcome(o);
    if (d.effect === 'quarantine') d = decideStoreOutcome(o, await spool.toQuarantine(s));
    records.push(d.record);
    effects.push(d.effect);
    if (d.effect === 'none') {
      report.stored++;
      report.bytes += s.sizeBytes;
    } else if (d.effect === 'quarantine') report.quarantined++;
    else if (d.effect === 'retry')
      report.retry.push({
        sopInstanceUid: s.sopInstanceUid,
        cause: d.record.cause ?? '',
        status: d.record.status,
        code: d.code,
      });
    else report.stop ??= d.record.cause ?? 'configuration error at the target';
  }
  // Record before deleting anything from the spool: the database is the truth after a crash (files of
  // instances recorded stored that a kill left behind are freed by the next run: releaseStored).
  await store.recordInstancesStored(records, { jobId });
  for (let i = 0; i < outcomes.length; i++) {
    if (effects[i] === 'none')
      await spool.release(byPath.get(outcomes[i]!.instance.path)!, opts.keepAfterStore);
  }
  return report;
}
