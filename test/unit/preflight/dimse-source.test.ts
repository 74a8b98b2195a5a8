/**
 * runPreflight with a DIMSE source: the built-in archive serving corpus files (read in place) is
 * inventoried over C-FIND, one instance per series is retrieved (C-MOVE to our listener, or C-GET)
 * into a temporary folder and checked; what the source does not deliver is a not-retrievable leftover;
 * sizes are estimated from the retrieved objects (C-FIND gives none); the temporary folder is removed.
 */
import { mkdirSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startArchive, type Archive } from '../../../src/archive/archive.js';
import { retrievedLabel, runPreflight } from '../../../src/analyse/preflight/index.js';
import { runInventory } from '../../../src/inventory/index.js';
import { openMigration, type MigrationContext } from '../../../src/run/context.js';
import { hasCorpus } from '../../../src/util/corpus.js';
import { corpusDir } from '../../harness/corpus.js';
import { writePlan } from '../../harness/migration.js';
import { freePort } from '../../harness/ports.js';
import { makeTempDir, removeTempDir } from '../../harness/tmp.js';

describe.skipIf(!hasCorpus())('runPreflight with a DIMSE source', () => {
  let dir: string;
  let source: Archive;
  let target: Archive;
  const contexts: MigrationContext[] = [];

  beforeAll(async () => {
    dir = makeTempDir('preflight-dimse');
    const local = await freePort();
    const peers = { PACSHIFT: { host: '127.0.0.1', port: local } };
    source = await startArchive({
      dir: join(corpusDir(), 'pydicom'),
      dbPath: join(dir, 'source.sqlite'),
      storeDir: join(dir, 'source-received'),
      port: 0,
      host: '127.0.0.1',
      aeTitle: 'SOURCE',
      peers,
    });
    target = await startArchive({
      dir: join(dir, 'target'),
      port: 0,
      host: '127.0.0.1',
      aeTitle: 'TARGET',
      acceptTransferSyntaxes: ['1.2.840.10008.1.2.1', '1.2.840.10008.1.2'],
    });
    for (const retrieve of ['c-move', 'c-get'] as const) {
      const sub = join(dir, retrieve);
      mkdirSync(sub);
      const plan = writePlan({
        dir: sub,
        local: { port: local },
        source: { host: '127.0.0.1', port: source.port, calledAe: 'SOURCE', retrieve },
        target: { host: '127.0.0.1', port: target.port, calledAe: 'TARGET' },
        extra: { transfer: { quietPeriod: '1s' } },
      });
      const ctx = await openMigration(plan);
      await runInventory(ctx);
      contexts.push(ctx);
    }
  }, 120_000);

  afterAll(async () => {
    for (const c of contexts) await c.close();
    await source?.close();
    await target?.close();
    removeTempDir(dir);
  });

  it.each([
    ['c-move', 0],
    ['c-get', 1],
  ] as const)('retrieves one instance per series by %s and checks it', async (_how, k) => {
    const ctx = contexts[k]!;
    const instances = [];
    for (const row of await ctx.store.ledger())
      instances.push(...(await ctx.store.listInstances(row.studyUid)));
    const series = new Set(instances.map((i) => i.seriesUid));
    // A temporary folder of our own for this run: the fetched objects must not outlive it.
    const tmp = join(dir, `tmp-${k}`);
    mkdirSync(tmp);
    const saved = process.env.TMPDIR;
    process.env.TMPDIR = tmp;
    let r;
    try {
      expect(tmpdir()).toBe(tmp);
      r = await runPreflight(ctx, { profile: 'lenient', record: false });
    } finally {
      if (saved === undefined) delete process.env.TMPDIR;
      else process.env.TMPDIR = saved;
    }
    expect(r.fetch?.requested).toBe(series.size);
    expect(r.checked.objects).toBe(series.size);
    // What the source could not deliver is a leftover with its cause, not hidden: here the CT whose
    // SOP Instance UID is a hex string (a File Meta cannot hold it, so our receiver refuses it).
    const notRetrievable = r.objects.filter((o) => o.findings.some((f) => f.cause === 'not-retrievable'));
    expect(notRetrievable).toHaveLength(r.fetch!.missing);
    expect(notRetrievable.map((o) => o.sopInstanceUid)).toContain(
      'dccc9599087131742838cc1162a630fea87ba9bf61ac09bfda90d4adfa5ddaed',
    );
    expect(notRetrievable.every((o) => o.verdict === 'refuse')).toBe(true);
    expect(r.source.bytesEstimated).toBe(true);
    expect(r.source.bytes).toBeGreaterThan(0);
    expect(r.target.probed).toBe(true);
    // The retrieved objects are named by UID: their temporary folder is gone.
    for (const o of r.objects) expect(o.path).toBe(retrievedLabel(o.sopInstanceUid!));
    expect(readdirSync(tmp)).toEqual([]);
    // The compressed syntaxes of the source are refused by this target.
    const ts = r.causes.find((c) => c.cause === 'transfer-syntax-refused');
    expect(ts?.objects).toBeGreaterThan(0);
  });
});
