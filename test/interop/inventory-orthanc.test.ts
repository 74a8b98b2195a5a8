/**
 * Inventory of a real Orthanc 1.10 loaded with the whole corpus (every upload attempted, refusals
 * counted), with LimitFindResults far below its study count: the capped answers (FE00) are split until
 * every part completes; the result is checked against Orthanc's REST API. Then a delta: a study
 * deleted and one added through REST between two runs.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readInstanceInfo } from '../../src/dicom/part10.js';
import { parseDA } from '../../src/inventory/dates.js';
import { type InventorySummary, runInventory } from '../../src/inventory/index.js';
import type { InventoryQuery } from '../../src/state/index.js';
import { hasCorpus, manifest, type ManifestRow } from '../harness/corpus.js';
import { OrthancHttpError, startOrthanc, type Orthanc } from '../harness/orthanc.js';
import { peers } from '../harness/process.js';
import {
  type TestMigration,
  type Truth,
  dimseSource,
  expectHonestCappedInventory,
  inventoried,
  migration,
  truthOf,
} from '../unit/inventory/fixtures.js';

interface RestStudy {
  ID: string;
  MainDicomTags: { StudyInstanceUID?: string; StudyDate?: string };
  PatientMainDicomTags: { PatientID?: string };
}
interface RestSeries {
  MainDicomTags: { SeriesInstanceUID?: string };
}
interface RestInstance {
  MainDicomTags: { SOPInstanceUID?: string };
}

/** What Orthanc holds, by its REST API. */
async function restTruth(o: Orthanc) {
  const studies = await o.rest.get<RestStudy[]>('/studies?expand');
  const series = await o.rest.get<RestSeries[]>('/series?expand');
  const instances = await o.rest.get<RestInstance[]>('/instances?expand');
  const perUid = new Map<string, number>();
  for (const s of studies)
    perUid.set(s.MainDicomTags.StudyInstanceUID!, (perUid.get(s.MainDicomTags.StudyInstanceUID!) ?? 0) + 1);
  return {
    studies,
    studyUids: new Set(studies.map((s) => s.MainDicomTags.StudyInstanceUID!)),
    seriesUids: new Set(series.map((s) => s.MainDicomTags.SeriesInstanceUID!)),
    sopUids: new Set(instances.map((i) => i.MainDicomTags.SOPInstanceUID!)),
    /** StudyInstanceUIDs Orthanc keeps under more than one patient. */
    severalPatients: [...perUid].filter(([, n]) => n > 1).map(([uid]) => uid),
  };
}

/** Manifest rows of what Orthanc holds (the first row per SOP Instance UID). */
function rowsHeld(sops: ReadonlySet<string>): ManifestRow[] {
  const seen = new Set<string>();
  return manifest().filter(
    (r) => sops.has(r.sopInstanceUid) && !seen.has(r.sopInstanceUid) && seen.add(r.sopInstanceUid),
  );
}

/**
 * Files nested deeper than our reader's limit (readInstanceInfo: too-deep) crash Orthanc 1.10's parser
 * (the process dies, every later upload fails): they are not uploaded, and counted apart.
 */
async function crashesOrthanc(r: ManifestRow): Promise<boolean> {
  const info = await readInstanceInfo(r.absPath);
  return !info.ok && info.error.code === 'too-deep';
}

async function uploadAll(
  o: Orthanc,
  rows: readonly ManifestRow[],
): Promise<{ stored: number; refused: { path: string; status: number }[] }> {
  const refused: { path: string; status: number }[] = [];
  let stored = 0;
  for (const r of rows) {
    try {
      await o.upload(r.absPath);
      stored++;
    } catch (e) {
      if (!(e instanceof OrthancHttpError)) throw e;
      refused.push({ path: r.path, status: e.status });
    }
  }
  return { stored, refused };
}

describe.skipIf(!peers.orthanc || !hasCorpus())('inventory of Orthanc with LimitFindResults 5', () => {
  let orthanc: Orthanc;
  let m: TestMigration;
  let upload: Awaited<ReturnType<typeof uploadAll>>;
  let skipped = 0;
  let summary: InventorySummary;
  let truth: Truth;
  let queries: InventoryQuery[];
  let rest: Awaited<ReturnType<typeof restTruth>>;

  beforeAll(async () => {
    orthanc = await startOrthanc({ aeTitle: 'ORTHANC', config: { LimitFindResults: 5 } });
    const crashing: ManifestRow[] = [];
    for (const r of manifest()) if (await crashesOrthanc(r)) crashing.push(r);
    skipped = crashing.length;
    upload = await uploadAll(
      orthanc,
      manifest().filter((r) => !crashing.includes(r)),
    );
    rest = await restTruth(orthanc);
    m = await migration(dimseSource(orthanc.dicomPort, 'ORTHANC'));
    summary = await runInventory(m.ctx);
    truth = truthOf(rowsHeld(rest.sopUids));
    queries = await m.ctx.store.listQueries(summary.runId);
  }, 300_000);
  afterAll(async () => {
    await m?.stop();
    await orthanc?.stop();
  });

  it('loaded the corpus: every upload attempted, the refusals counted', () => {
    expect(upload.stored + upload.refused.length + skipped).toBe(manifest().length);
    expect(skipped).toBeGreaterThan(0);
    expect(upload.refused.every((r) => r.status >= 400 && r.status < 500)).toBe(true);
    expect(orthanc.process.exitStatus()).toBeUndefined();
    expect(upload.refused.length).toBeGreaterThan(0);
    expect(rest.sopUids.size).toBeGreaterThan(300);
    expect(rest.studyUids.size).toBeGreaterThan(5 * 10);
    // The manifest rows of what Orthanc holds give the same study and series UIDs as its REST API.
    expect(new Set(truth.studies.keys())).toEqual(rest.studyUids);
    expect(new Set(truth.series.keys())).toEqual(rest.seriesUids);
  });

  it('splits the capped answers and lists what Orthanc holds, never claiming more than it proved', async () => {
    const found = await inventoried(m.ctx.store, truth);
    expectHonestCappedInventory({ summary, truth, found, queries });
    // Every study Orthanc holds with a StudyDate is found, and the instances and series of the found studies.
    const dated = rest.studies
      .filter((s) => parseDA(s.MainDicomTags.StudyDate) !== undefined)
      .map((s) => s.MainDicomTags.StudyInstanceUID!);
    expect(dated.filter((u) => !found.studies.has(u))).toEqual([]);
    const seriesOfFound = [...truth.series].filter(([, st]) => found.studies.has(st)).map(([se]) => se);
    expect(seriesOfFound.filter((se) => !found.series.has(se))).toEqual([]);
    const sopsOfFound = [...truth.instances].filter(([, se]) => found.series.has(se)).map(([sop]) => sop);
    expect(sopsOfFound.filter((sop) => !found.instances.has(sop))).toEqual([]);
    // Orthanc ends a capped answer with FE00: recorded as capped, with parts below it. It caps the
    // candidates of its database lookup, before its own DICOM matching drops some: FE00 can follow
    // fewer matches than the limit.
    const capped = queries.filter((q) => q.status === 0xfe00);
    expect(capped.length).toBeGreaterThan(0);
    expect(capped.filter((q) => q.complete || q.resultCount > 5)).toEqual([]);
    expect(capped.some((q) => q.resultCount < 5)).toBe(true);
    expect(
      capped.filter((q) => q.level === 'STUDY').every((q) => queries.some((c) => c.parentId === q.id)),
    ).toBe(true);
    expect(summary.queries!.studyLevel.dated).toBeGreaterThan(3);
    const missed = [...rest.studyUids].filter((u) => !found.studies.has(u));
    const emptyKeys = async (uid: string) => {
      const s = rest.studies.find((x) => x.MainDicomTags.StudyInstanceUID === uid)!;
      const full = await orthanc.rest.get<{
        MainDicomTags: Record<string, string>;
        PatientMainDicomTags: Record<string, string>;
      }>(`/studies/${s.ID}`);
      const tags = { ...full.MainDicomTags, ...full.PatientMainDicomTags };
      return ['StudyDate', 'StudyTime', 'PatientID', 'PatientName'].filter((k) => !tags[k]).join('+');
    };
    console.log(
      `orthanc: ${upload.stored} uploaded, ${upload.refused.length} refused, ${skipped} not uploaded (crash Orthanc); ` +
        `${rest.studyUids.size} studies held, ${found.studies.size} inventoried; ${summary.queries!.issued} queries ` +
        `(${summary.queries!.capped} capped), complete=${summary.complete}; missed: ${(await Promise.all(missed.map(async (u) => `${u} (empty ${await emptyKeys(u)})`))).join(', ')}`,
    );
  });

  it('records a study Orthanc holds under two patients as a finding, and the counts that disagree with it', async () => {
    expect(rest.severalPatients.length).toBeGreaterThan(0);
    const flagged = new Set(
      (await m.ctx.store.listEvents({ kind: 'inventory.study-in-several-patients', limit: 1000 })).map(
        (e) => e.studyUid,
      ),
    );
    for (const uid of rest.severalPatients) expect(flagged.has(uid), uid).toBe(true);
    // Counts Orthanc reports per (patient, study) resource disagree with the study's full listing: findings, not fixed.
    const mismatches = await m.ctx.store.listEvents({ kind: 'inventory.count-mismatch', limit: 1000 });
    for (const e of mismatches) expect(rest.severalPatients).toContain(e.studyUid);
    expect(summary.findings['inventory.count-mismatch'] ?? 0).toBe(mismatches.length);
  });
});

describe.skipIf(!peers.orthanc || !hasCorpus())('inventory deltas against Orthanc', () => {
  let orthanc: Orthanc;
  let m: TestMigration;
  /** Dated single-patient studies with a PatientID, files Orthanc takes. */
  const pick = (): ManifestRow[][] => {
    const by = new Map<string, ManifestRow[]>();
    for (const r of manifest())
      if (r.studyInstanceUid && r.dcmdumpStatus === 'ok' && r.transferSyntax === 'Explicit VR Little Endian')
        by.set(r.studyInstanceUid, [...(by.get(r.studyInstanceUid) ?? []), r]);
    return [...by.values()]
      .filter(
        (rows) =>
          parseDA(rows[0]!.studyDate) !== undefined &&
          new Set(rows.map((r) => r.patientId)).size === 1 &&
          rows[0]!.patientId !== '',
      )
      .sort((a, b) => a[0]!.studyInstanceUid.localeCompare(b[0]!.studyInstanceUid))
      .slice(0, 13);
  };

  beforeAll(async () => {
    orthanc = await startOrthanc({ aeTitle: 'ORTHANC', config: { LimitFindResults: 5 } });
    m = await migration(dimseSource(orthanc.dicomPort, 'ORTHANC'));
  }, 120_000);
  afterAll(async () => {
    await m?.stop();
    await orthanc?.stop();
  });

  it('records one vanished and one new study, with the time each run saw them', async () => {
    const studies = pick();
    expect(studies.length).toBe(13);
    const held = studies.slice(0, 12);
    const added = studies[12]!;
    const up = await uploadAll(orthanc, held.flat());
    expect(up.refused).toEqual([]);

    const first = await runInventory(m.ctx);
    expect(first.complete).toBe(true);
    expect(first.queries!.capped).toBeGreaterThan(0);
    expect(first.studies).toBe(12);

    const victim = held[0]![0]!.studyInstanceUid;
    const restStudies = await orthanc.rest.get<RestStudy[]>('/studies?expand');
    await orthanc.rest.delete(
      `/studies/${restStudies.find((s) => s.MainDicomTags.StudyInstanceUID === victim)!.ID}`,
    );
    expect((await uploadAll(orthanc, added)).refused).toEqual([]);

    const before = Date.now();
    const second = await runInventory(m.ctx);
    const after = Date.now();
    expect(second.complete).toBe(true);
    const changes = await m.ctx.store.listChanges(second.runId, 'study');
    expect(changes.filter((c) => c.kind === 'new').map((c) => c.uid)).toEqual([added[0]!.studyInstanceUid]);
    expect(changes.filter((c) => c.kind === 'vanished').map((c) => c.uid)).toEqual([victim]);
    for (const c of changes) {
      expect(c.seenAt).toBeGreaterThanOrEqual(before);
      expect(c.seenAt).toBeLessThanOrEqual(after);
    }
    expect(second.changes.study).toMatchObject({ new: 1, vanished: 1 });
    const gone = await m.ctx.store.getStudy(victim);
    expect(gone?.vanishedAt).toBe(changes.find((c) => c.kind === 'vanished')!.seenAt);
    expect(gone?.lastRunId).toBe(first.runId);
    const fresh = await m.ctx.store.getStudy(added[0]!.studyInstanceUid);
    expect(fresh).toMatchObject({ firstRunId: second.runId, vanishedAt: null });
  });
});
