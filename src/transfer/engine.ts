/**
 * The migration engine: claims study jobs from the state database and takes each through
 * retrieve → reconcile → store, under time windows, circuit breakers, pause and back-off.
 * Killed at any moment and started again, it resumes from what the database says.
 */
import type { Peer } from '../net/peer.js';
import type { Plan } from '../plan/index.js';
import {
  type Job,
  type JobState,
  type ReceivedInput,
  type Store,
  compareStates,
  newOwnerId,
} from '../state/index.js';
import { type Prepared, TransformStep } from '../transform/apply.js';
import { CircuitBreaker } from './breaker.js';
import { sendStudy } from './send.js';
import { dimseSource } from './sources/dimse.js';
import type { Source, SourceRetrieveReport } from './sources/source.js';
import { dimseTarget } from './targets/dimse.js';
import type { Target } from './targets/target.js';
import { type Spool, type SpooledInstance, isTransformedPath } from './spool.js';
import { decideWindow } from './windows.js';
import { sleep } from '../util/sleep.js';

/** What is recorded of each instance while it passes through (header attributes, digests). */
export type PassThrough = (s: SpooledInstance) => Promise<Partial<ReceivedInput>>;

export interface EngineOptions {
  plan: Plan;
  store: Store;
  spool: Spool;
  /** Where instances come from (src/transfer/sources); a Peer is a DIMSE source as the plan describes it. */
  source: Source | Peer;
  /** Where instances go (src/transfer/targets); a Peer is a DIMSE target. */
  target: Target | Peer;
  passThrough?: PassThrough;
  /**
   * Corrections and rules (src/transform/apply.ts): applied to each instance as it arrives, before it
   * is recorded; what is recorded and sent is the transformed copy.
   */
  transform?: TransformStep;
  leaseMs?: number;
  /** Stop when no job is runnable now (jobs waiting for back-off are left for the next run). */
  untilIdle?: boolean;
  signal?: AbortSignal;
  log?: (msg: string) => void;
  /** Called after each job step, for progress bars. */
  onProgress?: (p: EngineProgress) => void;
}

export interface EngineProgress {
  running: number;
  finished: number;
  failed: number;
  instancesStored: number;
  bytesStored: number;
}

/** A configuration error seen by the engine: the run stops and says why. */
export class StopRun extends Error {}

const TRANSFER_STATES: JobState[] = ['pending', 'retrieving', 'retrieved', 'storing'];

export async function runEngine(o: EngineOptions): Promise<EngineProgress & { stopped?: string }> {
  const { plan, store, spool } = o;
  const source: Source =
    'retrieveStudy' in o.source
      ? o.source
      : plan.source.type === 'dimse'
        ? dimseSource(o.source, plan.source, plan.source.moveDestination ?? plan.local.aeTitle)
        : (() => {
            throw new Error('runEngine: a Peer source needs a plan with a DICOM source');
          })();
  const target: Target = 'store' in o.target ? o.target : dimseTarget(o.target);
  const log = o.log ?? (() => undefined);
  const owner = newOwnerId('migrate');
  const leaseMs = o.leaseMs ?? 120_000;
  const now = () => store.clock.now();
  const cb = plan.transfer.circuitBreaker;
  const breakers = {
    source: new CircuitBreaker('source', cb.failures, cb.coolDown, now),
    target: new CircuitBreaker('target', cb.failures, cb.coolDown, now),
  };
  const defaults = {
    retrieve:
      plan.transfer.concurrency.retrieve ?? (plan.source.type === 'dimse' ? plan.source.maxAssociations : 2),
    store:
      plan.transfer.concurrency.store ?? (plan.target.type === 'dimse' ? plan.target.maxAssociations : 4),
  };
  const progress: EngineProgress = { running: 0, finished: 0, failed: 0, instancesStored: 0, bytesStored: 0 };
  const running = new Map<number, Promise<void>>();
  let stopped: string | undefined;

  const processJob = async (job: Job, storeAssociations: number): Promise<void> => {
    const heartbeat = setInterval(
      () => {
        void store.extendLease(job.id, owner, leaseMs);
      },
      Math.max(1000, leaseMs / 3),
    );
    try {
      const r = await migrateStudy(job, storeAssociations);
      if (r === 'done') progress.finished++;
    } catch (e) {
      if (e instanceof StopRun) {
        stopped ??= e.message;
        await store.releaseJob(job.id, owner);
      } else {
        // A bug or an I/O error: record it on the job (retryable) rather than losing the run.
        progress.failed++;
        log(`job ${job.id} study ${job.studyUid}: ${(e as Error).stack ?? e}`);
        await store.failJob(job.id, owner, 'INTERNAL', `internal error: ${(e as Error).message}`, true);
      }
    } finally {
      clearInterval(heartbeat);
    }
  };

  const advance = async (job: Job, to: JobState) => {
    const r = await store.advanceJob(job.id, owner, to);
    if (!r.ok) throw new Error(`job ${job.id}: cannot advance to ${to}: ${JSON.stringify(r.error)}`);
    return r.value;
  };

  const migrateStudy = async (job: Job, storeAssociations: number): Promise<'done' | 'retry'> => {
    const studyUid = job.studyUid;
    let state = job.state;
    // ---- retrieve
    if (compareStates(state, 'retrieved') < 0) {
      if (state === 'pending') state = (await advance(job, 'retrieving')).state;
      const unreceived = await store.listInstances(studyUid, 'unreceived');
      // What already sits in the spool (arrived before a crash, or with another study's move) counts.
      const expected = new Map(
        unreceived.map((i) => [i.sopInstanceUid, { sopClassUid: i.sopClassUid, seriesUid: i.seriesUid }]),
      );
      const already = [...expected.keys()].filter((u) => spool.get(u).length > 0);
      for (const u of already) expected.delete(u);
      const everything = (await store.listInstances(studyUid, 'all')).length;
      let arrived: SpooledInstance[] = already.flatMap((u) => spool.get(u).slice(0, 1));
      let missing: string[] = [];
      let unlisted: SpooledInstance[] = [];
      let causes: ReadonlyMap<string, string> | undefined;
      let final: ReadonlyMap<string, string> | undefined;
      let finalStatus: ReadonlyMap<string, number> | undefined;
      if (expected.size > 0 || everything === 0) {
        if (!breakers.source.allow()) {
          await store.releaseJob(job.id, owner);
          return 'retry';
        }
        const rep: SourceRetrieveReport = await source.retrieveStudy(spool, {
          studyUid,
          expected,
          quietMs: plan.transfer.quietPeriod,
          imageRetries: 2,
          // Part of the study arrived before (an earlier attempt, a killed run): ask only for the rest.
          wholeStudy: unreceived.length === everything && already.length === 0,
        });
        if (rep.stop) throw new StopRun(`source: ${rep.stop}`);
        arrived = arrived.concat(rep.arrived);
        unlisted = rep.unlisted;
        causes = rep.causes;
        final = rep.final;
        finalStatus = rep.finalStatus;
        missing = rep.missing;
        if (rep.failure) breakers.source.failure();
        else breakers.source.success();
        if (rep.failure && arrived.length === 0 && unlisted.length === 0) {
          await store.failJob(
            job.id,
            owner,
            rep.failure.kind,
            `retrieve ${studyUid}: ${rep.failure.kind}: ${rep.failure.message}`,
            true,
          );
          return 'retry';
        }
        if (rep.backoff && missing.length > 0) {
          await recordArrivals(job, arrived, unlisted);
          await store.failJob(
            job.id,
            owner,
            rep.backoffStatus ?? 0xa702,
            `retrieve ${studyUid}: ${rep.backoff}`,
            true,
          );
          return 'retry';
        }
      }
      await recordArrivals(job, arrived, unlisted);
      // Those asking again cannot bring (our own listener refused them) are quarantined at once with that cause.
      const settled = missing.filter((u) => final?.has(u));
      if (settled.length > 0)
        await store.recordInstancesStored(
          settled.map((u) => ({
            sopInstanceUid: u,
            status: finalStatus?.get(u) ?? 0xffff,
            outcome: 'quarantined' as const,
            category: final!.get(u)!,
            cause: causes?.get(u) ?? final!.get(u)!,
          })),
          { jobId: job.id },
        );
      const again = missing.filter((u) => !final?.has(u));
      if (again.length > 0) {
        await store.recordInstanceFailures(
          again.map((u) => ({
            sopInstanceUid: u,
            studyUid,
            phase: 'retrieve' as const,
            category: 'not-delivered',
            cause:
              causes?.get(u) ??
              'listed by the inventory, not delivered by the source after IMAGE-level retries',
          })),
          { jobId: job.id },
        );
        await store.failJob(
          job.id,
          owner,
          'NOT_DELIVERED',
          `retrieve ${studyUid}: ${again.length} instance(s) not delivered`,
          true,
        );
        return 'retry';
      }
      state = (await advance(job, 'retrieved')).state;
    }
    // ---- store
    if (compareStates(state, 'stored') < 0) {
      if (state === 'retrieved') state = (await advance(job, 'storing')).state;
      const quarantined = new Set((await store.listQuarantine(studyUid)).map((q) => q.sopInstanceUid));
      const todo = (await store.listInstances(studyUid, 'unstored')).filter(
        (i) => !quarantined.has(i.sopInstanceUid),
      );
      const items: SpooledInstance[] = [];
      const lost: string[] = [];
      for (const i of todo) {
        const copy = spool.get(i.sopInstanceUid)[0];
        if (copy) items.push(copy);
        else lost.push(i.sopInstanceUid);
      }
      if (lost.length > 0) {
        // Received before, but not in the spool any more (spool removed?): fetch them again.
        const byUid = new Map(todo.map((i) => [i.sopInstanceUid, i]));
        const rep: SourceRetrieveReport = await source.retrieveStudy(spool, {
          studyUid,
          expected: new Map(
            lost.map((u) => [
              u,
              { sopClassUid: byUid.get(u)!.sopClassUid, seriesUid: byUid.get(u)!.seriesUid },
            ]),
          ),
          quietMs: plan.transfer.quietPeriod,
          imageRetries: 1,
          wholeStudy: false,
        });
        if (rep.stop) throw new StopRun(`source: ${rep.stop}`);
        items.push(...rep.arrived);
        if (rep.missing.length > 0) {
          await store.failJob(
            job.id,
            owner,
            'NOT_DELIVERED',
            `store ${studyUid}: ${rep.missing.length} spooled instance(s) lost and not delivered again`,
            true,
          );
          return 'retry';
        }
      }
      // Spooled originals not transformed yet (a run killed between record and rename, copies fetched
      // again): transformed now; nothing goes out uncorrected.
      let toSend = items;
      if (o.transform?.active && items.some((s) => !isTransformedPath(s.path))) {
        const prepared: Prepared[] = [];
        for (const s of items) prepared.push(await o.transform.prepare(s, studyUid));
        toSend = await recordPrepared(
          job,
          prepared.filter((p) => p.outcome === 'changed' || p.outcome === 'failed'),
        );
        toSend.push(
          ...prepared
            .filter((p) => p.outcome === 'unchanged' || p.outcome === 'already')
            .map((p) => p.original),
        );
      }
      if (!breakers.target.allow()) {
        await store.releaseJob(job.id, owner);
        return 'retry';
      }
      const rep = await sendStudy(target, store, spool, job.id, toSend, {
        associations: storeAssociations,
        keepAfterStore: plan.spool.keepAfterStore,
      });
      progress.instancesStored += rep.stored;
      progress.bytesStored += rep.bytes;
      if (rep.stop) throw new StopRun(`target: ${rep.stop}`);
      if (rep.retry.length > 0) {
        breakers.target.failure();
        const first = rep.retry[0]!;
        await store.failJob(
          job.id,
          owner,
          first.status === 0xffff ? (first.code ?? 'NO_ANSWER') : first.status,
          `store ${studyUid}: ${rep.retry.length} instance(s) to retry (${first.cause})`,
          true,
        );
        return 'retry';
      }
      breakers.target.success();
      state = (await advance(job, 'stored')).state;
    }
    // Verification claims `stored` jobs itself; this worker is done with the study.
    await store.releaseJob(job.id, owner);
    return 'done';
  };

  const recordArrivals = async (job: Job, arrived: SpooledInstance[], unlisted: SpooledInstance[]) => {
    const all = [...arrived, ...unlisted];
    if (all.length === 0) return;
    if (o.transform?.active) {
      const prepared: Prepared[] = [];
      for (const s of all) prepared.push(await o.transform.prepare(s, job.studyUid));
      await recordPrepared(job, prepared);
      return;
    }
    await recordReceived(
      job,
      all.map((s) => ({ read: s, spoolPath: s.path })),
    );
  };

  /** Records the transformed (or refused) instances, then puts the copies in place; returns what to send. */
  const recordPrepared = async (job: Job, prepared: Prepared[]): Promise<SpooledInstance[]> => {
    if (prepared.length === 0) return [];
    await recordReceived(
      job,
      prepared.map((p) => ({ read: p.read, spoolPath: TransformStep.spoolPathOf(p) })),
    );
    const c = await o.transform!.commit(prepared, job.id);
    if (c.changed > 0 || c.quarantined > 0)
      log(
        `study ${job.studyUid}: ${c.changed} instance(s) transformed (${c.events} change(s) recorded), ${c.quarantined} refused by the transform (quarantined)`,
      );
    return c.send;
  };

  const recordReceived = async (job: Job, all: { read: SpooledInstance; spoolPath: string }[]) => {
    const items: ReceivedInput[] = [];
    for (const { read: s, spoolPath } of all) {
      const extra = o.passThrough ? await o.passThrough(s) : {};
      items.push({
        sopInstanceUid: s.sopInstanceUid,
        seriesUid: s.seriesUid ?? '',
        studyUid: s.studyUid ?? job.studyUid,
        sopClassUid: s.sopClassUid,
        transferSyntaxUid: s.transferSyntaxUid,
        sizeBytes: s.sizeBytes,
        spoolPath,
        ...extra,
      });
    }
    const res = await store.recordInstancesReceived(items, { jobId: job.id });
    for (const r of res)
      if (r.outcome === 'conflict')
        log(
          `study ${job.studyUid}: SOP instance ${r.sopInstanceUid} arrived with different content (conflict recorded)`,
        );
  };

  // ---- the loop
  for (;;) {
    if (o.signal?.aborted || stopped) break;
    const paused = await store.isPaused();
    const w = decideWindow(plan.transfer, Date.now(), defaults);
    if (paused.paused || w.paused) {
      if (o.untilIdle && running.size === 0) break;
      await sleep(1000, o.signal);
      continue;
    }
    const slots = w.retrieve - running.size;
    let claimed: Job[] = [];
    if (slots > 0 && breakers.source.state() !== 'open' && breakers.target.state() !== 'open') {
      claimed = await store.claimJobs(owner, slots, leaseMs, { states: TRANSFER_STATES });
    }
    const perStudyStore = Math.max(
      1,
      Math.floor(w.store / Math.max(1, Math.min(w.retrieve, running.size + claimed.length))),
    );
    for (const job of claimed) {
      const p = processJob(job, perStudyStore).finally(() => running.delete(job.id));
      running.set(job.id, p);
    }
    progress.running = running.size;
    o.onProgress?.(progress);
    if (running.size === 0 && claimed.length === 0) {
      const counts = await store.countJobsByState();
      const left = TRANSFER_STATES.reduce((n, s) => n + (counts[s] ?? 0), 0);
      if (o.untilIdle || left === 0) break;
      const wait = Math.max(breakers.source.waitMs(), breakers.target.waitMs(), 1000);
      await sleep(Math.min(wait, 5000), o.signal);
      continue;
    }
    if (running.size > 0)
      await Promise.race([...running.values(), sleep(claimed.length ? 50 : 1000, o.signal)]);
  }
  await Promise.allSettled(running.values());
  progress.running = 0;
  return { ...progress, stopped };
}
