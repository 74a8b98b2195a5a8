/**
 * Verification against Orthanc 1.10 (Debian): corpus files are put into Orthanc through its REST API,
 * the state database is filled as if the transfer had recorded them (recordPassThrough of the files
 * sent), and runVerify must find every instance. Then Orthanc is tampered with the way real targets
 * go wrong: an instance deleted (missing), a copy re-sent with another PatientID (Orthanc keys
 * instances on PatientID + UIDs, so it keeps both: a duplicate), an instance lost after verification
 * (a regression found by --again). The ledger must say exactly that.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MigrationContext } from '../../src/run/context.js';
import { hasCorpus } from '../../src/util/corpus.js';
import { dimseTarget, runVerify, verifyStudy } from '../../src/verify/index.js';
import { corpusDir } from '../harness/corpus.js';
import { fillStoreAsTransferred, recordFiles, type MigratedFile } from '../harness/migrated-store.js';
import { startOrthanc, type Orthanc } from '../harness/orthanc.js';
import { freePort } from '../harness/ports.js';
import { peers } from '../harness/process.js';
import { makeTempDir, removeTempDir } from '../harness/tmp.js';
import { openTestMigration } from '../unit/verify/fixtures.js';

const MR8 = ['mr_0003', 'mr_0004', 'mr_0005', 'mr_0006'].flatMap((d) =>
  ['1', '2'].map(
    (k) =>
      `dcm_qa/dcm_qa_nih/20180918Si/${d}/epi_pe_${{ mr_0003: 'ap', mr_0004: 'pa', mr_0005: 'rl', mr_0006: 'lr' }[d]}-0000${k}.dcm`,
  ),
);
const FMRI9 = [
  '0001_01',
  '0001_04',
  '0001_07',
  '0002_02',
  '0002_05',
  '0002_08',
  '0003_03',
  '0003_06',
  '0003_09',
].map((k) => `dcm_qa/dcm_qa_philips/Magdeburg_2014/fmri/201_EPI_asc_CLEAR_${k}.dcm`);
const GROUPS: Record<string, string[]> = {
  /** Clean; later one instance deleted: a regression. */
  fmri: FMRI9,
  /** One instance deleted before verification: missing. */
  mr: MR8,
  /** Compressed syntaxes Orthanc stores and returns as they are. */
  compressed: [
    'dicomParser/encapsulated/multi-frame/CT0012.fragmented_no_bot_jpeg_baseline.51.dcm',
    'dicomParser/encapsulated/multi-frame/CT0012.fragmented_no_bot_jpeg_ls.81.dcm',
    'dicomParser/encapsulated/multi-frame/CT0012.not_fragmented_bot_rle.dcm',
  ],
  /** Deflated: Orthanc re-deflates when sending (elements equal, bytes not). */
  deflate: ['dicomParser/deflate/image_dfl'],
  /** Names in other character sets, each its own study. */
  ...Object.fromEntries(
    ['chrFren', 'chrGreek', 'chrRuss', 'chrArab', 'chrHbrw', 'chrH32', 'chrI2', 'chrX1', 'chrX2'].map((n) => [
      n,
      [`pydicom/debian_charset_files/${n}.dcm`],
    ]),
  ),
  /** Two CR/PR; the CR re-sent with another PatientID: duplicate. */
  duplicate: [
    'orthanc-tests/HierarchicalAnonymization/2019-03-28/CR000000.dcm',
    'orthanc-tests/HierarchicalAnonymization/2019-03-28/PR000000.dcm',
  ],
};

describe.skipIf(!peers.orthanc || !hasCorpus())('verify against Orthanc', () => {
  let tmp: string;
  let orthanc: Orthanc;
  let ctx: MigrationContext;
  let movePort: number;
  const sent: Record<string, MigratedFile[]> = {};
  const orthancId = new Map<string, string>(); // corpus path → Orthanc instance id
  const studyOf = (k: string): string => sent[k]![0]!.record.studyUid!;
  const sop = (k: string, i: number): string => sent[k]![i]!.record.sopInstanceUid;

  beforeAll(async () => {
    tmp = makeTempDir('verify-orthanc');
    movePort = await freePort();
    orthanc = await startOrthanc({
      aeTitle: 'NEWPACS',
      modalities: { pacshift: { aeTitle: 'PACSHIFT', host: '127.0.0.1', port: movePort } },
    });
    for (const [k, files] of Object.entries(GROUPS)) {
      sent[k] = await recordFiles(
        files.map((f) => join(corpusDir(), f)),
        ['StudyDescription', 'SeriesNumber', 'StudyTime'],
      );
      for (const f of files) {
        const up = await orthanc.upload(join(corpusDir(), f));
        orthancId.set(f, up.ID);
      }
    }
    ctx = await openTestMigration(
      tmp,
      { host: orthanc.host, port: orthanc.dicomPort, calledAe: orthanc.aeTitle },
      { verify: { sample: { percent: 100, seed: 1 } } }, // default attributes: Rows, Columns, names, dates…
    );
    await fillStoreAsTransferred(ctx.store, Object.values(sent).flat());
  }, 180_000);

  afterAll(async () => {
    await ctx?.close();
    await orthanc?.stop();
    removeTempDir(tmp);
  });

  it('finds every instance as sent: attributes (names in nine character sets), pixels (compressed, deflated)', async () => {
    for (const k of Object.keys(GROUPS)) {
      const r = await verifyStudy(ctx, studyOf(k), { sampled: true });
      if (!r.ok) throw new Error(`${k}: ${r.error.message}`);
      const bad = r.value.instances.filter((i) => i.outcome !== 'verified');
      expect({ k, bad, unexpected: r.value.unexpected }).toEqual({ k, bad: [], unexpected: [] });
      expect(r.value.instances.every((i) => i.retrieved === true)).toBe(true);
      expect(r.value.listingComplete).toBe(true);
      // Orthanc 1.10 answers C-FIND in Latin-1 whatever the query asks: names Latin-1 cannot hold are
      // compared on the retrieved copies only, Latin-1 names in the answer as well.
      if (k === 'chrGreek' || k === 'chrH32') {
        expect(r.value.instances[0]!.unanswered).toContain('PatientName');
        expect(r.value.notes.join(' ')).toMatch(/C-FIND answered in ISO_IR 100/);
      }
      if (k === 'chrFren') expect(r.value.instances[0]!.unanswered).not.toContain('PatientName');
      if (k === 'deflate') {
        // same pixel values, re-deflated bytes
        expect(r.value.instances[0]!.pixel).toMatchObject({
          compared: true,
          equal: true,
          identicalDataSet: false,
        });
      } else if (k === 'compressed' || k === 'mr') {
        for (const i of r.value.instances) expect(i.pixel).toMatchObject({ compared: true, equal: true });
      }
    }
  }, 120_000);

  it('C-MOVE to our listener: the same verdicts as C-GET', async () => {
    const target = dimseTarget({
      peer: ctx.target!,
      model: 'study',
      tempDir: join(tmp, 'moved'),
      retrieve: 'c-move',
      move: { aeTitle: 'PACSHIFT', port: movePort, host: '127.0.0.1', quietMs: 300 },
    });
    for (const k of ['mr', 'compressed', 'deflate', 'chrH32']) {
      const r = await verifyStudy(ctx, studyOf(k), { sampled: true, target });
      if (!r.ok) throw new Error(`${k}: ${r.error.message}`);
      expect({ k, clean: r.value.clean, retrieved: r.value.instances.every((i) => i.retrieved) }).toEqual({
        k,
        clean: true,
        retrieved: true,
      });
    }
  }, 120_000);

  it('tampered: a deleted instance is missing, a re-sent copy under another PatientID a duplicate; the ledger shows both', async () => {
    // mr: delete one instance
    await orthanc.rest.delete(`/instances/${orthancId.get(GROUPS.mr![3]!)}`);
    // duplicate: a copy of the CR with another PatientID, made by Orthanc itself, uploaded back
    const crId = orthancId.get(GROUPS.duplicate![0]!)!;
    const res = await orthanc.rest.request('POST', `/instances/${crId}/modify`, {
      Replace: { PatientID: 'ANOTHER-ID' },
      Keep: ['SOPInstanceUID'],
      Force: true,
    });
    expect(res.status).toBe(200);
    const copy = join(tmp, 'cr-another-patient.dcm');
    writeFileSync(copy, Buffer.from(await res.arrayBuffer()));
    await orthanc.upload(copy);
    const found = (await orthanc.rest.post('/tools/find', {
      Level: 'Instance',
      Query: { SOPInstanceUID: sop('duplicate', 0) },
    })) as string[];
    expect(found).toHaveLength(2);

    const summary = await runVerify(ctx, { concurrency: 2 });
    expect(summary).toMatchObject({ studies: Object.keys(GROUPS).length, withProblems: 2, notVerified: 0 });
    expect(summary.instances).toMatchObject({ missing: 1, 'duplicate-conflict': 1 });

    const ledger = new Map((await ctx.store.ledger()).map((r) => [r.studyUid, r]));
    for (const k of Object.keys(GROUPS)) {
      if (k === 'mr' || k === 'duplicate') continue;
      expect({ k, status: ledger.get(studyOf(k))!.status }).toEqual({ k, status: 'verified' });
    }
    expect(ledger.get(studyOf('mr'))).toMatchObject({
      status: 'migrated-not-verified',
      instancesVerified: 7,
      instancesWithProblems: 1,
    });
    expect((await ctx.store.getJobByStudy(studyOf('mr')))!).toMatchObject({
      state: 'verifying',
      lastErrorCode: 'VERIFY_MISSING',
    });
    expect(await ctx.store.getInstance(sop('mr', 3))).toMatchObject({ verifyOutcome: 'missing' });

    expect(ledger.get(studyOf('duplicate'))).toMatchObject({
      status: 'failed',
      errorCode: 'VERIFY_DUPLICATE',
      instancesVerified: 1,
      instancesWithProblems: 1,
    });
    const dup = await ctx.store.getInstance(sop('duplicate', 0));
    expect(dup!.verifyOutcome).toBe('duplicate-conflict');
    expect(dup!.verifyDetail).toMatchObject({ copies: 2 });
    // the other PatientID shows as a difference, its value withheld
    expect(JSON.stringify(dup!.verifyDetail)).toContain('"keyword":"PatientID"');
    expect(JSON.stringify(dup!.verifyDetail)).not.toContain('ANOTHER-ID');
    const outcomes = await ctx.store.listInstanceOutcomes(studyOf('duplicate'));
    expect(outcomes.map((o) => [o.phase, o.category, o.sopInstanceUid])).toEqual([
      ['verify', 'duplicate-conflict', sop('duplicate', 0)],
    ]);
  }, 180_000);

  it('--again: an instance deleted after verification is found missing, the study a regression', async () => {
    await orthanc.rest.delete(`/instances/${orthancId.get(GROUPS.fmri![4]!)}`);
    const summary = await runVerify(ctx, { again: true, sample: { percent: 0, minStudies: 0 } });
    expect(summary.regressions).toBe(1);
    expect(summary.reverified).toBe(Object.keys(GROUPS).length - 2);
    const row = (await ctx.store.ledger()).find((r) => r.studyUid === studyOf('fmri'))!;
    expect(row).toMatchObject({ status: 'verified', instancesVerified: 8, instancesWithProblems: 1 });
    expect((await ctx.store.getInstance(sop('fmri', 4)))!.verifyOutcome).toBe('missing');
    expect((await ctx.store.listEvents({ kind: 'verify.regression' })).map((e) => e.studyUid)).toEqual([
      studyOf('fmri'),
    ]);
  }, 120_000);
});
