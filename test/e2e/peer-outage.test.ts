/**
 * Peer outages against real Orthancs: the target (and, separately, the source) Orthanc is killed with
 * SIGKILL in the middle of a `pacshift migrate` (a child process, the real CLI) and started again ~20 s
 * later on the same ports with the same storage. The SAME migrate process must finish by itself with
 * every instance verified (no restart), while its audit trail stays small: an open circuit breaker
 * means waiting for the next trial, not claiming and releasing jobs in a loop (it did: 20,000
 * job.claimed + 20,000 job.released events in 40 s, and nothing resumed when the peer came back).
 * And SIGTERM during an outage ends migrate within seconds with exit 143, no lease left behind.
 *
 * Data: the demo generator's archive (60 studies, ~350 small instances) uploaded into the source
 * Orthanc; breaker after 2 failures with a 2 s cool-down; back-off 1–2 s.
 */
import Database from 'better-sqlite3';
import { readFileSync, writeFileSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { generateDemoArchive } from '../../src/demo/generate.js';
import { openMigration } from '../../src/run/context.js';
import { accountFor, allLedger, orthancHoldings, type Holdings } from '../harness/accounting.js';
import { e2eDir, startMigrate, writePlan, type MigrateChild } from '../harness/migration.js';
import { startOrthanc, type Orthanc } from '../harness/orthanc.js';
import { freePort } from '../harness/ports.js';
import { peers } from '../harness/process.js';

/** A count from the state database (read-only; 0 while it does not exist yet or is busy). */
function count(dbPath: string, sql: string): number {
  try {
    const db = new Database(dbPath, { readonly: true, fileMustExist: true });
    try {
      return (db.prepare(sql).get() as { n: number }).n;
    } finally {
      db.close();
    }
  } catch {
    return 0;
  }
}

async function waitFor(what: string, ok: () => boolean, timeoutMs: number): Promise<void> {
  for (const deadline = Date.now() + timeoutMs; !ok();) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const STORED = 'SELECT COUNT(*) AS n FROM instances WHERE stored_at IS NOT NULL';
const INSTANCES = 'SELECT COUNT(*) AS n FROM instances';
const CLAIMS = "SELECT COUNT(*) AS n FROM events WHERE kind IN ('job.claimed', 'job.released')";
const LEASED = 'SELECT COUNT(*) AS n FROM jobs WHERE lease_owner IS NOT NULL';

describe.skipIf(!peers.orthanc)('migrate through a peer outage (Orthanc killed and started again)', () => {
  let work: ReturnType<typeof e2eDir>;
  let source: Orthanc;
  let target: Orthanc;
  let planPath: string;
  let dbPath: string;
  let sourceHoldings: Holdings;
  let studies: number;
  let child: MigrateChild | undefined;

  beforeEach(async () => {
    work = e2eDir('e2e-outage');
    const localPort = await freePort();
    const us = { pacshift: { aeTitle: 'PACSHIFT', host: '127.0.0.1', port: localPort } };
    [source, target] = await Promise.all([
      startOrthanc({ aeTitle: 'OLDPACS', modalities: us }),
      startOrthanc({ aeTitle: 'NEWPACS', modalities: us }),
    ]);
    const demo = await generateDemoArchive(join(work.dir, 'demo'), { studiesPerPatient: 10, seed: 11 });
    for (const f of await readdir(demo.dir))
      if (f !== 'corrupt-truncated.dcm') await source.upload(join(demo.dir, f));
    sourceHoldings = await orthancHoldings(source);
    studies = demo.studies;
    dbPath = join(work.dir, 'state.sqlite');
    planPath = writePlan({
      dir: work.dir,
      local: { port: localPort },
      source: { host: source.host, port: source.dicomPort, calledAe: source.aeTitle, maxAssociations: 2 },
      target: { host: target.host, port: target.dicomPort, calledAe: target.aeTitle, maxAssociations: 2 },
      extra: {
        transfer: {
          quietPeriod: '1s',
          retries: { maxAttempts: 5, backoff: { base: '1s', cap: '2s' } },
          circuitBreaker: { failures: 2, coolDown: '2s' },
        },
        verify: { level: 'pixels', sample: { percent: 100, minStudies: 0, seed: 1 } },
      },
    });
  }, 300_000);

  afterEach(async () => {
    child?.kill('SIGKILL');
    if (child) await child.exited;
    child = undefined;
    await Promise.all([source?.stop(), target?.stop()]);
    work?.remove();
  });

  const outage = async (peer: () => Orthanc, name: string) => {
    child = startMigrate(planPath, [], { logFile: join(work.dir, 'migrate.log') });
    // Mid-migration: the inventory is in and part of it is stored.
    await waitFor(
      'part of the migration stored',
      () => {
        const n = count(dbPath, INSTANCES);
        return n > 0 && count(dbPath, STORED) >= n * 0.15;
      },
      240_000,
    );
    const before = count(dbPath, CLAIMS);
    await peer().kill('SIGKILL');
    const killedAt = Date.now();
    await new Promise((r) => setTimeout(r, 20_000));
    const during = count(dbPath, CLAIMS) - before;
    const tail = child.log().slice(-4000);
    await peer().restart();
    const end = await Promise.race([
      child.exited,
      new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), 240_000)),
    ]);
    const claimsTotal = count(dbPath, CLAIMS);
    const ctx = await openMigration(planPath);
    try {
      const acc = await accountFor(ctx.store, sourceHoldings.keys(), await orthancHoldings(target));
      const ledger = await allLedger(ctx.store);
      const summary = {
        peer: name,
        studies,
        instances: acc.source,
        verified: acc.verified.length,
        claimEventsDuringOutage: during,
        claimEventsTotal: claimsTotal,
        exit: end === 'timeout' ? 'timeout' : end,
        seconds: Math.round((Date.now() - killedAt) / 1000),
      };
      console.log('outage', JSON.stringify(summary));
      if (end === 'timeout' || end.code !== 0) console.log(tail, '\n…\n', child.log().slice(-3000));
      expect(end).toEqual({ code: 0, signal: null });
      expect(acc.verified.length).toBe(acc.source);
      expect(acc.withCause).toEqual([]);
      expect(ledger.filter((r) => r.status !== 'verified')).toEqual([]);
      // Waiting is not claiming: during 20 s of outage only trials (one per cool-down) and the jobs
      // already running when it began come and go; a whole run stays within a few claims per study.
      expect(during).toBeLessThan(60);
      expect(claimsTotal).toBeLessThan(studies * 6);
      // While the peer was down, migrate said so: which peer, since when, next try.
      expect(tail).toMatch(new RegExp(`${name} .*unreachable since .*next try`));
    } finally {
      await ctx.close();
    }
  };

  it('the target killed mid-migration and started again 20 s later: the same process finishes, all verified, events bounded', async () => {
    await outage(() => target, 'target');
  }, 600_000);

  it('the source killed mid-migration and started again 20 s later: the same process finishes, all verified, events bounded', async () => {
    await outage(() => source, 'source');
  }, 600_000);

  it('SIGTERM during a target outage ends migrate within a few seconds, exit 143, no lease left', async () => {
    child = startMigrate(planPath, [], { logFile: join(work.dir, 'migrate-term.log') });
    await waitFor(
      'part of the migration stored',
      () => {
        const n = count(dbPath, INSTANCES);
        return n > 0 && count(dbPath, STORED) >= n * 0.15;
      },
      240_000,
    );
    await target.kill('SIGKILL');
    await new Promise((r) => setTimeout(r, 6_000));
    const t0 = Date.now();
    child.kill('SIGTERM');
    const end = await Promise.race([
      child.exited,
      new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), 30_000)),
    ]);
    const seconds = (Date.now() - t0) / 1000;
    console.log('sigterm', JSON.stringify({ end, seconds, leased: count(dbPath, LEASED) }));
    if (end === 'timeout' || end.code !== 143) console.log(child.log().slice(-3000));
    expect(end).toEqual({ code: 143, signal: null });
    expect(seconds).toBeLessThan(5);
    expect(count(dbPath, LEASED)).toBe(0);
  }, 600_000);

  it('SIGTERM in the middle of a transfer (studies on the wire) ends migrate within a few seconds, exit 143, no lease left', async () => {
    child = startMigrate(planPath, [], { logFile: join(work.dir, 'migrate-term2.log') });
    await waitFor(
      'studies in transfer',
      () => count(dbPath, STORED) > 0 && count(dbPath, LEASED) > 0,
      240_000,
    );
    const t0 = Date.now();
    child.kill('SIGTERM');
    const end = await Promise.race([
      child.exited,
      new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), 30_000)),
    ]);
    const seconds = (Date.now() - t0) / 1000;
    console.log('sigterm-busy', JSON.stringify({ end, seconds, leased: count(dbPath, LEASED) }));
    if (end === 'timeout' || end.code !== 143) console.log(child.log().slice(-3000));
    expect(end).toEqual({ code: 143, signal: null });
    expect(seconds).toBeLessThan(5);
    expect(count(dbPath, LEASED)).toBe(0);
  }, 600_000);

  it('a target that is not DICOM (PostgreSQL on 5432): waiting, not claiming; it says so; SIGTERM ends it', async () => {
    const plan = JSON.parse(readFileSync(planPath, 'utf8')) as { target: { port: number } };
    plan.target.port = 5432;
    writeFileSync(planPath, JSON.stringify(plan));
    child = startMigrate(planPath, [], { logFile: join(work.dir, 'migrate-5432.log') });
    await waitFor('the inventory', () => count(dbPath, INSTANCES) > 0, 240_000);
    await new Promise((r) => setTimeout(r, 20_000));
    const claims = count(dbPath, CLAIMS);
    const log = child.log();
    child.kill('SIGTERM');
    const end = await Promise.race([
      child.exited,
      new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), 30_000)),
    ]);
    console.log('not-dicom', JSON.stringify({ claims, end, leased: count(dbPath, LEASED) }));
    if (end === 'timeout' || end.code !== 143) console.log(log.slice(-3000));
    expect(log).toMatch(/target NEWPACS@127\.0\.0\.1:5432 unreachable since .*next try/);
    // 20 s with a 2 s cool-down: the studies that ran into it first, then one trial per cool-down.
    expect(claims).toBeLessThan(60);
    expect(end).toEqual({ code: 143, signal: null });
    expect(count(dbPath, LEASED)).toBe(0);
  }, 600_000);
});
