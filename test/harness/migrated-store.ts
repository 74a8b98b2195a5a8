/**
 * A state database filled as if the transfer had moved the given files: inventoried (one complete
 * run), in scope, each study's job walked pending → stored through the worker protocol, each instance
 * recorded with recordPassThrough (what the transfer records) and confirmed stored (status 0000).
 * For verify and report tests; the files themselves are put into the target by the test.
 */
import type { Store } from '../../src/state/index.js';
import { receivedFields, recordPassThrough, type PassThroughRecord } from '../../src/verify/pass-through.js';

export interface MigratedFile {
  readonly path: string;
  readonly record: PassThroughRecord;
}

const str = (v: unknown): string | null => (typeof v === 'string' && v !== '' ? v : null);

export async function recordFiles(
  paths: readonly string[],
  extraKeywords: string[] = [],
): Promise<MigratedFile[]> {
  const out: MigratedFile[] = [];
  for (const path of paths) {
    const r = await recordPassThrough(path, extraKeywords);
    if (!r.ok) throw new Error(`${path}: ${r.error.code}: ${r.error.message}`);
    out.push({ path, record: r.value });
  }
  return out;
}

/** Inventories, scopes and "transfers" the files; returns the study UIDs in the order first seen. */
export async function fillStoreAsTransferred(
  store: Store,
  files: readonly MigratedFile[],
): Promise<string[]> {
  const byStudy = new Map<string, MigratedFile[]>();
  for (const f of files) {
    const uid = f.record.studyUid;
    if (!uid) throw new Error(`${f.path}: no StudyInstanceUID`);
    byStudy.set(uid, [...(byStudy.get(uid) ?? []), f]);
  }
  const runId = await store.startInventoryRun({ test: 'migrated-store' });
  await store.upsertStudies(
    runId,
    [...byStudy].map(([studyUid, fs]) => {
      const h = fs[0]!.record.header;
      return {
        studyUid,
        patientId: str(h.PatientID),
        patientName: str(h.PatientName),
        patientBirthDate: str(h.PatientBirthDate),
        accessionNumber: str(h.AccessionNumber),
        studyDate: str(h.StudyDate),
        numInstances: fs.length,
      };
    }),
  );
  await store.upsertInstances(
    runId,
    files.map((f) => ({
      sopInstanceUid: f.record.sopInstanceUid,
      seriesUid: f.record.seriesUid!,
      studyUid: f.record.studyUid!,
      sopClassUid: f.record.sopClassUid,
      transferSyntaxUid: f.record.transferSyntaxUid,
      sizeBytes: f.record.sizeBytes,
    })),
  );
  const fin = await store.finishInventoryRun(runId);
  if (!fin.complete) throw new Error('inventory run not complete');
  const studies = [...byStudy.keys()];
  await store.setScopeDecisions(studies.map((studyUid) => ({ studyUid, inScope: true, ruleId: 'all' })));
  await store.enqueueJobs(studies);
  const owner = 'transfer-simulation';
  const jobs = await store.claimJobs(owner, studies.length, 600_000, { states: ['pending'] });
  if (jobs.length !== studies.length) throw new Error(`claimed ${jobs.length} of ${studies.length} jobs`);
  const must = <T>(r: { ok: true; value: T } | { ok: false; error: unknown }): T => {
    if (!r.ok) throw new Error(JSON.stringify(r.error));
    return r.value;
  };
  for (const job of jobs) {
    const fs = byStudy.get(job.studyUid)!;
    must(await store.advanceJob(job.id, owner, 'retrieving'));
    await store.recordInstancesReceived(
      fs.map((f) => ({
        sopInstanceUid: f.record.sopInstanceUid,
        seriesUid: f.record.seriesUid!,
        studyUid: f.record.studyUid!,
        ...receivedFields(f.record),
        spoolPath: f.path,
      })),
      { jobId: job.id },
    );
    must(await store.advanceJob(job.id, owner, 'retrieved'));
    must(await store.advanceJob(job.id, owner, 'storing'));
    await store.recordInstancesStored(
      fs.map((f) => ({ sopInstanceUid: f.record.sopInstanceUid, status: 0, outcome: 'stored' as const })),
      { jobId: job.id },
    );
    must(await store.advanceJob(job.id, owner, 'stored'));
    must(await store.releaseJob(job.id, owner));
  }
  return studies;
}
