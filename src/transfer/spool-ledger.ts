/**
 * What the spool says goes into the state database, against the study it concerns (the engine calls
 * these; the spool itself knows no database):
 *
 * - `admitStudy`: the admission gate where a job's retrieve starts (room for what the study still needs);
 * - `releaseForRoom`: a retrieve the spool had no room for (the listener refused instances, "spool full"
 *   or ENOSPC): the study's spooled, unrecorded arrivals are freed, the refused instances recorded with
 *   that cause (0xA700, category spool-full), a `spool.full` event, and the job released without an
 *   attempt — the source did nothing wrong;
 * - `releaseStored`: at the start of a run, the files of instances the state database says are stored
 *   (a run killed after recording them stored, before deleting their files: send.ts records first)
 *   are freed; no job sends them again, so nothing else would;
 * - `recordSpoolProblems`: arrivals that could not be read (kept in the quarantine), each recorded as an
 *   instance failure of its study (found by SOP Instance UID in the inventory) and a `spool.unreadable`
 *   event (with no study when the inventory does not know the UID).
 */
import { basename } from 'node:path';
import type { Job, Store } from '../state/index.js';
import type { Spool, SpooledInstance } from './spool.js';
import { SPOOL_FULL_STATUS, UNREADABLE_ARRIVAL_STATUS } from './spool-target.js';

/** Whether the spool has room for the study's instances not received and not spooled yet (sizes from the inventory). */
export async function admitStudy(store: Store, spool: Spool, job: Job): Promise<boolean> {
  const unreceived = await store.listInstances(job.studyUid, 'unreceived');
  const need = unreceived.filter((i) => spool.get(i.sopInstanceUid).length === 0).map((i) => i.sizeBytes);
  return spool.admit(job.studyUid, need);
}

/** Our listener's refusals for want of room (0xA700), each against the study with its cause. */
async function recordRoomRefusals(
  store: Store,
  job: Job,
  refused: ReadonlyMap<string, string>,
  category: 'spool-full' | 'spool-too-small',
): Promise<void> {
  await store.recordInstanceFailures(
    [...refused].map(([uid, c]) => ({
      sopInstanceUid: uid,
      studyUid: job.studyUid,
      phase: 'retrieve' as const,
      status: SPOOL_FULL_STATUS,
      category,
      cause: `refused by our listener: ${c}`,
    })),
    { jobId: job.id },
  );
}

export async function releaseForRoom(
  store: Store,
  spool: Spool,
  job: Job,
  owner: string,
  refused: ReadonlyMap<string, string>,
  spooled: readonly SpooledInstance[],
): Promise<string> {
  const cause = [...refused.values()][0] ?? 'spool full';
  let bytes = 0;
  for (const s of spooled) {
    bytes += s.sizeBytes;
    await spool.release(s, false);
  }
  await recordRoomRefusals(store, job, refused, 'spool-full');
  await store.appendEvents([
    {
      jobId: job.id,
      studyUid: job.studyUid,
      kind: 'spool.full',
      detail: { cause, refused: refused.size, freed: spooled.length, freedBytes: bytes },
    },
  ]);
  await store.releaseJob(job.id, owner);
  spool.room.refused(job.studyUid);
  return `study ${job.studyUid}: ${cause}: ${refused.size} instance(s) refused by our listener, ${spooled.length} spooled instance(s) freed (${bytes} bytes); the study waits for room (not counted as an attempt)`;
}

/**
 * The study's only admitted job, in an empty spool, had instances refused by spool.maxBytes with nothing
 * arrived: they are larger than the whole spool and would be refused every round. Each is recorded with
 * that cause and the job fails (not retried: raising spool.maxBytes and a requeue is the way on).
 */
export async function failLargerThanSpool(
  store: Store,
  spool: Spool,
  job: Job,
  owner: string,
  refused: ReadonlyMap<string, string>,
): Promise<string> {
  const cause = `larger than the whole spool (spool.maxBytes ${spool.maxBytes} bytes, the spool empty): raise spool.maxBytes above the largest instance, then requeue the study`;
  await recordRoomRefusals(
    store,
    job,
    new Map([...refused.keys()].map((u) => [u, cause])),
    'spool-too-small',
  );
  await store.failJob(
    job.id,
    owner,
    'SPOOL_TOO_SMALL',
    `retrieve ${job.studyUid}: ${refused.size} instance(s) ${cause}`,
    false,
  );
  spool.room.finish(job.studyUid);
  return `study ${job.studyUid}: ${refused.size} instance(s) ${cause}; the study failed`;
}

/**
 * Frees the spooled files of stored instances (the very file recorded as received: another object
 * under the same UID stays), deleted unless `keep` (spool.keepAfterStore). Returns how many.
 */
export async function releaseStored(store: Store, spool: Spool, keep: boolean): Promise<number> {
  let n = 0;
  for (const s of spool.all()) {
    const i = await store.getInstance(s.sopInstanceUid);
    if (i?.storedAt == null || !i.spoolPath || basename(i.spoolPath) !== basename(s.path)) continue;
    await spool.release(s, keep);
    n++;
  }
  return n;
}

/** Records the spool's unreadable arrivals; returns a log line for each, and each one's cause by SOP Instance UID. */
export async function recordSpoolProblems(
  store: Store,
  spool: Spool,
  jobId?: number,
): Promise<{ lines: string[]; causes: Map<string, string> }> {
  const lines: string[] = [];
  const causes = new Map<string, string>();
  for (const p of spool.takeProblems()) {
    const inst = p.sopInstanceUid ? await store.getInstance(p.sopInstanceUid) : undefined;
    const where = p.quarantinePath ? `kept as ${p.quarantinePath}` : 'could not be moved to the quarantine';
    const cause = `arrived unreadable (${p.cause}); ${where}`;
    if (inst)
      await store.recordInstanceFailures(
        [
          {
            sopInstanceUid: inst.sopInstanceUid,
            studyUid: inst.studyUid,
            phase: 'retrieve',
            status: UNREADABLE_ARRIVAL_STATUS,
            category: 'unreadable-arrival',
            cause,
          },
        ],
        jobId === undefined ? {} : { jobId },
      );
    await store.appendEvents([
      {
        jobId: jobId ?? null,
        studyUid: inst?.studyUid ?? null,
        sopInstanceUid: p.sopInstanceUid ?? null,
        kind: 'spool.unreadable',
        detail: { cause: p.cause, quarantinePath: p.quarantinePath ?? null },
      },
    ]);
    if (p.sopInstanceUid) causes.set(p.sopInstanceUid, cause);
    lines.push(
      `${inst ? `study ${inst.studyUid}: ` : ''}SOP instance ${p.sopInstanceUid ?? '(unknown)'} ${cause}`,
    );
  }
  return { lines, causes };
}
