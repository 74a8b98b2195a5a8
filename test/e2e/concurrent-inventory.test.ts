/**
 * Issue 7 item 4: inventories started together. Against a real Orthanc holding the demo archive
 * (~36 studies): two `pacshift inventory PLAN` at once on PostgreSQL state, and three `pacshift
 * migrate PLAN` at once on an empty SQLite and an empty PostgreSQL state (C-GET, into another
 * Orthanc). One inventory at a time per migration (the state's inventory lock): nothing is marked
 * vanished, the migrate processes share one inventory run, every study ends verified and every
 * instance moved. Before the fix the two inventories marked each other's studies vanished, and the
 * three migrates failed every study VANISHED, moved nothing and exited 0.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateDemoArchive } from '../../src/demo/generate.js';
import { openMigration } from '../../src/run/context.js';
import type { InventoryRun } from '../../src/state/index.js';
import { listFiles } from '../../src/util/files.js';
import { e2eDir, runMigrate } from '../harness/migration.js';
import { startOrthanc, type Orthanc } from '../harness/orthanc.js';
import { peers } from '../harness/process.js';
import { TEST_PG as PG, pgReachable } from '../harness/pg.js';

const ROOT = resolve(import.meta.dirname, '..', '..');

function cli(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number | null; out: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'src/cli/bin.ts'), ...args], {
    cwd: ROOT,
    env: { ...process.env, ...env },
  });
  const out: Buffer[] = [];
  child.stdout.on('data', (b: Buffer) => out.push(b));
  child.stderr.on('data', (b: Buffer) => out.push(b));
  return new Promise((res) =>
    child.once('close', (code) => res({ code, out: Buffer.concat(out).toString('utf8') })),
  );
}

async function runsOf(planPath: string): Promise<InventoryRun[]> {
  const ctx = await openMigration(planPath);
  try {
    const runs: InventoryRun[] = [];
    for (let id = 1; id < 50; id++) {
      const r = await ctx.store.getInventoryRun(id);
      if (r) runs.push(r);
    }
    return runs;
  } finally {
    await ctx.close();
  }
}

const hasPg = await pgReachable();

describe.skipIf(!peers.orthanc)('inventories started together (issue 7 item 4)', () => {
  const work = e2eDir('concurrent-inventory');
  let source: Orthanc;
  let target: Orthanc;
  let studies = 0;
  let instances = 0;
  const schemas: string[] = [];

  const plan = (name: string, state: unknown): string => {
    const p = join(work.dir, `${name}.yaml`);
    writeFileSync(
      p,
      JSON.stringify({
        name,
        version: 1,
        local: { aeTitle: 'PACSHIFT', host: '127.0.0.1', port: 1 },
        source: {
          type: 'dimse',
          host: source.host,
          port: source.dicomPort,
          calledAe: source.aeTitle,
          retrieve: 'c-get',
        },
        target: { type: 'dimse', host: target.host, port: target.dicomPort, calledAe: target.aeTitle },
        state,
        spool: { dir: join(work.dir, `${name}-spool`) },
        report: { dir: join(work.dir, `${name}-report`) },
        transfer: { quietPeriod: '1s', retries: { maxAttempts: 3, backoff: { base: '1s', cap: '2s' } } },
        verify: { sample: { percent: 100, minStudies: 0, seed: 1 } },
      }),
    );
    return p;
  };
  const pgState = () => {
    const schema = `pacshift_t4_${randomBytes(4).toString('hex')}`;
    schemas.push(schema);
    return { postgres: `${PG}?schema=${schema}` };
  };

  beforeAll(async () => {
    [source, target] = await Promise.all([
      startOrthanc({ aeTitle: 'OLDPACS' }),
      startOrthanc({ aeTitle: 'NEWPACS' }),
    ]);
    const demo = await generateDemoArchive(join(work.dir, 'archive'), { studiesPerPatient: 7 });
    const held = new Set<string>();
    for (const f of await listFiles([demo.dir])) {
      const r = await source.upload(f).catch(() => undefined);
      if (r) held.add(r.ParentStudy);
      if (r) instances++;
    }
    studies = held.size;
  }, 300_000);
  afterAll(async () => {
    await Promise.all([source?.stop(), target?.stop()]);
    if (schemas.length > 0) {
      const c = new pg.Client({ connectionString: PG });
      await c.connect();
      for (const s of schemas) await c.query(`DROP SCHEMA IF EXISTS ${s} CASCADE`);
      await c.end();
    }
    work.remove();
  });

  it.skipIf(!hasPg)(
    'two inventories at once on PostgreSQL state: one after the other, nothing vanished',
    async () => {
      expect(studies).toBeGreaterThan(30);
      const p = plan('two-inventories', pgState());
      const [a, b] = await Promise.all([cli(['inventory', p]), cli(['inventory', p])]);
      expect([a.code, b.code], a.out + b.out).toEqual([0, 0]);
      const runs = await runsOf(p);
      const ctx = await openMigration(p);
      try {
        const ledger = await ctx.store.ledger({ limit: 10_000 });
        expect(ledger).toHaveLength(studies);
        expect(ledger.filter((r) => r.vanished).length).toBe(0);
        for (const r of runs)
          expect((await ctx.store.listChanges(r.id)).filter((c) => c.kind === 'vanished')).toEqual([]);
      } finally {
        await ctx.close();
      }
      expect(runs).toHaveLength(2);
      expect(runs.every((r) => r.complete)).toBe(true);
      // Serialised: the second started listing after the first finished.
      expect(runs[1]!.startedAt).toBeGreaterThanOrEqual(runs[0]!.finishedAt!);
      expect(a.out + b.out).toMatch(/waiting for it/);
    },
    300_000,
  );

  for (const backend of ['sqlite', 'postgres'] as const)
    it.skipIf(backend === 'postgres' && !hasPg)(
      `three migrates at once on an empty ${backend} state: one inventory, every study verified, every instance moved`,
      async () => {
        const name = `three-migrates-${backend}`;
        const p = plan(name, backend === 'sqlite' ? { sqlite: join(work.dir, `${name}.sqlite`) } : pgState());
        const runs3 = await Promise.all(
          [1, 2, 3].map((i) =>
            runMigrate(p, ['--json'], { logFile: join(work.dir, `${name}-${i}.log`), timeoutMs: 400_000 }),
          ),
        );
        const summaries = runs3.map(
          (r) =>
            JSON.parse(r.stdout.trim().split('\n').at(-1) ?? '{}') as {
              done?: boolean;
              instancesStored?: number;
            },
        );
        expect(
          runs3.map((r) => r.code),
          runs3.map((r) => r.log.slice(-1500)).join('\n----\n'),
        ).toEqual([0, 0, 0]);
        expect(summaries.map((s) => s.done)).toEqual([true, true, true]);
        expect(summaries.reduce((n, s) => n + (s.instancesStored ?? 0), 0)).toBe(instances);
        expect((await runsOf(p)).map((r) => r.complete)).toEqual([true]);
        const ctx = await openMigration(p);
        try {
          const ledger = await ctx.store.ledger({ limit: 10_000 });
          expect(ledger).toHaveLength(studies);
          expect(
            ledger.filter((r) => r.status !== 'verified').map((r) => [r.studyUid, r.status, r.errorCode]),
          ).toEqual([]);
          expect(ledger.reduce((n, r) => n + r.instancesVerified, 0)).toBe(instances);
        } finally {
          await ctx.close();
        }
        const held = await target.rest.get<string[]>('/instances');
        expect(held.length).toBeGreaterThanOrEqual(instances);
      },
      500_000,
    );
});
