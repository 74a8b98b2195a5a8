/**
 * Issue 7 item 14: a restart after a crash takes the studies the killed run held at once. `pacshift
 * migrate` (the real CLI, a child process) is killed with SIGKILL while it holds studies in transfer;
 * the restarted migrate, on the same host, finds their owner's process gone and claims them within a
 * few seconds of starting, instead of waiting out the lease (--lease 2m: it waited the whole 2 minutes). Then it
 * finishes: every study verified. On SQLite and on PostgreSQL state.
 *
 * Built-in archives on both sides (no Debian package needed) with the demo generator's data; the kill
 * lands while studies are held because the source answers slowly enough (one association each way).
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import pg from 'pg';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startArchive, type Archive } from '../../src/archive/archive.js';
import { generateDemoArchive } from '../../src/demo/generate.js';
import { openMigration, type MigrationContext } from '../../src/run/context.js';
import type { Job } from '../../src/state/index.js';
import { e2eDir, startMigrate, writePlan } from '../harness/migration.js';
import { freePort } from '../harness/ports.js';
import { TEST_PG as PG, pgReachable } from '../harness/pg.js';

const TRANSFER = new Set(['pending', 'retrieving', 'retrieved', 'storing']);

const pgUp = await pgReachable();

const poll = async <T>(what: string, f: () => Promise<T | undefined>, timeoutMs: number): Promise<T> => {
  for (const deadline = Date.now() + timeoutMs; ;) {
    const v = await f().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
};

describe.each([
  { backend: 'sqlite', skip: false },
  { backend: 'postgres', skip: !pgUp },
])('migrate killed while holding studies, restarted on the same host ($backend)', ({ backend, skip }) => {
  let work: ReturnType<typeof e2eDir>;
  let source: Archive;
  let target: Archive;
  let planPath: string;
  let schema: string | undefined;
  let ctx: MigrationContext | undefined;

  beforeEach(async () => {
    if (skip) return;
    work = e2eDir('e2e-reclaim');
    const localPort = await freePort();
    const demo = await generateDemoArchive(join(work.dir, 'source-archive'), {
      studiesPerPatient: 8,
      seed: 5,
    });
    const us = { PACSHIFT: { host: '127.0.0.1', port: localPort } };
    source = await startArchive({ dir: demo.dir, port: 0, host: '127.0.0.1', aeTitle: 'OLDPACS', peers: us });
    target = await startArchive({
      dir: join(work.dir, 'target-archive'),
      port: 0,
      host: '127.0.0.1',
      aeTitle: 'NEWPACS',
      peers: us,
    });
    schema = backend === 'postgres' ? `pacshift_t14_${randomBytes(4).toString('hex')}` : undefined;
    planPath = writePlan({
      dir: work.dir,
      local: { port: localPort },
      source: { host: '127.0.0.1', port: source.port, calledAe: 'OLDPACS', maxAssociations: 1 },
      target: { host: '127.0.0.1', port: target.port, calledAe: 'NEWPACS', maxAssociations: 1 },
      extra: {
        ...(schema ? { state: { postgres: `${PG}?schema=${schema}` } } : {}),
        transfer: { quietPeriod: '1s', retries: { maxAttempts: 5, backoff: { base: '200ms', cap: '1s' } } },
        verify: { level: 'pixels', sample: { percent: 100, minStudies: 0, seed: 1 } },
      },
    });
  }, 120_000);

  afterEach(async () => {
    if (skip) return;
    await ctx?.close();
    ctx = undefined;
    await source?.close();
    await target?.close();
    if (schema) {
      const c = new pg.Client({ connectionString: PG });
      await c.connect();
      await c.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await c.end();
    }
    work?.remove();
  });

  it.skipIf(skip)(
    'the restart claims the studies its killed predecessor held within seconds, then finishes',
    async () => {
      const logFile = join(work.dir, 'migrate.log');
      // A long lease, as the default was: what is measured is the take-over, not the expiry.
      const first = startMigrate(planPath, ['--lease', '2m'], { logFile });
      // The state exists once the first run has inventoried; then wait until it holds studies in transfer.
      ctx = await poll('the state database', () => openMigration(planPath), 60_000);
      const c = ctx;
      const held: Job[] = await poll(
        'studies held in transfer',
        async () => {
          const jobs = (await c.store.listJobs({ limit: 10_000 })).filter(
            (j) => j.leaseOwner !== null && TRANSFER.has(j.state),
          );
          return jobs.length > 0 ? jobs : undefined;
        },
        120_000,
      );
      first.kill('SIGKILL');
      await first.exited;
      const killedOwner = held[0]!.leaseOwner!;
      const heldIds = new Set(held.filter((j) => j.leaseOwner === killedOwner).map((j) => j.id));
      const leaseLeft = Math.round((held[0]!.leaseExpiresAt! - Date.now()) / 1000);

      const t0 = Date.now();
      const second = startMigrate(planPath, ['--lease', '2m'], { logFile });
      const reclaimedAfter = await poll(
        'the held studies claimed by the restart',
        async () => {
          const ev = await c.store.listEvents({ kind: 'job.claimed', limit: 100_000 });
          const taken = ev.filter(
            (e) =>
              e.jobId !== null &&
              heldIds.has(e.jobId) &&
              (e.detail as { reclaimedFrom?: string } | null)?.reclaimedFrom === killedOwner,
          );
          return new Set(taken.map((e) => e.jobId)).size === heldIds.size ? Date.now() - t0 : undefined;
        },
        60_000,
      );
      const end = await Promise.race([
        second.exited,
        new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), 180_000)),
      ]);
      const done = await c.store.isDone();
      console.log(
        'reclaim',
        JSON.stringify({
          backend,
          held: heldIds.size,
          leaseLeftSeconds: leaseLeft,
          reclaimedAfterMs: reclaimedAfter,
          end,
        }),
      );
      if (end === 'timeout' || end.code !== 0) console.log(second.log().slice(-3000));
      // Start-up (tsx, the state, the receiver) takes a few seconds; the lease had far longer to run.
      expect(reclaimedAfter).toBeLessThan(15_000);
      expect(end).toEqual({ code: 0, signal: null });
      expect(done.reasons).toEqual([]);
    },
    400_000,
  );
});
