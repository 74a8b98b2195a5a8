/**
 * `analyze` on the real corpus served by the built-in archive (DICOM source: inventory by C-FIND, a
 * sample of every instance by C-GET), against ground truth computed from MANIFEST.tsv (and, for the
 * SeriesNumber the manifest lacks, from dicom-parser as an independent reader):
 * - one PatientID with several names / birth dates (DEV: two birth dates), a placeholder ID shared by
 *   unrelated people (123456: three names), StudyInstanceUIDs under more than one patient;
 * - the series carrying several SeriesNumbers, the series carrying several modalities;
 * - SOP Instance UIDs with other content: the archive serves one copy per UID, so the analysis sees
 *   other content when the source replaces a copy (a re-sent instance under the same UID): the
 *   manifest's header_sha256 tells which replacements are other content and which are re-encodings.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runAnalysis, type AnalysisResult, type Finding } from '../../../src/analyse/index.js';
import { readInstanceInfo } from '../../../src/dicom/part10.js';
import { runInventory } from '../../../src/inventory/index.js';
import { storeInstances, type SendableInstance } from '../../../src/net/services/store-scu.js';
import { hasCorpus, manifest, type ManifestRow } from '../../harness/corpus.js';
import {
  type CorpusArchive,
  datasetDigest,
  sentDigest,
  servedRows,
  startCorpusArchive,
} from '../archive/fixtures.js';
import {
  groupsWithSeveral,
  normName,
  seriesWithSeveralNumbers,
  several,
  testPlan,
  valuesByPatient,
  type TestPlan,
} from './fixtures.js';

const subjectsOf = (r: AnalysisResult, code: string): string[] =>
  r.findings
    .filter((f) => f.code === code)
    .map((f) => f.subject)
    .sort();
const byPatient = (r: AnalysisResult, code: string): Map<string, Finding> =>
  new Map(
    r.findings
      .filter((f) => f.code === code)
      .map((f) => [String((f.detail as { patientId: string }).patientId), f]),
  );

describe.skipIf(!hasCorpus())('analyze: the corpus served by the built-in archive', () => {
  let corpus: CorpusArchive;
  let plan: TestPlan;
  let result: AnalysisResult;
  let served: ManifestRow[];

  beforeAll(async () => {
    corpus = await startCorpusArchive();
    served = servedRows(corpus.archive);
    plan = await testPlan(
      `{ type: dimse, host: 127.0.0.1, port: ${corpus.archive.port}, calledAe: ARCHIVE, retrieve: c-get }`,
    );
    const inv = await runInventory(plan.ctx);
    expect(inv.complete).toBe(true);
    result = await runAnalysis(plan.ctx, {
      sample: { perSeries: 'all' },
      logPhi: true,
      tempDir: `${plan.dir}/tmp`,
    });
  }, 240_000);

  afterAll(async () => {
    await plan?.stop();
    await corpus?.stop();
  });

  it('inventoried and read every served instance (but those whose UIDs our receiver refuses)', () => {
    expect(result.inventory.instances).toBe(served.length);
    expect(result.sample.requested).toBe(served.length);
    // Our C-GET receiver refuses a data set whose SOP Instance UID breaks the UID rules (0117); the analysis says so.
    const refused = served.filter((r) => !/^[0-9.]+$/.test(r.sopInstanceUid) || r.sopInstanceUid.length > 64);
    expect(result.sample.read).toBe(served.length - refused.length);
    expect(result.sample.problems.map((p) => p.seriesUid).sort()).toEqual(
      refused.map((r) => r.seriesInstanceUid).sort(),
    );
    expect(result.sample.seriesCovered).toBe(
      new Set(served.map((r) => r.seriesInstanceUid)).size - refused.length,
    );
  });

  it('finds every PatientID with different names and with different birth dates', () => {
    const names = several(valuesByPatient(served, (r) => normName(r.patientName))).sort();
    const births = several(valuesByPatient(served, (r) => r.patientBirthDate.trim())).sort();
    expect([...byPatient(result, 'PATIENT_NAME_CONFLICT').keys()].sort()).toEqual(names);
    expect([...byPatient(result, 'PATIENT_BIRTHDATE_CONFLICT').keys()].sort()).toEqual(births);
    // DEV: the same volunteer on two scanners, BirthDate empty on one and 19700101 on the other.
    const dev = byPatient(result, 'PATIENT_BIRTHDATE_CONFLICT').get('DEV');
    expect(dev?.detail).toMatchObject({ distinctValues: 2, includesEmpty: true });
    const devStudies = new Set(served.filter((r) => r.patientId === 'DEV').map((r) => r.studyInstanceUid));
    expect(dev?.studyUids).toEqual([...devStudies].sort());
    expect(byPatient(result, 'PATIENT_NAME_CONFLICT').has('DEV')).toBe(false);
  });

  it('finds the placeholder IDs shared by people whose names have no word in common (123456: three)', () => {
    const names = valuesByPatient(served, (r) => normName(r.patientName));
    const words = (n: string) => new Set(n.split(/[\^ ,.=-]+/).filter((w) => w.length > 1));
    const unrelated = [...names].filter(([, set]) => {
      const list = [...set].filter((n) => n !== '');
      return (
        list.length > 1 &&
        list.every((a, i) => list.every((b, j) => i === j || ![...words(a)].some((w) => words(b).has(w))))
      );
    });
    const shared = byPatient(result, 'PATIENT_ID_SHARED');
    expect([...shared.keys()].sort()).toEqual(unrelated.map(([id]) => id).sort());
    for (const [id, set] of unrelated)
      expect(shared.get(id)?.detail, id).toMatchObject({ people: [...set].filter((n) => n !== '').length });
    expect(shared.get('123456')?.detail).toMatchObject({ people: 3, placeholderLike: true });
  });

  it('finds every StudyInstanceUID carrying more than one patient', () => {
    const truth = groupsWithSeveral(
      served,
      (r) => r.studyInstanceUid,
      (r) => r.patientId.trim(),
    );
    expect(truth).toContain('2.25.123');
    expect(subjectsOf(result, 'STUDY_MULTI_PATIENT')).toEqual(truth);
  });

  it('finds the series carrying several SeriesNumbers and several modalities', () => {
    const truth = seriesWithSeveralNumbers(served);
    const qaTs = manifest().find((r) => r.path === 'dcm_qa/dcm_qa_ts/1.dcm')!.seriesInstanceUid;
    expect(truth).toContain(qaTs);
    expect(subjectsOf(result, 'SERIES_NUMBER_INCONSISTENT')).toEqual(truth);
    expect(
      result.findings.find((f) => f.subject === qaTs && f.code === 'SERIES_NUMBER_INCONSISTENT')?.detail,
    ).toEqual({
      seriesNumbers: ['1', '2', '3', '4', '5', '6', '7', '8', '9'],
    });
    const modalities = groupsWithSeveral(
      served.filter((r) => r.modality !== ''),
      (r) => r.seriesInstanceUid,
      (r) => r.modality,
    );
    expect(subjectsOf(result, 'SERIES_MODALITY_INCONSISTENT')).toEqual(modalities);
  });

  it('sees one copy per SOP Instance UID, so no content conflict yet', () => {
    expect(subjectsOf(result, 'SOP_CONTENT_CONFLICT')).toEqual([]);
  });

  it(
    'finds SOP Instance UIDs whose content changed when the source replaces the copy it serves',
    { timeout: 240_000 },
    async () => {
      const bySop = new Map<string, ManifestRow[]>();
      for (const r of manifest())
        if (r.sopInstanceUid) bySop.set(r.sopInstanceUid, [...(bySop.get(r.sopInstanceUid) ?? []), r]);
      const groups = [...bySop.values()].filter((g) => g.length > 1);
      // The copy each UID was read as, then the other copies sent to the archive (which serves the latest).
      const read = new Map<string, string>();
      for (const h of await plan.ctx.store.listAnalysisHeaders({ limit: 10_000 }))
        read.set(h.sopInstanceUid, h.datasetSha256 ?? '');
      const others: SendableInstance[] = [];
      const replaced: ManifestRow[][] = [];
      for (const g of groups) {
        const sha = read.get(g[0]!.sopInstanceUid);
        if (!sha) continue;
        const other = g.find((r) => datasetDigest(r.absPath) !== sha && sentDigest(r.absPath) !== sha);
        if (!other) continue;
        const info = await readInstanceInfo(other.absPath);
        if (!info.ok) continue;
        const i = info.value;
        others.push({
          path: other.absPath,
          sopClassUid: i.sopClassUid,
          sopInstanceUid: i.sopInstanceUid,
          transferSyntaxUid: i.transferSyntaxUid,
          datasetOffset: i.datasetOffset,
          datasetLength: i.datasetLength,
        });
        replaced.push(g);
      }
      expect(replaced.length).toBeGreaterThanOrEqual(3);
      const outcomes = await storeInstances(
        { host: '127.0.0.1', port: corpus.archive.port, aeTitle: 'ARCHIVE', callingAeTitle: 'MODALITY' },
        others,
      );
      const stored = new Set(outcomes.filter((o) => o.ok).map((o) => o.instance.sopInstanceUid));
      expect(stored.size).toBe(others.length);

      const again = await runAnalysis(plan.ctx, {
        sample: { perSeries: 'all', resample: true },
        logPhi: false,
        tempDir: `${plan.dir}/tmp`,
      });
      const conflicts = replaced
        .filter((g) => new Set(g.map((r) => r.headerSha256)).size > 1)
        .map((g) => g[0]!.sopInstanceUid)
        .sort();
      const reencoded = replaced
        .filter((g) => new Set(g.map((r) => r.headerSha256)).size === 1)
        .map((g) => g[0]!.sopInstanceUid);
      expect(conflicts.length).toBeGreaterThanOrEqual(2);
      expect(reencoded.length).toBeGreaterThanOrEqual(1);
      expect(subjectsOf(again, 'SOP_CONTENT_CONFLICT')).toEqual(conflicts);
      for (const f of again.findings.filter((x) => x.code === 'SOP_CONTENT_CONFLICT'))
        expect(f.studyUids).toEqual([bySop.get(f.subject)![0]!.studyInstanceUid]);
    },
  );
});
