/**
 * Verification against a real target that needs no Debian package: pacshift's built-in archive
 * (src/archive) serving a temp folder of corpus copies. The store is filled as the transfer would
 * have (recordPassThrough of the files sent); the archive's copies are then tampered with the way a
 * target can: a pixel changed, an attribute changed, an instance lost, one not ours added.
 */
import { copyFileSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startArchive, type Archive } from '../../../src/archive/archive.js';
import type { MigrationContext } from '../../../src/run/context.js';
import { hasCorpus } from '../../../src/util/corpus.js';
import { dimseTarget, runVerify, verifyStudy } from '../../../src/verify/index.js';
import { corpusDir } from '../../harness/corpus.js';
import { fillStoreAsTransferred, recordFiles, type MigratedFile } from '../../harness/migrated-store.js';
import { freePort } from '../../harness/ports.js';
import { makeTempDir, removeTempDir } from '../../harness/tmp.js';
import { flipPixelByte, openTestMigration, patchElement } from './fixtures.js';

const STUDIES = {
  /** 27 MR instances in 3 series, explicit LE: clean, then one lost (re-verification). */
  clean: 'dcm_qa/dcm_qa_philips/Magdeburg_2014/fmri/201_EPI_asc_CLEAR_',
  /** 8 MR instances in 4 series: one pixel byte changed at the target. */
  pixel: 'dcm_qa/dcm_qa_nih/20180918Si/',
  /** Multi-frame CT in three compressed syntaxes (JPEG extended, JPEG-LS near-lossless, RLE): clean. */
  compressed: [
    'dicomParser/encapsulated/multi-frame/CT0012.fragmented_no_bot_jpeg_baseline.51.dcm',
    'dicomParser/encapsulated/multi-frame/CT0012.fragmented_no_bot_jpeg_ls.81.dcm',
    'dicomParser/encapsulated/multi-frame/CT0012.not_fragmented_bot_rle.dcm',
  ],
  /** CR (lost at the target) and PR (UTF-8 names). */
  lost: [
    'orthanc-tests/HierarchicalAnonymization/2019-03-28/CR000000.dcm',
    'orthanc-tests/HierarchicalAnonymization/2019-03-28/PR000000.dcm',
  ],
  /** 3 CT slices, implicit LE: one InstanceNumber changed; the target also holds a SEG we never sent. */
  attribute: [
    'dcmqi/segmentations/ct-3slice/01.dcm',
    'dcmqi/segmentations/ct-3slice/02.dcm',
    'dcmqi/segmentations/ct-3slice/03.dcm',
  ],
  unexpected: 'dcmqi/segmentations/liver.dcm',
};

describe.skipIf(!hasCorpus())('verify against the built-in archive', () => {
  let tmp: string;
  let archive: Archive;
  let ctx: MigrationContext;
  let movePort: number;
  const sent: Record<string, MigratedFile[]> = {};
  const archived = new Map<string, string>(); // corpus path → the archive's copy
  const studyOf = (k: string): string => sent[k]![0]!.record.studyUid!;

  beforeAll(async () => {
    tmp = makeTempDir('verify-archive');
    const { readdirSync } = await import('node:fs');
    const list = (prefix: string): string[] => {
      const dir = join(corpusDir(), prefix.replace(/[^/]*$/, ''));
      const base = prefix.replace(/^.*\//, '');
      return readdirSync(dir)
        .filter((n) => n.startsWith(base) && n.endsWith('.dcm'))
        .sort()
        .map((n) => join(prefix.replace(/[^/]*$/, ''), n));
    };
    const siFiles = ['mr_0003', 'mr_0004', 'mr_0005', 'mr_0006'].flatMap((d) =>
      readdirSync(join(corpusDir(), STUDIES.pixel, d))
        .sort()
        .map((n) => join(STUDIES.pixel, d, n)),
    );
    const groups: Record<string, string[]> = {
      clean: list(STUDIES.clean),
      pixel: siFiles,
      compressed: STUDIES.compressed,
      lost: STUDIES.lost,
      attribute: STUDIES.attribute,
    };
    const dir = join(tmp, 'archive');
    mkdirSync(dir);
    let n = 0;
    for (const [k, files] of Object.entries({ ...groups, extra: [STUDIES.unexpected] })) {
      for (const f of files) {
        const copy = join(dir, `${k}-${String(n++).padStart(3, '0')}.dcm`);
        copyFileSync(join(corpusDir(), f), copy);
        archived.set(f, copy);
      }
    }
    for (const [k, files] of Object.entries(groups))
      sent[k] = await recordFiles(
        files.map((f) => join(corpusDir(), f)),
        ['StudyDescription', 'SeriesNumber'],
      );
    expect(sent.clean).toHaveLength(27);
    expect(sent.pixel).toHaveLength(8);

    // The target's copies, tampered.
    await flipPixelByte(archived.get(siFiles[5]!)!);
    await patchElement(archived.get(STUDIES.attribute[1]!)!, 'InstanceNumber', '99');
    rmSync(archived.get(STUDIES.lost[0]!)!);

    movePort = await freePort();
    archive = await startArchive({
      dir,
      peers: { PACSHIFT: { host: '127.0.0.1', port: movePort } },
      port: 0,
      host: '127.0.0.1',
      aeTitle: 'ARCHIVE',
      dbPath: join(tmp, 'index.sqlite'),
      storeDir: join(tmp, 'received'),
    });
    ctx = await openTestMigration(
      tmp,
      { host: '127.0.0.1', port: archive.port, calledAe: 'ARCHIVE' },
      {
        // the plan's default attributes (names, dates, UIDs, Rows, Columns, NumberOfFrames…)
        verify: { sample: { percent: 100, seed: 7 } },
      },
    );
    await fillStoreAsTransferred(ctx.store, Object.values(sent).flat());
  }, 120_000);

  afterAll(async () => {
    await ctx?.close();
    await archive?.close();
    removeTempDir(tmp);
  });

  it('a study not sampled is checked by C-FIND only: the changed pixel goes unseen; sampled, it is a pixel mismatch', async () => {
    const shallow = await verifyStudy(ctx, studyOf('pixel'), { sampled: false });
    if (!shallow.ok) throw new Error(shallow.error.message);
    expect(shallow.value.counts.verified).toBe(8);
    expect(shallow.value.clean).toBe(true);
    expect(shallow.value.instances.every((i) => i.retrieved === undefined && i.pixel === undefined)).toBe(
      true,
    );

    const deep = await verifyStudy(ctx, studyOf('pixel'), { sampled: true });
    if (!deep.ok) throw new Error(deep.error.message);
    expect(deep.value.counts).toMatchObject({ verified: 7, 'pixel-mismatch': 1 });
    const bad = deep.value.instances.find((i) => i.outcome === 'pixel-mismatch')!;
    expect(bad.sopInstanceUid).toBe(sent.pixel![5]!.record.sopInstanceUid);
    expect(bad.pixel).toMatchObject({ compared: true, equal: false, identicalDataSet: false });
    const good = deep.value.instances.find((i) => i.outcome === 'verified')!;
    expect(good.pixel).toMatchObject({ compared: true, equal: true, identicalDataSet: true });
  }, 60_000);

  it('C-MOVE to a listener of ours gives the same verdicts as C-GET; an unknown destination is a configuration failure', async () => {
    const viaMove = (aeTitle: string) =>
      dimseTarget({
        peer: ctx.target!,
        model: 'study',
        tempDir: join(tmp, 'moved'),
        retrieve: 'c-move',
        move: { aeTitle, port: movePort, host: '127.0.0.1', quietMs: 300 },
      });
    const deep = await verifyStudy(ctx, studyOf('pixel'), { sampled: true, target: viaMove('PACSHIFT') });
    if (!deep.ok) throw new Error(deep.error.message);
    expect(deep.value.counts).toMatchObject({ verified: 7, 'pixel-mismatch': 1 });
    expect(deep.value.instances.every((i) => i.retrieved === true)).toBe(true);
    const compressed = await verifyStudy(ctx, studyOf('compressed'), {
      sampled: true,
      target: viaMove('PACSHIFT'),
    });
    expect(compressed.ok && compressed.value.clean).toBe(true);
    const unknown = await verifyStudy(ctx, studyOf('pixel'), { sampled: true, target: viaMove('NOBODY') });
    expect(unknown.ok).toBe(false);
    if (!unknown.ok) expect(unknown.error).toMatchObject({ code: 0xa801, retryable: false });
  }, 60_000);

  it('runVerify: claims the stored studies, records each outcome, and the ledger shows what it found', async () => {
    const seen: string[] = [];
    const summary = await runVerify(ctx, { concurrency: 2, onStudy: (e) => seen.push(e.studyUid) });
    expect(summary).toMatchObject({ studies: 5, verified: 2, withProblems: 3, notVerified: 0, sampled: 5 });
    expect(summary.instances).toEqual({
      verified: 27 + 7 + 3 + 1 + 2,
      missing: 1,
      'attribute-mismatch': 1,
      'pixel-mismatch': 1,
      'duplicate-conflict': 0,
    });
    expect(new Set(seen)).toEqual(new Set(Object.keys(sent).map(studyOf)));

    const ledger = new Map((await ctx.store.ledger()).map((r) => [r.studyUid, r]));
    expect(ledger.get(studyOf('clean'))).toMatchObject({
      status: 'verified',
      instancesVerified: 27,
      instancesWithProblems: 0,
    });
    expect(ledger.get(studyOf('compressed'))).toMatchObject({ status: 'verified', instancesVerified: 3 });
    expect(ledger.get(studyOf('pixel'))).toMatchObject({
      status: 'failed',
      errorCode: 'VERIFY_PIXEL_MISMATCH',
      instancesVerified: 7,
      instancesWithProblems: 1,
    });
    // attribute mismatch and an unexpected instance: failed, both named in the cause
    const attr = ledger.get(studyOf('attribute'))!;
    expect(attr).toMatchObject({
      status: 'failed',
      errorCode: 'VERIFY_ATTRIBUTE_MISMATCH',
      instancesWithProblems: 1,
    });
    expect(attr.error).toContain(sent.attribute![1]!.record.sopInstanceUid);
    expect(attr.error).toMatch(/1 unexpected at the target/);
    // missing only: retried later (the target may still be indexing), so not verified yet
    const lost = ledger.get(studyOf('lost'))!;
    expect(lost).toMatchObject({
      status: 'migrated-not-verified',
      jobState: 'verifying',
      instancesVerified: 1,
      instancesWithProblems: 1,
    });
    expect((await ctx.store.getJobByStudy(studyOf('lost')))!).toMatchObject({
      lastErrorCode: 'VERIFY_MISSING',
      attempts: 1,
    });

    const cr = await ctx.store.getInstance(sent.lost![0]!.record.sopInstanceUid);
    expect(cr).toMatchObject({ verifyOutcome: 'missing', verifyDetail: { copies: 0 } });
    const slice = await ctx.store.getInstance(sent.attribute![1]!.record.sopInstanceUid);
    expect(slice!.verifyOutcome).toBe('attribute-mismatch');
    expect(slice!.verifyDetail).toMatchObject({
      differences: [
        {
          keyword: 'InstanceNumber',
          seenIn: 'query',
          expected: sent.attribute![1]!.record.header.InstanceNumber,
          found: '99',
        },
        { keyword: 'InstanceNumber', seenIn: 'retrieved' },
      ],
    });
    const events = await ctx.store.listEvents({ kind: 'verify.study', studyUid: studyOf('attribute') });
    expect(events[0]!.detail).toMatchObject({ unexpectedCount: 1, listingComplete: true, sampled: true });

    // Nothing left to claim: a second run does nothing (the missing one waits for its back-off).
    expect((await runVerify(ctx)).studies).toBe(0);
  }, 120_000);

  it('--again re-verifies verified studies: an instance the target lost since is a regression', async () => {
    const gone = sent.clean![4]!;
    rmSync(archived.get(gone.path.slice(corpusDir().length + 1))!);
    await archive.reindex();
    const summary = await runVerify(ctx, { again: true, sample: { percent: 0, minStudies: 0 } });
    expect(summary).toMatchObject({ studies: 2, reverified: 2, regressions: 1, sampled: 0 });
    const row = (await ctx.store.ledger()).find((r) => r.studyUid === studyOf('clean'))!;
    expect(row).toMatchObject({ status: 'verified', instancesVerified: 26, instancesWithProblems: 1 });
    expect((await ctx.store.getInstance(gone.record.sopInstanceUid))!.verifyOutcome).toBe('missing');
    const reg = await ctx.store.listEvents({ kind: 'verify.regression' });
    expect(reg.map((e) => e.studyUid)).toEqual([studyOf('clean')]);
    expect(reg[0]!.detail).toMatchObject({ code: 'VERIFY_MISSING' });
    // re-verifying only studies verified long ago: none is due
    expect((await runVerify(ctx, { again: { olderThanMs: 3_600_000 } })).studies).toBe(0);
  }, 120_000);

  it('a target that cannot be reached is a retryable failure with its code, nothing is recorded as verified', async () => {
    mkdirSync(join(tmp, 'unreachable'));
    const dead = await openTestMigration(join(tmp, 'unreachable'), {
      host: '127.0.0.1',
      port: 1,
      calledAe: 'NOBODY',
    });
    try {
      const r = await verifyStudy(dead, studyOf('clean'));
      expect(r.ok).toBe(false);
      if (!r.ok) expect(r.error).toMatchObject({ code: 'CONNECT_FAILED', retryable: true });
    } finally {
      await dead.close();
    }
  });
});
