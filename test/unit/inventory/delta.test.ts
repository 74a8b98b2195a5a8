/**
 * Re-running the inventory is a delta: against the built-in archive serving a folder of links to
 * corpus files, studies are removed, added and grown between runs; each run records what is new,
 * vanished, reappeared or changed counts, with the (injected) time it was seen.
 */
import { mkdirSync, symlinkSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Archive, startArchive } from '../../../src/archive/archive.js';
import { parseDA } from '../../../src/inventory/dates.js';
import { runInventory } from '../../../src/inventory/index.js';
import { ManualClock } from '../../../src/state/index.js';
import { hasCorpus, manifest, type ManifestRow } from '../../harness/corpus.js';
import { makeTempDir, removeTempDir } from '../../harness/tmp.js';
import { type TestMigration, dimseSource, migration } from './fixtures.js';

/** Dated studies whose files all read cleanly, by number of files. */
function pickStudies(): { single: ManifestRow[][]; pair: ManifestRow[] } {
  const byStudy = new Map<string, ManifestRow[]>();
  for (const r of manifest())
    if (r.studyInstanceUid) byStudy.set(r.studyInstanceUid, [...(byStudy.get(r.studyInstanceUid) ?? []), r]);
  const clean = [...byStudy.values()]
    .filter((rows) =>
      rows.every(
        (r) =>
          r.dcmdumpStatus === 'ok' &&
          parseDA(r.studyDate) !== undefined &&
          r.transferSyntax.startsWith('Explicit VR Little'),
      ),
    )
    .filter((rows) => new Set(rows.map((r) => r.sopInstanceUid)).size === rows.length)
    .sort((a, b) => a[0]!.studyInstanceUid.localeCompare(b[0]!.studyInstanceUid));
  const single = clean.filter((rows) => rows.length === 1);
  const pair = clean.find(
    (rows) => rows.length === 2 && rows[0]!.seriesInstanceUid === rows[1]!.seriesInstanceUid,
  );
  if (single.length < 5 || !pair) throw new Error('corpus: not enough clean studies for the delta test');
  return { single: single.slice(0, 5), pair };
}

describe.skipIf(!hasCorpus())('inventory deltas', () => {
  let folder: string;
  let tmp: string;
  let archive: Archive;
  let m: TestMigration;
  const clock = new ManualClock(Date.UTC(2026, 2, 1, 12));
  const linkName = (r: ManifestRow) => join(folder, r.path.replace(/\//g, '__'));
  const link = (r: ManifestRow) => symlinkSync(r.absPath, linkName(r));

  beforeAll(async () => {
    tmp = makeTempDir('delta');
    folder = join(tmp, 'source');
    mkdirSync(folder);
    archive = await startArchive({
      dir: folder,
      port: 0,
      host: '127.0.0.1',
      aeTitle: 'ARCHIVE',
      dbPath: join(tmp, 'index.sqlite'),
      storeDir: join(tmp, 'received'),
    });
    m = await migration(dimseSource(archive.port, 'ARCHIVE'), '', clock);
  });
  afterAll(async () => {
    await m?.stop();
    await archive?.close();
    removeTempDir(tmp);
  });

  it('records new, vanished, counts-changed and reappeared studies with the time they were seen', async () => {
    const { single, pair } = pickStudies();
    const [a, b, c, d, added] = single.map((rows) => rows[0]!);
    for (const r of [a!, b!, c!, d!, pair[0]!]) link(r);
    await archive.reindex();

    const first = await runInventory(m.ctx);
    expect(first.complete).toBe(true);
    expect(first.changes.study.new).toBe(5);
    expect(first.changes.instance.new).toBe(5);
    const t1 = clock.now();
    expect((await m.ctx.store.getStudy(a!.studyInstanceUid))?.firstSeenAt).toBe(t1);

    // The source changes during the migration: a study deleted, one added, one grows.
    unlinkSync(linkName(a!));
    link(added!);
    link(pair[1]!);
    await archive.reindex();
    const t2 = clock.advance(86_400_000);
    const second = await runInventory(m.ctx);
    expect(second.complete).toBe(true);
    const changes = await m.ctx.store.listChanges(second.runId, 'study');
    const byKind = (kind: string) => changes.filter((ch) => ch.kind === kind).map((ch) => ch.uid);
    expect(byKind('new')).toEqual([added!.studyInstanceUid]);
    expect(byKind('vanished')).toEqual([a!.studyInstanceUid]);
    expect(byKind('counts-changed')).toEqual([pair[0]!.studyInstanceUid]);
    expect(changes.every((ch) => ch.seenAt === t2)).toBe(true);
    expect(changes.find((ch) => ch.kind === 'counts-changed')).toMatchObject({
      oldValue: { numInstances: 1 },
      newValue: { numInstances: 2 },
    });
    expect(second.changes.study).toMatchObject({ new: 1, vanished: 1, 'counts-changed': 1, reappeared: 0 });
    expect(second.changes.instance).toMatchObject({ new: 2, vanished: 1 });
    const gone = await m.ctx.store.getStudy(a!.studyInstanceUid);
    expect(gone).toMatchObject({ vanishedAt: t2, lastSeenAt: t1, lastRunId: first.runId });
    expect((await m.ctx.store.getInstance(a!.sopInstanceUid))?.vanishedAt).toBe(t2);
    expect(await m.ctx.store.getStudy(b!.studyInstanceUid)).toMatchObject({
      lastSeenAt: t2,
      firstSeenAt: t1,
      vanishedAt: null,
    });

    // It comes back.
    link(a!);
    await archive.reindex();
    const t3 = clock.advance(3_600_000);
    const third = await runInventory(m.ctx);
    expect(third.changes.study).toMatchObject({ new: 0, vanished: 0, reappeared: 1 });
    expect(await m.ctx.store.getStudy(a!.studyInstanceUid)).toMatchObject({
      vanishedAt: null,
      lastSeenAt: t3,
      firstSeenAt: t1,
    });
    const reappeared = await m.ctx.store.listChanges(third.runId, 'study');
    expect(reappeared.map((ch) => [ch.kind, ch.uid, ch.seenAt])).toEqual([
      ['reappeared', a!.studyInstanceUid, t3],
    ]);
  });

  it('marks nothing vanished when the run could not list the whole source', async () => {
    const before = await m.ctx.store.ledgerSummary();
    await archive.close();
    const run = await runInventory(m.ctx);
    expect(run.complete).toBe(false);
    expect(run.vanishChecked).toEqual({ study: false, series: false, instance: false });
    expect(run.findings['inventory.query-failed']).toBe(1);
    expect(run.changes.study.vanished).toBe(0);
    const after = await m.ctx.store.ledgerSummary();
    expect(after).toEqual(before);
  });
});
