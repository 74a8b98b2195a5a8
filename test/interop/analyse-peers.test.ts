/**
 * `analyze` against real archives holding corpus files chosen for their data-quality problems:
 * Orthanc 1.10 (inventory by C-FIND, every instance sampled by C-GET) and DCMTK's dcmqrscp (sampled by
 * C-MOVE into our listener on plan.local.port). Ground truth from MANIFEST.tsv for the files each peer
 * holds (SeriesNumber from dicom-parser): patient names and birth dates per PatientID, the placeholder
 * ID 123456, studies under several patients, series with several SeriesNumbers or modalities.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runAnalysis, type AnalysisResult } from '../../src/analyse/index.js';
import { runInventory } from '../../src/inventory/index.js';
import { hasCorpus, manifest, wellFormedUncompressed, type ManifestRow } from '../harness/corpus.js';
import { startDcmqrscp, type Dcmqrscp } from '../harness/dcmqrscp.js';
import { OrthancHttpError, startOrthanc, type Orthanc } from '../harness/orthanc.js';
import { freePort } from '../harness/ports.js';
import { peers } from '../harness/process.js';
import {
  groupsWithSeveral,
  normName,
  seriesWithSeveralNumbers,
  several,
  testPlan,
  valuesByPatient,
  type TestPlan,
} from '../unit/analyse/fixtures.js';

const GE_DEV = 'dcm_qa/dcm_qa_nih/20180918GE/';
/** Files with known problems (corpus README, "Data-quality findings"), plus a few of the 150-file GE series. */
function chosen(): ManifestRow[] {
  const prefixes = [
    'dcm_qa/dcm_qa_nih/20180918Si/',
    'orthanc-tests/PatientIdsCollision/',
    'dcmjs-dimse/ele.dcm',
    'dcmqi/segmentations/23x38x3/',
    'highdicom/dx_image.dcm',
    'highdicom/ct_image.dcm',
    'highdicom/sr_document.dcm',
    'dcm_qa/dcm_qa_ts/',
    'weasis-dicom-tools/dcm4che3/img/prOverlay.dcm',
    'dcm4che/ovly_p01.dcm',
  ];
  const ge = manifest()
    .filter((r) => r.path.startsWith(GE_DEV))
    .slice(0, 3);
  return [...manifest().filter((r) => prefixes.some((p) => r.path.startsWith(p))), ...ge];
}

const byPatient = (r: AnalysisResult, code: string): string[] =>
  r.findings
    .filter((f) => f.code === code)
    .map((f) => String((f.detail as { patientId: string }).patientId))
    .sort();
const subjectsOf = (r: AnalysisResult, code: string): string[] =>
  r.findings
    .filter((f) => f.code === code)
    .map((f) => f.subject)
    .sort();

/** What every peer's analysis must show, for the manifest rows of what it holds. */
function expectTruth(r: AnalysisResult, held: readonly ManifestRow[]): void {
  expect(byPatient(r, 'PATIENT_NAME_CONFLICT')).toEqual(
    several(valuesByPatient(held, (x) => normName(x.patientName))).sort(),
  );
  expect(byPatient(r, 'PATIENT_BIRTHDATE_CONFLICT')).toEqual(
    several(valuesByPatient(held, (x) => x.patientBirthDate.trim())).sort(),
  );
  expect(subjectsOf(r, 'STUDY_MULTI_PATIENT')).toEqual(
    groupsWithSeveral(
      held,
      (x) => x.studyInstanceUid,
      (x) => x.patientId.trim(),
    ),
  );
  expect(subjectsOf(r, 'SERIES_NUMBER_INCONSISTENT')).toEqual(seriesWithSeveralNumbers(held));
  expect(subjectsOf(r, 'SERIES_MODALITY_INCONSISTENT')).toEqual(
    groupsWithSeveral(
      held.filter((x) => x.modality !== ''),
      (x) => x.seriesInstanceUid,
      (x) => x.modality,
    ),
  );
}

describe.skipIf(!peers.orthanc || !hasCorpus())('analyze a real Orthanc (C-GET sample)', () => {
  let orthanc: Orthanc;
  let plan: TestPlan;
  let held: ManifestRow[];
  let result: AnalysisResult;

  beforeAll(async () => {
    orthanc = await startOrthanc({ aeTitle: 'ORTHANC' });
    const stored = new Set<string>();
    for (const r of chosen()) {
      try {
        await orthanc.upload(r.absPath);
        stored.add(r.path);
      } catch (e) {
        if (!(e instanceof OrthancHttpError)) throw e;
      }
    }
    const seen = new Set<string>();
    held = chosen().filter(
      (r) => stored.has(r.path) && !seen.has(r.sopInstanceUid) && seen.add(r.sopInstanceUid),
    );
    plan = await testPlan(
      `{ type: dimse, host: 127.0.0.1, port: ${orthanc.dicomPort}, calledAe: ORTHANC, retrieve: c-get }`,
    );
    await runInventory(plan.ctx);
    result = await runAnalysis(plan.ctx, {
      sample: { perSeries: 'all' },
      logPhi: true,
      tempDir: `${plan.dir}/tmp`,
    });
  }, 300_000);

  afterAll(async () => {
    await plan?.stop();
    await orthanc?.stop();
  });

  it('holds the chosen files and read a copy of each', () => {
    expect(held.length).toBeGreaterThan(30);
    expect(result.inventory.instances).toBe(held.length);
    expect(result.sample.problems).toEqual([]);
    expect(result.sample.read).toBe(held.length);
  });

  it('finds what the manifest says about the files Orthanc holds', () => {
    expectTruth(result, held);
    expect(byPatient(result, 'PATIENT_BIRTHDATE_CONFLICT')).toContain('DEV');
    const shared = result.findings.find(
      (f) => f.code === 'PATIENT_ID_SHARED' && (f.detail as { patientId: string }).patientId === '123456',
    );
    expect(shared?.detail).toMatchObject({ people: 3, placeholderLike: true });
    expect(subjectsOf(result, 'STUDY_MULTI_PATIENT')).toContain('2.25.123');
    const qaTs = manifest().find((r) => r.path === 'dcm_qa/dcm_qa_ts/1.dcm')!.seriesInstanceUid;
    expect(subjectsOf(result, 'SERIES_NUMBER_INCONSISTENT')).toContain(qaTs);
    expect(subjectsOf(result, 'SERIES_MODALITY_INCONSISTENT')).toHaveLength(1);
  });
});

describe.skipIf(!peers.dcmtk || !hasCorpus())(
  'analyze DCMTK dcmqrscp (C-MOVE sample into our listener)',
  () => {
    let qr: Dcmqrscp;
    let plan: TestPlan;
    let held: ManifestRow[];
    let result: AnalysisResult;

    beforeAll(async () => {
      // dcmqrscp moves only what it can send uncompressed.
      const ok = new Set(wellFormedUncompressed().map((r) => r.path));
      const files = chosen().filter((r) => ok.has(r.path));
      const port = await freePort();
      qr = await startDcmqrscp({
        aeTitle: 'DCMQR',
        files: files.map((r) => r.absPath),
        peers: [{ aeTitle: 'PACSHIFT', host: '127.0.0.1', port }],
      });
      const indexed = new Set(qr.indexed);
      const seen = new Set<string>();
      held = files.filter(
        (r) => indexed.has(r.absPath) && !seen.has(r.sopInstanceUid) && seen.add(r.sopInstanceUid),
      );
      plan = await testPlan(
        `{ type: dimse, host: 127.0.0.1, port: ${qr.port}, calledAe: DCMQR, retrieve: c-move }`,
        `{ aeTitle: PACSHIFT, port: ${port} }`,
      );
      await runInventory(plan.ctx);
      result = await runAnalysis(plan.ctx, {
        sample: { perSeries: 'all' },
        logPhi: true,
        tempDir: `${plan.dir}/tmp`,
      });
    }, 300_000);

    afterAll(async () => {
      await plan?.stop();
      await qr?.stop();
    });

    it('read a copy of every instance it holds, by C-MOVE', () => {
      expect(held.length).toBeGreaterThan(20);
      expect(result.inventory.instances).toBe(held.length);
      expect(result.sample.problems).toEqual([]);
      expect(result.sample.read).toBe(held.length);
    });

    it('finds what the manifest says about the files dcmqrscp holds', () => {
      expectTruth(result, held);
      expect(byPatient(result, 'PATIENT_NAME_CONFLICT')).toContain('COMMON');
      expect(byPatient(result, 'PATIENT_BIRTHDATE_CONFLICT')).toContain('DEV');
      expect(subjectsOf(result, 'STUDY_MULTI_PATIENT').length).toBeGreaterThan(0);
      expect(subjectsOf(result, 'SERIES_NUMBER_INCONSISTENT').length).toBeGreaterThan(0);
    });
  },
);
