/**
 * `analyze` checks the plan's correction tables against the real corpus served by the built-in archive
 * (inventory by C-FIND, every instance sampled by C-GET). The tables are built from MANIFEST.tsv and
 * every expectation is computed from it (served rows: one per SOP Instance UID):
 *
 * - table `merge` (match PatientID): DEV → DEV-MERGED; an ID that exists nowhere; a chain (the most
 *   frequent phantom ID → the next ID, which itself → a new ID); a collision (an ID → another
 *   existing ID of another person); an ID mapped to itself (no-op); the first patient of a study
 *   holding several patients (partial);
 * - table `split` (match PatientID + PatientName): one of the names under the placeholder 123456 → a new ID.
 *
 * Findings: CORR_ROW_UNUSED, CORR_CHAIN, CORR_TARGET_COLLIDES, CORR_NOOP, CORR_PARTIAL with their rows
 * and studies; the summary counts are what Transformer.plan() yields over the served files' headers.
 * Without logPhi no value of the tables appears in the findings or the report files.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ANALYSIS_FILES,
  runAnalysis,
  writeAnalysisReport,
  type AnalysisResult,
  type Finding,
} from '../../../src/analyse/index.js';
import { runInventory } from '../../../src/inventory/index.js';
import { openMigration, type MigrationContext } from '../../../src/run/context.js';
import { loadTransformer, type PlanTransformer } from '../../../src/transform/index.js';
import { hasCorpus, type ManifestRow } from '../../harness/corpus.js';
import { makeTempDir, removeTempDir } from '../../harness/tmp.js';
import { servedRows, startCorpusArchive, type CorpusArchive } from '../archive/fixtures.js';
import { normName } from './fixtures.js';

const id = (r: ManifestRow) => r.patientId.trim();
const identity = (r: ManifestRow) => JSON.stringify([normName(r.patientName), r.patientBirthDate.trim()]);
const distinct = <T>(xs: Iterable<T>): T[] => [...new Set(xs)];
const sorted = (xs: Iterable<string>): string[] => distinct(xs).sort();

interface MergeRow {
  old: string;
  new: string;
}

const of = (r: AnalysisResult, code: string): Finding[] => r.findings.filter((f) => f.code === code);
const rowsOf = (f: Finding): number[] => (f.detail as { rows: number[] }).rows;

describe.skipIf(!hasCorpus())('analyze: correction tables against the corpus (built-in archive)', () => {
  let corpus: CorpusArchive;
  let served: ManifestRow[];
  let dir: string;
  let ctx: MigrationContext;
  let result: AnalysisResult;
  let merge: MergeRow[];
  let split: { id: string; name: string; new: string }[];
  let transformer: PlanTransformer;

  beforeAll(async () => {
    corpus = await startCorpusArchive();
    served = servedRows(corpus.archive);
    dir = makeTempDir('corr');

    // Ground truth drives the choice of IDs: nothing below is a typed-in expectation.
    const count = new Map<string, number>();
    for (const r of served) if (id(r) !== '') count.set(id(r), (count.get(id(r)) ?? 0) + 1);
    const identitiesOf = (pid: string) => new Set(served.filter((r) => id(r) === pid).map(identity));
    const singlePerson = [...count.keys()]
      .filter((p) => identitiesOf(p).size === 1 && p !== 'DEV' && p !== '123456')
      .sort((a, b) => count.get(b)! - count.get(a)! || a.localeCompare(b));
    const studiesOf = (pid: string) =>
      new Set(served.filter((r) => id(r) === pid).map((r) => r.studyInstanceUid));
    // A study holding several patients: its first patient (by ID) is corrected alone.
    const multi = sorted(served.map((r) => r.studyInstanceUid)).find(
      (s) => new Set(served.filter((r) => r.studyInstanceUid === s).map(id)).size > 1,
    )!;
    const partialId = sorted(served.filter((r) => r.studyInstanceUid === multi).map(id))[0]!;
    const [chainA, chainB, collideFrom, collideTo, noop] = singlePerson.filter(
      (p) => !studiesOf(p).has(multi) && identitiesOf(p).size === 1,
    );
    merge = [
      { old: 'DEV', new: 'DEV-MERGED' },
      { old: 'NO-SUCH-PATIENT-4711', new: 'DEV-MERGED' },
      { old: chainA!, new: chainB! },
      { old: chainB!, new: `${chainB}-NEW` },
      { old: collideFrom!, new: collideTo! },
      { old: noop!, new: noop! },
      { old: partialId, new: `${partialId}-NEW` },
    ];
    const under123456 = sorted(served.filter((r) => id(r) === '123456').map((r) => r.patientName));
    const name = under123456.find(
      (n) => served.filter((r) => id(r) === '123456' && r.patientName === n).length === 1,
    )!;
    split = [{ id: '123456', name, new: '123456-SPLIT' }];
    writeFileSync(
      join(dir, 'merge.csv'),
      `old_id,new_id\r\n${merge.map((m) => `${m.old},${m.new}`).join('\r\n')}\r\n`,
    );
    writeFileSync(
      join(dir, 'split.csv'),
      `id;name;new_id\n${split.map((s) => `${s.id};"${s.name}";${s.new}`).join('\n')}\n`,
    );
    const planPath = join(dir, 'plan.yaml');
    writeFileSync(
      planPath,
      `name: corrections-test
version: 1
local: { aeTitle: PACSHIFT }
source: { type: dimse, host: 127.0.0.1, port: ${corpus.archive.port}, calledAe: ARCHIVE, retrieve: c-get }
target: { type: folder, path: ./target }
transform:
  corrections:
    - { id: merge, csv: merge.csv, match: { PatientID: old_id }, set: { PatientID: new_id } }
    - { id: split, csv: split.csv, delimiter: ";", match: { PatientID: id, PatientName: name }, set: { PatientID: new_id } }
`,
    );
    ctx = await openMigration(planPath);
    const t = await loadTransformer(ctx.plan.transform);
    if (!t.ok) throw new Error(t.error.map((e) => e.message).join('\n'));
    transformer = t.value;
    expect((await runInventory(ctx)).complete).toBe(true);
    result = await runAnalysis(ctx, {
      sample: { perSeries: 'all' },
      logPhi: false,
      tempDir: join(dir, 'tmp'),
    });
  }, 300_000);

  afterAll(async () => {
    await ctx?.close();
    await corpus?.stop();
    if (dir) removeTempDir(dir);
  });

  /** Served rows a merge row matches. */
  const matched = (m: MergeRow) => served.filter((r) => id(r) === m.old);
  const studies = (rows: ManifestRow[]) => sorted(rows.map((r) => r.studyInstanceUid));

  it('CORR_ROW_UNUSED: the rows whose key nothing in the source has, per table', () => {
    const truth = merge.flatMap((m, i) => (matched(m).length === 0 ? [i + 1] : []));
    expect(truth).toEqual([2]);
    expect(
      of(result, 'CORR_ROW_UNUSED').map((f) => [(f.detail as { table: string }).table, rowsOf(f)]),
    ).toEqual([['merge', truth]]);
  });

  it("CORR_CHAIN: a row whose new ID is another row's old ID, with the studies both rows match", () => {
    const truth = merge.flatMap((m, i) => {
      const j = merge.findIndex((n, k) => k !== i && n.old === m.new);
      return j < 0
        ? []
        : [{ rows: [i + 1, j + 1], studies: studies([...matched(m), ...matched(merge[j]!)]) }];
    });
    expect(truth.length).toBe(1);
    expect(of(result, 'CORR_CHAIN').map((f) => ({ rows: rowsOf(f), studies: f.studyUids }))).toEqual(truth);
  });

  it('CORR_TARGET_COLLIDES: a new ID held by instances that keep it, under another name or birth date', () => {
    const changedAway = new Set(merge.filter((m) => m.old !== m.new).map((m) => m.old));
    const truth = merge.flatMap((m, i) => {
      const mine = matched(m);
      if (mine.length === 0) return [];
      const others = served.filter((r) => id(r) === m.new && !changedAway.has(id(r)) && id(r) !== m.old);
      const identities = new Set([...others, ...mine].map(identity));
      if (others.length === 0 || identities.size < 2) return [];
      return [{ rows: [i + 1], studies: studies([...mine, ...others]), existing: studies(others) }];
    });
    // The collision row; the chain's first row is not one (its new ID moves away by the next row).
    expect(truth.map((t) => t.rows[0])).toEqual([5]);
    expect(
      of(result, 'CORR_TARGET_COLLIDES').map((f) => ({
        rows: rowsOf(f),
        studies: f.studyUids,
        existing: (f.detail as { existingStudies: string[] }).existingStudies,
      })),
    ).toEqual(truth);
  });

  it('CORR_NOOP: a row that leaves every instance it matches as it was', () => {
    const truth = merge.flatMap((m, i) => (matched(m).length > 0 && m.old === m.new ? [i + 1] : []));
    expect(truth).toEqual([6]);
    expect(of(result, 'CORR_NOOP').map((f) => [rowsOf(f), f.studyUids])).toEqual(
      truth.map((row) => [[row], studies(matched(merge[row - 1]!))]),
    );
  });

  it('CORR_PARTIAL: a row matching some instances of a study but not all', () => {
    const truth = merge.flatMap((m, i) =>
      studies(matched(m)).flatMap((s) => {
        const all = served.filter((r) => r.studyInstanceUid === s);
        const mine = all.filter((r) => id(r) === m.old);
        return mine.length < all.length
          ? [{ rows: [i + 1], study: s, matched: mine.length, of: all.length }]
          : [];
      }),
    );
    expect(truth.length).toBeGreaterThan(0);
    expect(
      of(result, 'CORR_PARTIAL').map((f) => {
        const d = f.detail as { rows: number[]; instancesMatched: number; instancesInStudy: number };
        return { rows: d.rows, study: f.studyUids[0], matched: d.instancesMatched, of: d.instancesInStudy };
      }),
    ).toEqual(truth);
  });

  it("the summary counts are what plan() yields over the served files' headers", () => {
    const by = new Map<string, { studies: Set<string>; instances: number }>();
    const changedStudies = new Set<string>();
    let changedInstances = 0;
    for (const r of served) {
      const changes = transformer.plan(
        { PatientID: r.patientId, PatientName: r.patientName, PatientBirthDate: r.patientBirthDate },
        undefined,
      );
      if (changes.length === 0) continue;
      changedStudies.add(r.studyInstanceUid);
      changedInstances++;
      for (const s of distinct(changes.map((c) => c.by.id))) {
        const b = by.get(s) ?? { studies: new Set(), instances: 0 };
        b.studies.add(r.studyInstanceUid);
        b.instances++;
        by.set(s, b);
      }
    }
    // DEV alone: every DEV instance changes.
    expect(by.get('merge')!.instances).toBeGreaterThanOrEqual(served.filter((r) => id(r) === 'DEV').length);
    expect(by.get('split')!.instances).toBe(1);
    expect(result.corrections).toEqual({
      loaded: true,
      tables: [
        {
          kind: 'correction',
          id: 'merge',
          rows: merge.length,
          rowsUsed: merge.length - 1,
          studies: by.get('merge')!.studies.size,
          instances: by.get('merge')!.instances,
        },
        {
          kind: 'correction',
          id: 'split',
          rows: 1,
          rowsUsed: 1,
          studies: by.get('split')!.studies.size,
          instances: by.get('split')!.instances,
        },
      ],
      studies: changedStudies.size,
      instances: changedInstances,
      judgedByHeader: result.corrections!.judgedByHeader,
      judgedByInventory: result.corrections!.judgedByInventory,
    });
    expect(result.corrections!.judgedByHeader + result.corrections!.judgedByInventory).toBe(served.length);
  });

  it('the reports carry rows, table ids and UIDs but no value of the tables (logPhi off)', async () => {
    const files = await writeAnalysisReport(result, join(dir, 'report'), { planName: 'corrections-test' });
    const values = distinct([
      ...merge.flatMap((m) => [m.old, m.new]),
      ...split.flatMap((s) => [s.name, s.new]),
    ]).filter(
      (v) => v.length >= 4 && !/^[\d.]+$/.test(v), // all-digit IDs can be part of a UID
    );
    const corr = JSON.stringify(result.findings.filter((f) => f.code.startsWith('CORR_')));
    for (const v of values) expect(corr).not.toContain(v);
    const csv = readFileSync(files.correctionsCsv, 'utf8');
    expect(csv.split('\r\n')[1]).toBe(
      [
        'merge',
        'correction',
        merge.length,
        merge.length - 1,
        ...[result.corrections!.tables[0]!.studies, result.corrections!.tables[0]!.instances],
      ].join(','),
    );
    const html = readFileSync(files.html, 'utf8');
    expect(html).toContain('id="corrections"');
    expect(values.length).toBeGreaterThan(4);
    for (const v of values) {
      expect(csv).not.toContain(v);
      expect(readFileSync(files.findingsCsv, 'utf8')).not.toContain(v);
      expect(html).not.toContain(v);
    }
    expect(Object.keys(files)).toEqual(Object.keys(ANALYSIS_FILES));
  });
});
