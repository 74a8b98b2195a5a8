/**
 * runPreflight over a plan: a folder source (corpus files read in place) inventoried, one object per
 * series checked (or all), the target (built-in archive taking uncompressed syntaxes only) probed,
 * results sized for the whole source and recorded as events; and over files given directly.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startArchive, type Archive } from '../../../src/archive/archive.js';
import {
  PREFLIGHT_OBJECT_EVENT,
  PREFLIGHT_RUN_EVENT,
  runPreflight,
  type PreflightReport,
} from '../../../src/analyse/preflight/index.js';
import { runInventory } from '../../../src/inventory/index.js';
import { openMigration, type MigrationContext } from '../../../src/run/context.js';
import type { Instance } from '../../../src/state/index.js';
import { hasCorpus } from '../../../src/util/corpus.js';
import { listFiles } from '../../../src/util/files.js';
import { corpusDir } from '../../harness/corpus.js';
import { makeTempDir, removeTempDir } from '../../harness/tmp.js';

const UNCOMPRESSED = ['1.2.840.10008.1.2.1', '1.2.840.10008.1.2', '1.2.840.10008.1.2.2'];

describe.skipIf(!hasCorpus())('runPreflight', () => {
  let dir: string;
  let target: Archive;
  let ctx: MigrationContext;
  let instances: Instance[];
  /** Files of the folder no inventoried instance stands for (other copies of a UID, unreadable files). */
  let unlisted: string[];
  const source = () => join(corpusDir(), 'pydicom');

  beforeAll(async () => {
    dir = makeTempDir('preflight-run');
    target = await startArchive({
      dir: join(dir, 'target'),
      port: 0,
      host: '127.0.0.1',
      aeTitle: 'TARGET',
      acceptTransferSyntaxes: UNCOMPRESSED,
    });
    const plan = {
      name: 'pf',
      version: 1,
      source: { type: 'folder', path: source() },
      target: { type: 'dimse', host: '127.0.0.1', port: target.port, calledAe: 'TARGET' },
      state: { sqlite: join(dir, 'state.sqlite') },
      report: { dir: join(dir, 'report') },
    };
    writeFileSync(join(dir, 'plan.yaml'), JSON.stringify(plan));
    ctx = await openMigration(join(dir, 'plan.yaml'));
    await runInventory(ctx);
    instances = [];
    for (const row of await ctx.store.ledger())
      instances.push(...(await ctx.store.listInstances(row.studyUid)));
    const listed = new Set(instances.map((i) => join(source(), String(i.attrs?.path))));
    unlisted = (await listFiles([source()])).filter((p) => !listed.has(p));
  });
  afterAll(async () => {
    await ctx?.close();
    await target?.close();
    removeTempDir(dir);
  });

  const cause = (r: PreflightReport, id: string) => r.causes.find((c) => c.cause === id);

  it('one object per series stands for its series; the probe refuses the compressed syntaxes', async () => {
    const series = new Set(instances.map((i) => i.seriesUid));
    const r = await runPreflight(ctx, { profile: 'strict' });
    expect(r.sampling).toBe('one-per-series');
    // One per series, and every file the inventory lists no instance for, as itself.
    expect(unlisted.length).toBeGreaterThanOrEqual(4);
    const extra = r.objects.filter((o) => unlisted.includes(o.path));
    expect(extra).toHaveLength(unlisted.length - r.notDicom);
    expect(r.checked.objects).toBe(series.size + extra.length);
    expect(r.source.instances).toBe(instances.length + extra.length);
    expect(r.source.bytes).toBe(
      instances.reduce((s, i) => s + i.sizeBytes!, 0) + extra.reduce((s, o) => s + o.sizeBytes, 0),
    );
    expect(r.target.probed).toBe(true);
    // Every combination of the inventory and of the files checked was negotiated; exactly the compressed ones were refused.
    const combos = new Set([
      ...instances.map((i) => `${i.sopClassUid}|${i.transferSyntaxUid}`),
      ...extra
        .filter((o) => o.sopClassUid && o.transferSyntaxUid)
        .map((o) => `${o.sopClassUid}|${o.transferSyntaxUid}`),
    ]);
    expect(r.target.combinations).toBe(combos.size);
    const refused = new Set(r.target.refused.map((x) => `${x.sopClassUid}|${x.transferSyntaxUid}`));
    expect(refused).toEqual(new Set([...combos].filter((k) => !UNCOMPRESSED.includes(k.split('|')[1]!))));
    // Objects predicted refused for their syntax are exactly the checked ones in a refused syntax.
    const ts = cause(r, 'transfer-syntax-refused')!;
    const checkedCompressed = r.objects.filter(
      (o) => o.facts && !UNCOMPRESSED.includes(o.transferSyntaxUid!),
    );
    expect(ts.objects).toBe(checkedCompressed.length);
    expect(ts.verdict).toBe('refuse');
    // Sizes add up: each verdict's objects, and each cause's instances stand for at least themselves.
    expect(r.predicted.refuse.objects + r.predicted.alter.objects + r.predicted.accept.objects).toBe(
      r.checked.objects,
    );
    expect(r.objects.filter((o) => o.verdict === 'refuse')).toHaveLength(r.predicted.refuse.objects);
    for (const c of r.causes) expect(c.source.instances).toBeGreaterThanOrEqual(c.checked.instances);
    // Recorded: one event per object, one for the run.
    const events = await ctx.store.listEvents({ kind: PREFLIGHT_OBJECT_EVENT });
    expect(events).toHaveLength(r.checked.objects);
    // Each inventoried object names its instance and study (an unreadable extra file may not).
    expect(events.filter((e) => e.sopInstanceUid && e.studyUid).length).toBeGreaterThanOrEqual(series.size);
    expect(await ctx.store.listEvents({ kind: PREFLIGHT_RUN_EVENT })).toHaveLength(1);
  });

  it('--all checks every instance; lenient verdicts beside the strict ones', async () => {
    const r = await runPreflight(ctx, { profile: 'lenient', all: true, record: false });
    expect(r.sampling).toBe('all');
    // Every file of the folder: the inventory's instances and the files it lists no instance for.
    expect(r.checked.objects).toBe(instances.length + unlisted.length - r.notDicom);
    expect(r.source.instances).toBe(r.checked.objects);
    // The inventory keeps one file per SOP Instance UID; the other copy (badVR.dcm beside rtdose.dcm,
    // other content) is judged too.
    expect(cause(r, 'duplicate-uid')?.objects).toBeGreaterThanOrEqual(2);
    expect(cause(r, 'value-too-long')?.verdict).toBe('accept');
    expect(cause(r, 'value-too-long')?.strict).toBe('refuse');
  });

  it('files given directly: every file, duplicates of one UID with other content, non-DICOM files apart', async () => {
    const files = join(dir, 'files');
    const { mkdirSync } = await import('node:fs');
    mkdirSync(files);
    writeFileSync(join(files, 'README.txt'), 'not DICOM');
    const r = await runPreflight(undefined, {
      files: [
        files,
        join(source(), 'debian_test_files/badVR.dcm'),
        join(source(), 'debian_test_files/rtdose.dcm'),
        join(source(), 'debian_test_files/rtplan.dcm'),
      ],
      target: null,
    });
    expect(r.sampling).toBe('files');
    expect(r.notDicom).toBe(1);
    expect(r.checked.objects).toBe(3);
    expect(r.target.probed).toBe(false);
    const dup = cause(r, 'duplicate-uid')!;
    expect(dup.objects).toBe(2);
    expect(
      r.objects
        .filter((o) => o.findings.some((f) => f.cause === 'duplicate-uid'))
        .map((o) => o.path.split('/').pop())
        .sort(),
    ).toEqual(['badVR.dcm', 'rtdose.dcm']);
  });
});
