/**
 * SQLite crash safety: a child process claiming and advancing jobs is SIGKILLed at arbitrary moments;
 * after each kill the database is consistent, nothing is lost or counted twice, and the dead worker's
 * leases become claimable once they expire. Also: two processes claiming from one file never share a job.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  compareStates,
  createStore,
  isTerminal,
  JOB_STATES,
  ManualClock,
  openSqliteStore,
  SqliteDb,
  type JobState,
  type Store,
} from '../../../src/state/index.js';
import { processJob } from './fixtures/migrate-worker.js';

const here = dirname(fileURLToPath(import.meta.url));
const WORKER = join(here, 'fixtures', 'crash-worker.ts');
const ROOT = resolve(here, '..', '..', '..');
const STUDIES = 30;
const PER_STUDY = 6;

interface Child {
  readonly proc: ChildProcessWithoutNullStreams;
  readonly lines: string[];
  /** Resolves when a line matching `pred` has been printed (or rejects when the process ends first). */
  waitFor(pred: (line: string, count: number) => boolean): Promise<void>;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function startWorker(path: string, owner: string, leaseMs: number, mode: 'loop' | 'drain'): Child {
  const proc = spawn(process.execPath, ['--import', 'tsx', WORKER, path, owner, String(leaseMs), mode], {
    cwd: ROOT,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  const waiters: {
    pred: (l: string, n: number) => boolean;
    resolve: () => void;
    reject: (e: Error) => void;
  }[] = [];
  let stderr = '';
  proc.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  createInterface({ input: proc.stdout }).on('line', (line) => {
    lines.push(line);
    for (let i = waiters.length - 1; i >= 0; i--) {
      if (waiters[i]!.pred(line, lines.length)) waiters.splice(i, 1)[0]!.resolve();
    }
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((res) =>
    proc.on('exit', (code, signal) => {
      for (const w of waiters.splice(0))
        w.reject(new Error(`worker ${owner} exited (${code ?? signal}) early: ${stderr.slice(-2000)}`));
      res({ code, signal });
    }),
  );
  return {
    proc,
    lines,
    exited,
    waitFor: (pred) =>
      new Promise<void>((resolve, reject) => {
        if (lines.some((l, i) => pred(l, i + 1))) return resolve();
        if (proc.exitCode !== null || proc.signalCode !== null)
          return reject(new Error(`worker ${owner} already exited: ${stderr.slice(-2000)}`));
        waiters.push({ pred, resolve, reject });
      }),
  };
}

async function seed(path: string, maxAttempts: number): Promise<void> {
  const store = await openSqliteStore({ path });
  const run = await store.startInventoryRun();
  const uids = Array.from({ length: STUDIES }, (_, i) => `1.2.826.0.9.${i + 1}`);
  await store.upsertStudies(
    run,
    uids.map((studyUid, i) => ({
      studyUid,
      studyDate: `2024${String((i % 12) + 1).padStart(2, '0')}01`,
      numInstances: PER_STUDY,
    })),
  );
  await store.upsertInstances(
    run,
    uids.flatMap((studyUid, i) =>
      Array.from({ length: PER_STUDY }, (_, k) => ({
        sopInstanceUid: `1.2.826.0.9.${i + 1}.1.${k + 1}`,
        seriesUid: `1.2.826.0.9.${i + 1}.1`,
        studyUid,
        sizeBytes: 1000,
      })),
    ),
  );
  await store.finishInventoryRun(run);
  await store.setScopeDecisions(uids.map((studyUid) => ({ studyUid, inScope: true, ruleId: 'ALL' })));
  await store.enqueueJobs(uids, { maxAttempts });
  await store.close();
}

/** Everything that must hold in the database whatever moment the writer died at. */
async function checkConsistent(db: SqliteDb, store: Store): Promise<void> {
  expect(db.connection.pragma('integrity_check', { simple: true })).toBe('ok');
  const count = async (sql: string) => Number((await db.get<{ n: number }>(sql))!.n);
  // no lost rows, no duplicates
  expect(await count('SELECT COUNT(*) AS n FROM studies')).toBe(STUDIES);
  expect(await count('SELECT COUNT(*) AS n FROM instances')).toBe(STUDIES * PER_STUDY);
  expect(await count('SELECT COUNT(*) AS n FROM jobs')).toBe(STUDIES);
  expect(await count('SELECT COUNT(DISTINCT study_uid) AS n FROM jobs')).toBe(STUDIES);
  expect(Object.values(await store.countJobsByState()).reduce((a, b) => a + b, 0)).toBe(STUDIES);

  for (const job of await store.listJobs({ limit: 1000 })) {
    expect(JOB_STATES).toContain(job.state);
    expect((job.leaseOwner === null) === (job.leaseExpiresAt === null)).toBe(true);
    // the state and the audit event recording the move into it committed together, never backwards
    const moves = (await store.listEvents({ jobId: job.id, kind: 'job.state' })).map(
      (e) => (e.detail as { to: JobState }).to,
    );
    expect(moves.at(-1) ?? 'pending').toBe(job.state);
    for (let i = 1; i < moves.length; i++) expect(compareStates(moves[i - 1]!, moves[i]!)).toBeLessThan(0);
    // a phase is only ever entered after the previous phase's records were committed
    const inst = await store.listInstances(job.studyUid);
    expect(inst).toHaveLength(PER_STUDY);
    if (compareStates(job.state, 'retrieved') >= 0)
      expect(inst.every((i) => i.receivedAt !== null)).toBe(true);
    if (compareStates(job.state, 'stored') >= 0) expect(inst.every((i) => i.storedAt !== null)).toBe(true);
    if (job.state === 'verified') expect(inst.every((i) => i.verifyOutcome === 'verified')).toBe(true);
  }
  // nothing confirmed was stored (or received) twice: each instance is in exactly one throughput sample
  const stored = await count('SELECT COUNT(*) AS n FROM instances WHERE stored_at IS NOT NULL');
  expect(
    await count("SELECT COALESCE(SUM(instances), 0) AS n FROM throughput_samples WHERE phase = 'store'"),
  ).toBe(stored);
  const received = await count('SELECT COUNT(*) AS n FROM instances WHERE received_at IS NOT NULL');
  expect(
    await count("SELECT COALESCE(SUM(instances), 0) AS n FROM throughput_samples WHERE phase = 'retrieve'"),
  ).toBe(received);
}

describe('SQLite state database under SIGKILL', () => {
  let dir: string;
  let path: string;
  const children: Child[] = [];
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'pacshift-crash-'));
    path = join(dir, 'state.db');
  });
  afterEach(async () => {
    for (const c of children.splice(0))
      if (c.proc.exitCode === null && c.proc.signalCode === null) c.proc.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  it('loses nothing, stores nothing twice, and re-claims a killed worker’s expired leases', async () => {
    await seed(path, 10);
    const LEASE = 1_500;
    // Kill after a varying number of committed steps, plus a few ms so the kill lands mid-work.
    for (const [round, after] of [17, 45, 83].entries()) {
      const w = startWorker(path, `crashy-${round}`, LEASE, 'loop');
      children.push(w);
      await w.waitFor((l) => l === 'ready');
      w.proc.stdin.end('go\n');
      await w.waitFor((l, n) => l.startsWith('step ') && n >= after);
      await new Promise((r) => setTimeout(r, Math.floor(Math.random() * 6)));
      w.proc.kill('SIGKILL');
      expect((await w.exited).signal).toBe('SIGKILL');

      const db = new SqliteDb({ path });
      const store = createStore(db);
      await checkConsistent(db, store);
      await store.close();
    }

    // Restart: a dead worker's lease is not claimable before it expires, then it is. Which killed
    // workers still hold a lease depends on timing (a later worker may finish before an earlier
    // worker's lease runs out and then re-claim it), so leases are split by expiry at restart time.
    const clock = new ManualClock(Date.now());
    const db = new SqliteDb({ path });
    const store = createStore(db, { clock });
    await checkConsistent(db, store);
    const held = (await store.listJobs({ limit: 1000 })).filter((j) => j.leaseOwner !== null);
    expect(held.length).toBeGreaterThan(0);
    for (const j of held) expect(['crashy-0', 'crashy-1', 'crashy-2']).toContain(j.leaseOwner);
    // each worker claims one job at a time, so each dead worker holds at most one lease
    expect(new Set(held.map((j) => j.leaseOwner)).size).toBe(held.length);
    const live = held.filter((j) => j.leaseExpiresAt! > clock.now());
    const expired = held.filter((j) => j.leaseExpiresAt! <= clock.now());
    const unleased = (await store.listJobs({ limit: 1000 })).filter(
      (j) => j.leaseOwner === null && !isTerminal(j.state),
    );
    const early = await store.claimJobs('restarted', 1000, 60_000);
    expect(early.map((j) => j.id).sort()).toEqual([...unleased, ...expired].map((j) => j.id).sort());
    if (live.length > 0) clock.set(Math.max(...live.map((j) => j.leaseExpiresAt!)));
    const late = await store.claimJobs('restarted', 1000, 60_000);
    expect(late.map((j) => j.id).sort()).toEqual(live.map((j) => j.id).sort());
    for (const j of [...late, ...early.filter((e) => expired.some((x) => x.id === e.id))])
      expect(j).toMatchObject({ leaseOwner: 'restarted', lastErrorCode: 'LEASE_EXPIRED' });

    // Finish the migration from where each job was left; every instance is stored exactly once overall.
    for (const job of [...early, ...late])
      expect(await processJob(store, job, 'restarted', 60_000, () => undefined)).toBe(true);
    await checkConsistent(db, store);
    expect(await store.countJobsByState()).toMatchObject({ verified: STUDIES });
    expect(await store.isDone()).toMatchObject({ done: true, clean: true });
    expect((await store.throughput(24 * 3_600_000)).instances).toBe(STUDIES * PER_STUDY);
    await store.close();
  });

  it('two processes claiming from one file never take the same job', async () => {
    await seed(path, 5);
    const workers = ['proc-a', 'proc-b'].map((o) => startWorker(path, o, 60_000, 'drain'));
    children.push(...workers);
    await Promise.all(workers.map((w) => w.waitFor((l) => l === 'ready')));
    for (const w of workers) w.proc.stdin.end('go\n');
    const ends = await Promise.all(workers.map((w) => w.exited));
    expect(ends.map((e) => e.code)).toEqual([0, 0]);

    const claimedBy = workers.map((w) =>
      w.lines.filter((l) => l.startsWith('claim ')).map((l) => Number(l.split(' ')[1])),
    );
    expect(claimedBy.every((ids) => ids.length > 0)).toBe(true); // both really took part
    const all = claimedBy.flat();
    expect(all).toHaveLength(STUDIES);
    expect(new Set(all).size).toBe(STUDIES);

    const db = new SqliteDb({ path });
    const store = createStore(db);
    await checkConsistent(db, store);
    expect(await store.listEvents({ kind: 'job.claimed', limit: 1000 })).toHaveLength(STUDIES);
    expect(await store.isDone()).toMatchObject({ done: true, clean: true });
    await store.close();
  });
});
