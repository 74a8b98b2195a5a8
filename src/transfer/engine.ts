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
  reclaimDeadOwners,
} from '../state/index.js';
import { type Prepared, TransformStep } from '../transform/apply.js';
import { CircuitBreaker, type Permit, breakerGate } from './breaker.js';
import { type SendReport, sendStudy } from './send.js';
import { dimseSource } from './sources/dimse.js';
import type { Source, SourceRetrieveReport } from './sources/source.js';
import { dimseTarget } from './targets/dimse.js';
import type { Target } from './targets/target.js';
import { type Spool, type SpooledInstance, isTransformedPath } from './spool.js';
import {
  admitStudy,
  failLargerThanSpool,
  recordSpoolProblems,
  releaseForRoom,
  releaseStored,
} from './spool-ledger.js';
import { decideWindow } from './windows.js';
import { type Gate, runWorkerLoop } from './worker-loop.js';

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
  /** How long a claimed study is ours without a heartbeat (extended every third of it while working). */
  leaseMs?: number;
  /** Stop when no job is runnable now (jobs waiting for back-off are left for the next run). */
  untilIdle?: boolean;
  /** Aborted (SIGTERM, SIGINT): no new job starts; running ones get `graceMs`, then their leases are released. */
  signal?: AbortSignal;
  /** Default 2 s. */
  graceMs?: number;
  /** Waits of the loop (tests pass one that moves a ManualClock instead of sleeping). */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
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
/** What may be claimed while the spool waits for room: work that needs none (and frees it). */
const ROOMLESS_STATES: JobState[] = ['retrieved', 'storing'];

/**
 * How long a claimed study is ours without a heartbeat; a live worker extends it every third of it.
 * Short, so that another host's worker takes a dead one's studies soon; a restart on the same host
 * takes its dead predecessor's at once (reclaimDeadOwners).
 */
export const DEFAULT_LEASE_MS = 30_000;

type Breakers = { source: CircuitBreaker; target: CircuitBreaker };

/** What the log calls a peer: "target NEWPACS@10.0.0.2:104". */
function peerName(role: 'source' | 'target', p: Plan['source'] | Plan['target']): string {
  if (p.type === 'dimse') return `${role} ${p.calledAe}@${p.host}:${p.port}`;
  if (p.type === 'folder') return `${role} folder ${p.path}`;
  return `${role} ${p.url}`;
}

const clockTime = (ms: number) => new Date(ms).toISOString().slice(11, 19);

/**
 * Tells the breaker a job's verdict on its peer and says so in the log when the peer goes down (which
 * peer, since when, next try) and when it comes back.
 */
function verdict(b: CircuitBreaker, name: string, ok: boolean, cause: string, log: (m: string) => void) {
  if (ok) {
    const since = b.since();
    b.success();
    if (since !== undefined) log(`${name} reachable again`);
    return;
  }
  if (!b.failure()) return;
  log(
    `${name} unreachable since ${clockTime(b.since()!)} (${b.failuresInARow()} failure(s) in a row; last: ${cause}); next try ${clockTime(b.nextTrialAt()!)}`,
  );
}

export async function runEngine(
  o: EngineOptions,
): Promise<EngineProgress & { stopped?: string; aborted?: boolean }> {
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
  const leaseMs = o.leaseMs ?? DEFAULT_LEASE_MS;
  const now = () => store.clock.now();
  const cb = plan.transfer.circuitBreaker;
  const breakers: Breakers = {
    source: new CircuitBreaker('source', cb.failures, cb.coolDown, now),
    target: new CircuitBreaker('target', cb.failures, cb.coolDown, now),
  };
  const names = { source: peerName('source', plan.source), target: peerName('target', plan.target) };
  const defaults = {
    retrieve:
      plan.transfer.concurrency.retrieve ?? (plan.source.type === 'dimse' ? plan.source.maxAssociations : 2),
    store:
      plan.transfer.concurrency.store ?? (plan.target.type === 'dimse' ? plan.target.maxAssociations : 4),
  };
  const progress: EngineProgress = { running: 0, finished: 0, failed: 0, instancesStored: 0, bytesStored: 0 };
  const heartbeats = new Map<number, NodeJS.Timeout>();
  let stopped: string | undefined;
  let storeAssociations = 1;
  let win = { running: 0, retrieve: 1, store: 1 };
  /** A job started while a breaker was not closed (a trial candidate): one at a time. */
  let candidate: number | undefined;

  const processJob = async (job: Job): Promise<void> => {
    heartbeats.set(
      job.id,
      setInterval(
        () => {
          void store.extendLease(job.id, owner, leaseMs).catch(() => undefined);
        },
        Math.max(1000, leaseMs / 3),
      ),
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
      clearInterval(heartbeats.get(job.id));
      heartbeats.delete(job.id);
      if (candidate === job.id) candidate = undefined;
      spool.finish(job.studyUid);
    }
  };

  const advance = async (job: Job, to: JobState) => {
    const r = await store.advanceJob(job.id, owner, to);
    if (!r.ok) throw new Error(`job ${job.id}: cannot advance to ${to}: ${JSON.stringify(r.error)}`);
    return r.value;
  };

  /**
   * A peer is needed: 'go', or 'trial' (the one job that tries a peer found down), or the job is given
   * back (no attempt spent: the peer is down, not the study) and the worker loop waits for the breaker.
   */
  const permit = async (job: Job, b: CircuitBreaker): Promise<Permit> => {
    const p = b.allow();
    if (p === 'wait') await store.releaseJob(job.id, owner);
    return p;
  };

  /** A trial that failed without anything passing: the peer is still down; the study keeps its attempts. */
  const trialFailed = async (job: Job, p: Permit, nothingPassed: boolean): Promise<boolean> => {
    if (p !== 'trial' || !nothingPassed) return false;
    await store.releaseJob(job.id, owner);
    return true;
  };

  const migrateStudy = async (job: Job, associations: number): Promise<'done' | 'retry'> => {
    let state = job.state;
    if (compareStates(state, 'retrieved') < 0) {
      const r = await retrieveStep(job, state);
      if (r === 'retry') return r;
      state = r;
    }
    if (compareStates(state, 'stored') < 0) {
      const r = await storeStep(job, state, associations);
      if (r === 'retry') return r;
    }
    // Verification claims `stored` jobs itself; this worker is done with the study.
    await store.releaseJob(job.id, owner);
    return 'done';
  };

  /** Retrieve what the spool does not hold yet; the job ends `retrieved`, or fails/retries with cause. */
  const retrieveStep = async (job: Job, from: JobState): Promise<JobState | 'retry'> => {
    const studyUid = job.studyUid;
    // Admission by free spool space: a study that does not fit waits, without an attempt (spool-room.ts).
    if (!(await admitStudy(store, spool, job))) {
      await store.releaseJob(job.id, owner);
      return 'retry';
    }
    if (from === 'pending') await advance(job, 'retrieving');
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
      const p = await permit(job, breakers.source);
      if (p === 'wait') return 'retry';
      let rep: SourceRetrieveReport;
      try {
        rep = await source.retrieveStudy(spool, {
          studyUid,
          expected,
          quietMs: plan.transfer.quietPeriod,
          imageRetries: 2,
          // Part of the study arrived before (an earlier attempt, a killed run): ask only for the rest.
          wholeStudy: unreceived.length === everything && already.length === 0,
        });
      } finally {
        // No verdict yet (a throw, a stop): the next job may try; the verdict below settles it otherwise.
        if (p === 'trial') breakers.source.abandon();
      }
      if (rep.stop) throw new StopRun(`source: ${rep.stop}`);
      arrived = arrived.concat(rep.arrived);
      unlisted = rep.unlisted;
      final = rep.final;
      finalStatus = rep.finalStatus;
      missing = rep.missing;
      // Arrivals the spool could not read: recorded against the study, and the cause of their absence.
      const problems = await recordSpoolProblems(store, spool, job.id);
      for (const line of problems.lines) log(line);
      causes = new Map([...(rep.causes ?? []), ...problems.causes]);
      // Our listener refused instances for want of room: not the source's failure; free the study, wait.
      const refused = spool.takeRefusals(missing);
      if (refused.size > 0) {
        // Alone and still refused: the study is larger than the spool. What arrived is recorded and
        // stored (that frees the spool), the rest asked for next time; else what arrived is freed.
        const alone = spool.room.onlyAdmitted(studyUid);
        const byLimit = spool.refusedByLimit(refused.keys());
        // Alone, in an empty spool, nothing arrived, refused by the limit: an instance is larger than the
        // whole spool and would be refused every round. The study fails with that cause (no endless retry).
        if (alone && byLimit && arrived.length === 0 && unlisted.length === 0 && spool.usedBytes === 0) {
          log(await failLargerThanSpool(store, spool, job, owner, refused));
          return 'retry';
        }
        if (alone) await storePart(job, arrived, unlisted);
        log(await releaseForRoom(store, spool, job, owner, refused, alone ? [] : [...arrived, ...unlisted]));
        return 'retry';
      }
      const f = rep.failure;
      verdict(breakers.source, names.source, !f, f ? `${f.kind}: ${f.message}` : '', log);
      if (f && arrived.length === 0 && unlisted.length === 0) {
        if (await trialFailed(job, p, true)) return 'retry';
        await store.failJob(job.id, owner, f.kind, `retrieve ${studyUid}: ${f.kind}: ${f.message}`, true);
        return 'retry';
      }
      if (rep.backoff && missing.length > 0) {
        await recordArrivals(job, arrived, unlisted);
        const code = rep.backoffStatus ?? 0xa702;
        await store.failJob(job.id, owner, code, `retrieve ${studyUid}: ${rep.backoff}`, true);
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
      await recordMissing(job, again, causes);
      return 'retry';
    }
    return (await advance(job, 'retrieved')).state;
  };

  /**
   * A study larger than the spool: what arrived is recorded and what of it is spooled is stored now
   * (the job stays `retrieving`); what the target does not take stays spooled for the store step.
   */
  const storePart = async (job: Job, arrived: SpooledInstance[], unlisted: SpooledInstance[]) => {
    await recordArrivals(job, arrived, unlisted);
    if (breakers.target.state() !== 'closed') return;
    const quarantined = new Set((await store.listQuarantine(job.studyUid)).map((q) => q.sopInstanceUid));
    const items = (await store.listInstances(job.studyUid, 'unstored'))
      .filter((i) => !quarantined.has(i.sopInstanceUid))
      .flatMap((i) => spool.recordedCopy(i.sopInstanceUid, i.spoolPath) ?? []);
    const rep = await sendStudy(target, store, spool, job.id, await transformed(job, items), {
      associations: storeAssociations,
      keepAfterStore: plan.spool.keepAfterStore,
    });
    progress.instancesStored += rep.stored;
    progress.bytesStored += rep.bytes;
    if (rep.stop) throw new StopRun(`target: ${rep.stop}`);
    const first = rep.retry[0];
    verdict(breakers.target, names.target, !first, first?.cause ?? '', log);
  };

  const recordMissing = async (job: Job, missing: string[], causes?: ReadonlyMap<string, string>) => {
    const studyUid = job.studyUid;
    await store.recordInstanceFailures(
      missing.map((u) => ({
        sopInstanceUid: u,
        studyUid,
        phase: 'retrieve' as const,
        category: 'not-delivered',
        cause:
          causes?.get(u) ?? 'listed by the inventory, not delivered by the source after IMAGE-level retries',
      })),
      { jobId: job.id },
    );
    const msg = `retrieve ${studyUid}: ${missing.length} instance(s) not delivered`;
    await store.failJob(job.id, owner, 'NOT_DELIVERED', msg, true);
  };

  /** The spooled copies of the study's unstored, unquarantined instances (fetched again when lost). */
  const spooledToSend = async (job: Job): Promise<SpooledInstance[] | 'retry'> => {
    const studyUid = job.studyUid;
    const quarantined = new Set((await store.listQuarantine(studyUid)).map((q) => q.sopInstanceUid));
    const todo = (await store.listInstances(studyUid, 'unstored')).filter(
      (i) => !quarantined.has(i.sopInstanceUid),
    );
    const items: SpooledInstance[] = [];
    const lost: string[] = [];
    for (const i of todo) {
      const copy = spool.recordedCopy(i.sopInstanceUid, i.spoolPath);
      if (copy) items.push(copy);
      else lost.push(i.sopInstanceUid);
    }
    if (lost.length === 0) return items;
    // Received before, but not in the spool any more (spool removed?): fetch them again.
    const byUid = new Map(todo.map((i) => [i.sopInstanceUid, i]));
    const rep: SourceRetrieveReport = await source.retrieveStudy(spool, {
      studyUid,
      expected: new Map(
        lost.map((u) => [u, { sopClassUid: byUid.get(u)!.sopClassUid, seriesUid: byUid.get(u)!.seriesUid }]),
      ),
      quietMs: plan.transfer.quietPeriod,
      imageRetries: 1,
      wholeStudy: false,
    });
    if (rep.stop) throw new StopRun(`source: ${rep.stop}`);
    items.push(...rep.arrived);
    if (rep.missing.length === 0) return items;
    const msg = `store ${studyUid}: ${rep.missing.length} spooled instance(s) lost and not delivered again`;
    await store.failJob(job.id, owner, 'NOT_DELIVERED', msg, true);
    return 'retry';
  };

  /**
   * Spooled originals not transformed yet (a run killed between record and rename, copies fetched
   * again): transformed now; nothing goes out uncorrected.
   */
  const transformed = async (job: Job, items: SpooledInstance[]): Promise<SpooledInstance[]> => {
    if (!o.transform?.active || items.every((s) => isTransformedPath(s.path))) return items;
    const prepared: Prepared[] = [];
    for (const s of items) prepared.push(await o.transform.prepare(s, job.studyUid));
    const toSend = await recordPrepared(
      job,
      prepared.filter((p) => p.outcome === 'changed' || p.outcome === 'failed'),
    );
    toSend.push(
      ...prepared.filter((p) => p.outcome === 'unchanged' || p.outcome === 'already').map((p) => p.original),
    );
    return toSend;
  };

  /** Store what is not stored yet; the job ends `stored`, or retries with cause. */
  const storeStep = async (job: Job, from: JobState, associations: number): Promise<JobState | 'retry'> => {
    const studyUid = job.studyUid;
    if (from === 'retrieved') await advance(job, 'storing');
    const items = await spooledToSend(job);
    if (items === 'retry') return items;
    const toSend = await transformed(job, items);
    const p = await permit(job, breakers.target);
    if (p === 'wait') return 'retry';
    let rep: SendReport;
    try {
      rep = await sendStudy(target, store, spool, job.id, toSend, {
        associations,
        keepAfterStore: plan.spool.keepAfterStore,
      });
    } finally {
      if (p === 'trial') breakers.target.abandon();
    }
    progress.instancesStored += rep.stored;
    progress.bytesStored += rep.bytes;
    if (rep.stop) throw new StopRun(`target: ${rep.stop}`);
    const first = rep.retry[0];
    verdict(breakers.target, names.target, !first, first?.cause ?? '', log);
    if (first) {
      if (await trialFailed(job, p, rep.stored === 0 && rep.quarantined === 0)) return 'retry';
      await store.failJob(
        job.id,
        owner,
        first.status === 0xffff ? (first.code ?? 'NO_ANSWER') : first.status,
        `store ${studyUid}: ${rep.retry.length} instance(s) to retry (${first.cause})`,
        true,
      );
      return 'retry';
    }
    return (await advance(job, 'stored')).state;
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

  /** How many jobs may start now: time windows, pause, and the breakers (one trial while a peer is down). */
  const gate = async (running: number): Promise<Gate> => {
    if (stopped) return { stop: true };
    // Unreadable arrivals outside any retrieve (found at start, strays): recorded by SOP Instance UID.
    if (running === 0) for (const line of (await recordSpoolProblems(store, spool)).lines) log(line);
    const paused = await store.isPaused();
    const w = decideWindow(plan.transfer, Date.now(), defaults);
    if (paused.paused || w.paused)
      return o.untilIdle && running === 0 ? { stop: true } : { slots: 0, waitMs: 1000 };
    win = { running, retrieve: w.retrieve, store: w.store };
    const free = Math.max(0, w.retrieve - running);
    // A peer down: sleep until its next trial (on the store's clock), then start one job to try it.
    const g = breakerGate([breakers.source, breakers.target], free, candidate !== undefined);
    if (g.slots === 0 && running === 0 && o.untilIdle) return { stop: true };
    return { slots: g.slots, waitMs: Math.min(g.waitMs, 60_000) };
  };

  const fetch = async (n: number): Promise<Job[]> => {
    const states = spool.waitingForRoom ? ROOMLESS_STATES : TRANSFER_STATES;
    const jobs = await store.claimJobs(owner, n, leaseMs, { states });
    // The window's store associations shared by the studies running at once.
    const studies = Math.max(1, Math.min(win.retrieve, win.running + jobs.length));
    storeAssociations = Math.max(1, Math.floor(win.store / studies));
    const closed = breakers.source.state() === 'closed' && breakers.target.state() === 'closed';
    if (!closed && jobs[0]) candidate = jobs[0].id;
    return jobs;
  };

  /** Studies held by a dead process of this host (a killed predecessor) are ours to take now. */
  const reclaim = async () => {
    const r = await reclaimDeadOwners(store);
    if (r.jobs > 0)
      log(`${r.jobs} stud(y/ies) held by a process that is gone (${r.owners.join(', ')}): taken over now`);
  };

  const idle = async (): Promise<'stop' | number> => {
    await reclaim();
    const counts = await store.countJobsByState();
    const left = TRANSFER_STATES.reduce((n, s) => n + (counts[s] ?? 0), 0);
    if (left === 0) return 'stop';
    // A study waits for spool room (at most WAIT_RECHECK_MS): not idle, even with untilIdle.
    if (spool.waitingForRoom) return 1000;
    if (o.untilIdle) return 'stop';
    const wait = Math.max(breakers.source.waitMs(), breakers.target.waitMs(), 1000);
    return Math.min(wait, 5000);
  };

  await reclaim();
  // Killed after recording instances stored, before deleting their files: no job sends them again.
  const freed = await releaseStored(store, spool, plan.spool.keepAfterStore);
  if (freed > 0) log(`${freed} spooled instance(s) stored by an earlier run: freed from the spool`);
  const loop = await runWorkerLoop<Job>({
    gate,
    fetch,
    handler: processJob,
    idle,
    signal: o.signal,
    sleep: o.sleep,
    graceMs: o.graceMs,
    onError: (job, e) => log(`job ${job.id} study ${job.studyUid}: ${(e as Error).stack ?? e}`),
    onTurn: (running) => {
      progress.running = running;
      o.onProgress?.(progress);
    },
    // Stopped (SIGTERM, SIGINT) with jobs still on the wire: their leases are given back at once, so
    // the next run (or another worker) takes them without waiting for expiry.
    abandon: async (jobs) => {
      for (const job of jobs) {
        clearInterval(heartbeats.get(job.id));
        heartbeats.delete(job.id);
        await store.releaseJob(job.id, owner).catch(() => undefined);
      }
    },
  });
  progress.running = 0;
  return { ...progress, stopped, ...(loop.aborted ? { aborted: true } : {}) };
}
