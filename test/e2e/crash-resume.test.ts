/**
 * Crash and resume: `pacshift migrate` (a child process, the real CLI) is killed with SIGKILL at 6
 * random moments (seeded: the seed is printed; PACSHIFT_CRASH_SEED=<n> replays the same moments) and
 * started again each time, then once more to the end. The moments are random amounts of work (audit
 * events), so they fall on start-up/inventory, transfer and verification whatever the machine's speed.
 * Afterwards every in-scope instance must be verified, present at the target exactly once (read from
 * the target archive's folder, not from pacshift), and the state free of contradictions: one job per
 * study, nothing left leased or half-way, ledger counts equal to the instance rows, nothing orphaned in
 * the spool (nor in its folder of copies retrieved back for verification).
 *
 * Built-in archives on both sides (no Debian package needed) with the demo generator's data, one
 * association each way; leases of 5 s (a killed run's jobs are claimed again once they expire; every
 * expiry counts as an attempt, so the plan allows 30).
 */
import { readdir } from 'node:fs/promises';
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startArchive, type Archive } from '../../src/archive/archive.js';
import { generateDemoArchive, type DemoManifest } from '../../src/demo/generate.js';
import { openMigration } from '../../src/run/context.js';
import { seededRandom } from '../../src/verify/sample.js';
import { accountFor, allLedger, folderHoldings, stateContradictions } from '../harness/accounting.js';
import { e2eDir, runMigrate, startMigrate, writePlan } from '../harness/migration.js';
import { freePort } from '../harness/ports.js';

const KILLS = 6;
const seed = Number(process.env.PACSHIFT_CRASH_SEED ?? Math.floor(Math.random() * 2 ** 31));

/** Polls the state database (read-only) until `sql` returns a non-zero count. */
async function waitForState(dbPath: string, sql: string, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      const db = new Database(dbPath, { readonly: true, fileMustExist: true });
      try {
        const row = db.prepare(sql).get() as { n: number };
        if (row.n > 0) return true;
      } finally {
        db.close();
      }
    } catch {
      // not created yet, or busy: look again
    }
    await new Promise((r) => setTimeout(r, 25));
  }
  return false;
}

/** Audit events recorded so far (0 before the database exists). */
async function eventCount(dbPath: string): Promise<number> {
  try {
    const db = new Database(dbPath, { readonly: true, fileMustExist: true });
    try {
      return (db.prepare('SELECT COUNT(*) AS n FROM events').get() as { n: number }).n;
    } finally {
      db.close();
    }
  } catch {
    return 0;
  }
}

describe('migrate killed with SIGKILL at random moments, then resumed', () => {
  let work: ReturnType<typeof e2eDir>;
  let source: Archive;
  let target: Archive;
  let manifest: DemoManifest;
  let planPath: string;

  beforeEach(async () => {
    work = e2eDir('e2e-crash');
    const localPort = await freePort();
    manifest = await generateDemoArchive(join(work.dir, 'source-archive'), {
      studiesPerPatient: 12,
      seed: 7,
    });
    const us = { PACSHIFT: { host: '127.0.0.1', port: localPort } };
    source = await startArchive({
      dir: manifest.dir,
      port: 0,
      host: '127.0.0.1',
      aeTitle: 'OLDPACS',
      peers: us,
    });
    target = await startArchive({
      dir: join(work.dir, 'target-archive'),
      port: 0,
      host: '127.0.0.1',
      aeTitle: 'NEWPACS',
      peers: us,
    });
    planPath = writePlan({
      dir: work.dir,
      local: { port: localPort },
      source: { host: '127.0.0.1', port: source.port, calledAe: 'OLDPACS', maxAssociations: 1 },
      target: { host: '127.0.0.1', port: target.port, calledAe: 'NEWPACS', maxAssociations: 1 },
      extra: {
        transfer: { quietPeriod: '1s', retries: { maxAttempts: 30, backoff: { base: '200ms', cap: '1s' } } },
        verify: { level: 'pixels', sample: { percent: 100, minStudies: 0, seed: 1 } },
      },
    });
  }, 120_000);

  afterEach(async () => {
    await source?.close();
    await target?.close();
    work?.remove();
  });

  it(`every in-scope instance verified, present once at the target, no contradictions (seed ${seed})`, async () => {
    console.log(`crash test seed ${seed} (replay: PACSHIFT_CRASH_SEED=${seed})`);
    const random = seededRandom(seed);
    const logFile = join(work.dir, 'migrate.log');
    const moments: string[] = [];
    /** Where the killed run left the jobs, e.g. "pending 12, storing 2, verified 20". */
    const jobsAt = async () => {
      const ctx = await openMigration(planPath);
      try {
        const c = await ctx.store.countJobsByState();
        return (
          Object.entries(c)
            .filter(([, n]) => n > 0)
            .map(([k, n]) => `${k} ${n}`)
            .join(', ') || 'no jobs yet'
        );
      } finally {
        await ctx.close();
      }
    };
    // Random moments measured in work done, not in seconds (the machine's speed varies): the first
    // kill at a random time from start-up (loading, inventory), each further one after a random number
    // of new audit events (a study makes ~10: claims, state changes, verification), plus up to 300 ms.
    const dbPath = join(work.dir, 'state.sqlite');
    const eventsPerRun = manifest.studies * 10;
    let kills = 0;
    for (let i = 0; kills < KILLS && i < KILLS * 3; i++) {
      const first = i === 0;
      // Since a restart takes a dead predecessor's leases at once (no wait for --lease), a run is short:
      // a first kill up to 3.5 s in and steps up to 1.4× a run's events over the kills let a run finish
      // before the fifth kill (3 kills, then "finished before 103 events"). Both are drawn smaller: a
      // first kill within 1.8 s, steps up to one run's events over the kills (seeds 1711113670, 42 and
      // 7777: six kills each, from start-up to verification).
      const delayMs = Math.round(300 + random() * 1500);
      const step = Math.round(3 + (random() * eventsPerRun) / KILLS);
      const extraMs = Math.round(random() * 300);
      const before = await eventCount(dbPath);
      const child = startMigrate(planPath, ['--lease', '5s'], { logFile });
      let exited = false;
      const r = child.exited.then((x) => {
        exited = true;
        return x;
      });
      if (first) await Promise.race([r, new Promise((res) => setTimeout(res, delayMs))]);
      else {
        while (!exited && (await eventCount(dbPath)) < before + step)
          await new Promise((res) => setTimeout(res, 20));
        if (!exited) await new Promise((res) => setTimeout(res, extraMs));
      }
      child.kill('SIGKILL');
      const end = await r;
      const when = first ? `${delayMs} ms after start` : `${step} events + ${extraMs} ms`;
      if (end.signal === 'SIGKILL') {
        kills++;
        moments.push(`${when} (${await jobsAt()})`);
      } else moments.push(`finished (${String(end.code)}) before ${when}`);
      if (end.signal !== 'SIGKILL' && end.code === 0) break; // done before we could kill it: the final run checks
    }
    console.log(`kills:\n  ${moments.join('\n  ')}`);
    expect(kills).toBeGreaterThanOrEqual(5);

    const last = await runMigrate(planPath, ['--lease', '5s'], { logFile, timeoutMs: 300_000 });
    const ctx = await openMigration(planPath);
    try {
      const done = await ctx.store.isDone();
      const targetHoldings = await folderHoldings(target.storeDir);
      const inventoried: string[] = [];
      for (const row of await allLedger(ctx.store)) {
        for (const i of await ctx.store.listInstances(row.studyUid, 'all'))
          inventoried.push(i.sopInstanceUid);
      }
      const acc = await accountFor(ctx.store, inventoried, targetHoldings);
      const jobs = await ctx.store.countJobsByState();
      console.log(
        'crash/resume',
        JSON.stringify({
          seed,
          generated: manifest.instances,
          inventoried: inventoried.length,
          verified: acc.verified.length,
          withCause: acc.withCause.length,
          unaccounted: acc.unaccounted.length,
          targetFiles: [...targetHoldings.values()].reduce((a, b) => a + b, 0),
          finalRun: { exit: last.code, seconds: last.seconds },
          jobs,
        }),
      );
      if (!done.done || acc.verified.length !== inventoried.length) console.log(last.log.slice(-6000));
      expect(done.reasons).toEqual([]);
      expect(acc.withCause).toEqual([]);
      expect(acc.unaccounted).toEqual([]);
      expect(acc.verifiedButWrong).toEqual([]);
      expect(acc.verified.length).toBe(inventoried.length);
      // Everything the generator wrote as an instance was inventoried (its corrupt file is not one).
      expect(inventoried.length).toBe(manifest.instances);
      const spool = ctx.plan.spool.dir;
      const problems = await stateContradictions(
        ctx.store,
        targetHoldings,
        { incoming: join(spool, 'incoming'), quarantine: join(spool, 'quarantine') },
        { finished: true },
      );
      const verifyLeftovers = await readdir(join(spool, 'verify')).catch(() => [] as string[]);
      expect({ problems, verifyLeftovers }).toEqual({ problems: [], verifyLeftovers: [] });
      expect(last.code).toBe(0);
    } finally {
      await ctx.close();
    }
  }, 600_000);

  it('killed while verifying its last studies: the restarted run takes over their leases (its predecessor is gone) and verifies them', async () => {
    const logFile = join(work.dir, 'migrate-verify.log');
    const child = startMigrate(planPath, ['--lease', '5s'], { logFile });
    // The last studies being verified: the restarted run has nothing else to do meanwhile.
    const caught = await waitForState(
      join(work.dir, 'state.sqlite'),
      "SELECT (SELECT COUNT(*) FROM jobs WHERE state = 'verifying') * (SELECT COUNT(*) = 0 FROM jobs WHERE state IN ('pending', 'retrieving', 'retrieved', 'storing', 'stored')) AS n",
      120_000,
    );
    child.kill('SIGKILL');
    await child.exited;
    expect(caught).toBe(true);
    const t0 = Date.now();
    const last = await runMigrate(planPath, ['--lease', '5s'], { logFile, timeoutMs: 120_000 });
    const ctx = await openMigration(planPath);
    try {
      const done = await ctx.store.isDone();
      if (!done.done) console.log(last.log.slice(-3000));
      expect(done.reasons).toEqual([]);
      expect(last.code).toBe(0);
      expect(Date.now() - t0).toBeLessThan(60_000);
    } finally {
      await ctx.close();
    }
  }, 300_000);

  it('killed while retrieving copies back for verification: the next run leaves no copies folder behind', async () => {
    const logFile = join(work.dir, 'migrate-copies.log');
    const verifyDir = join(work.dir, 'spool', 'verify');
    const child = startMigrate(planPath, ['--lease', '5s'], { logFile });
    let caught = false;
    for (const deadline = Date.now() + 120_000; !caught && Date.now() < deadline;) {
      caught = (await readdir(verifyDir).catch(() => [] as string[])).length > 0;
      if (!caught) await new Promise((r) => setTimeout(r, 10));
    }
    child.kill('SIGKILL');
    await child.exited;
    expect(caught).toBe(true);
    expect((await readdir(verifyDir)).length).toBeGreaterThan(0);
    const last = await runMigrate(planPath, ['--lease', '5s'], { logFile, timeoutMs: 120_000 });
    expect(last.code).toBe(0);
    expect(await readdir(verifyDir)).toEqual([]);
  }, 300_000);
});
