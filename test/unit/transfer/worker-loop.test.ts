/**
 * The worker loop with the circuit breaker's gate, on a moved clock: a real state database (SQLite,
 * ManualClock), jobs that each need a real TCP peer, and a peer that is down (nothing listens on its
 * port) for ten minutes of the clock, then comes back. The loop's waits move the clock instead of
 * sleeping. An open breaker must mean waiting for the next trial, not claiming: the claims stay within
 * the studies plus one trial per cool-down, and every job finishes once the peer is back.
 */
import { createServer, connect, type Server } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock, openSqliteStore, type Job, type Store } from '../../../src/state/index.js';
import { CircuitBreaker, breakerGate } from '../../../src/transfer/breaker.js';
import { runWorkerLoop } from '../../../src/transfer/worker-loop.js';
import { freePort } from '../../harness/ports.js';
import { makeTempDir, removeTempDir } from '../../harness/tmp.js';

const reach = (port: number) =>
  new Promise<boolean>((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });

describe('worker loop + breaker gate on a moved clock', () => {
  let dir: string | undefined;
  let store: Store | undefined;
  let server: Server | undefined;
  afterEach(async () => {
    await store?.close();
    server?.close();
    if (dir) removeTempDir(dir);
  });

  it('a ten-minute outage costs one claim per cool-down; the run finishes by itself when the peer returns', async () => {
    dir = makeTempDir('loop');
    const clock = new ManualClock();
    store = await openSqliteStore({
      path: join(dir, 'state.db'),
      clock,
      backoff: { baseMs: 1000, factor: 2, capMs: 5000 },
    });
    const s = store;
    const run = await s.startInventoryRun();
    const uids = Array.from({ length: 20 }, (_, i) => `1.2.826.0.9.${i + 1}`);
    await s.upsertStudies(
      run,
      uids.map((studyUid) => ({ studyUid, patientId: 'P', numSeries: 1, numInstances: 1 })),
    );
    await s.finishInventoryRun(run);
    await s.setScopeDecisions(uids.map((studyUid) => ({ studyUid, inScope: true, ruleId: 'all' })));
    await s.enqueueJobs(uids);

    const port = await freePort(); // nothing listens: the peer is down
    const t0 = clock.now();
    const outageMs = 10 * 60_000;
    const coolDownMs = 30_000;
    const breaker = new CircuitBreaker('target', 2, coolDownMs, () => clock.now());
    const owner = 'test@loop';
    let claims = 0;
    let turns = 0;
    let candidate: number | undefined;
    let done = 0;
    // The peer is down for the first five jobs' worth of work, then for ten minutes of the clock.
    const handler = async (job: Job) => {
      try {
        const p = breaker.allow();
        if (p === 'wait') {
          await s.releaseJob(job.id, owner);
          return;
        }
        if (await reach(port)) {
          breaker.success();
          await s.advanceJob(job.id, owner, 'retrieving');
          await s.releaseJob(job.id, owner);
          done++;
          return;
        }
        breaker.failure();
        if (p === 'trial') await s.releaseJob(job.id, owner);
        else await s.failJob(job.id, owner, 'NO_ANSWER', `job ${job.id}: peer down`, true);
      } finally {
        if (candidate === job.id) candidate = undefined;
      }
    };
    const moved = async (ms: number) => {
      clock.advance(ms);
      if (!server && clock.now() - t0 >= outageMs) {
        server = createServer((c) => c.destroy());
        await new Promise<void>((r) => server!.listen(port, '127.0.0.1', r));
      }
      await new Promise((r) => setTimeout(r, 1));
    };
    const r = await runWorkerLoop<Job>({
      gate: (running) => {
        turns++;
        return breakerGate([breaker], Math.max(0, 2 - running), candidate !== undefined);
      },
      fetch: async (n) => {
        const jobs = await s.claimJobs(owner, n, 60_000, { states: ['pending'] });
        claims += jobs.length;
        if (breaker.state() !== 'closed' && jobs[0]) candidate = jobs[0].id;
        return jobs;
      },
      handler,
      idle: async () => ((await s.countJobsByState()).pending === 0 ? 'stop' : 1000),
      sleep: moved,
    });
    const c = await s.countJobsByState();
    const elapsed = clock.now() - t0;
    console.log('loop', JSON.stringify({ claims, turns, done, elapsedMs: elapsed }));
    expect(r.aborted).toBe(false);
    expect(c.pending).toBe(0);
    expect(done).toBe(20);
    expect(elapsed).toBeGreaterThanOrEqual(outageMs);
    // 20 studies, the 2 failures that open the breaker, one trial per cool-down, a little slack.
    expect(claims).toBeLessThanOrEqual(20 + 2 + outageMs / coolDownMs + 4);
    // The loop waited (until the next trial) instead of spinning: a few turns per cool-down.
    expect(turns).toBeLessThan(120);
    // Nobody was left leased, and the studies kept their attempts (trials spend none).
    expect((await s.listJobs({ limit: 100 })).filter((j) => j.leaseOwner !== null)).toEqual([]);
  }, 60_000);

  it('abort: running jobs get the grace, the rest are handed to abandon (leases released)', async () => {
    const ac = new AbortController();
    const abandoned: number[] = [];
    let started = 0;
    const t0 = Date.now();
    const r = await runWorkerLoop<number>({
      gate: (running) => ({ slots: Math.max(0, 2 - running), waitMs: 1000 }),
      fetch: async (n) => Array.from({ length: n }, () => ++started),
      handler: () => new Promise<void>(() => ac.abort()), // never settles: a peer that hangs
      idle: async () => 1000,
      abandon: async (jobs) => {
        abandoned.push(...jobs);
      },
      signal: ac.signal,
      graceMs: 200,
    });
    expect(r.aborted).toBe(true);
    expect(abandoned).toEqual([1, 2]);
    expect(Date.now() - t0).toBeLessThan(2000);
  });
});
