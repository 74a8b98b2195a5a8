/**
 * Shared set-up for the inventory tests: a plan file in a temp folder (state database beside it),
 * opened as every pipeline command opens it; ground truth from what a source really holds.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import type { ManifestRow } from '../../harness/corpus.js';
import { parseDA } from '../../../src/inventory/dates.js';
import type { InventorySummary } from '../../../src/inventory/index.js';
import { makeTempDir, removeTempDir } from '../../harness/tmp.js';
import { type MigrationContext, openMigration } from '../../../src/run/context.js';
import type { Clock, InventoryQuery, Store } from '../../../src/state/index.js';

export interface TestMigration {
  ctx: MigrationContext;
  dir: string;
  /** Close and open again (a new process would). */
  reopen(): Promise<MigrationContext>;
  stop(): Promise<void>;
}

/** A plan with `source` (YAML flow mapping) and a folder target; `extra` is appended as YAML. */
export async function migration(source: string, extra = '', clock?: Clock): Promise<TestMigration> {
  const dir = makeTempDir('inventory');
  const plan = join(dir, 'plan.yaml');
  writeFileSync(
    plan,
    `name: test\nversion: 1\nsource: ${source}\ntarget: { type: folder, path: ./target }\n${extra}`,
  );
  let ctx = await openMigration(plan, { clock });
  return {
    get ctx() {
      return ctx;
    },
    dir,
    reopen: async () => {
      await ctx.close();
      ctx = await openMigration(plan, { clock });
      return ctx;
    },
    stop: async () => {
      await ctx.close();
      removeTempDir(dir);
    },
  };
}

export const dimseSource = (port: number, aeTitle: string, more = ''): string =>
  `{ type: dimse, host: 127.0.0.1, port: ${port}, calledAe: ${aeTitle}${more ? `, ${more}` : ''} }`;

/** UIDs of what a source holds, by level, from manifest rows (one per served instance). */
export interface Truth {
  studies: Map<string, ManifestRow>;
  series: Map<string, string>;
  instances: Map<string, string>;
}

export function truthOf(rows: readonly ManifestRow[]): Truth {
  const t: Truth = { studies: new Map(), series: new Map(), instances: new Map() };
  for (const r of rows) {
    if (!t.studies.has(r.studyInstanceUid)) t.studies.set(r.studyInstanceUid, r);
    t.series.set(r.seriesInstanceUid, r.studyInstanceUid);
    t.instances.set(r.sopInstanceUid, r.seriesInstanceUid);
  }
  return t;
}

/** Every study, series and instance UID the store holds (not vanished), by level. */
export async function inventoried(
  store: Store,
  truth: Truth,
): Promise<{ studies: Set<string>; series: Set<string>; instances: Set<string> }> {
  const studies = new Set<string>();
  for (
    let after: string | undefined, page;
    (page = await store.ledger({ after, limit: 500 })).length > 0;
    after = page.at(-1)!.studyUid
  )
    for (const r of page) if (!r.vanished) studies.add(r.studyUid);
  const series = new Set<string>();
  const instances = new Set<string>();
  // The store lists instances per study; series are checked one by one against the truth.
  for (const uid of studies)
    for (const i of await store.listInstances(uid, 'all')) if (!i.vanishedAt) instances.add(i.sopInstanceUid);
  for (const uid of truth.series.keys()) {
    const s = await store.getSeries(uid);
    if (s && !s.vanishedAt) series.add(uid);
  }
  return { studies, series, instances };
}

export const difference = <T>(a: Iterable<T>, b: ReadonlySet<T>): T[] => [...a].filter((x) => !b.has(x));

/** Covered as store.finishInventoryRun decides it. */
export function uncoveredIds(queries: readonly InventoryQuery[]): Set<number> {
  const kids = new Map<number, InventoryQuery[]>();
  for (const q of queries)
    if (q.parentId !== null) kids.set(q.parentId, [...(kids.get(q.parentId) ?? []), q]);
  const covered = (q: InventoryQuery): boolean =>
    q.complete || ((kids.get(q.id)?.length ?? 0) > 0 && kids.get(q.id)!.every(covered));
  return new Set(queries.filter((q) => !covered(q)).map((q) => q.id));
}

/**
 * What a capped inventory must prove: every dated study found, nothing invented, every study missed
 * explained (empty StudyDate and empty PatientID: the undated pass reaches it only by
 * ModalitiesInStudy then StudyTime, and it leaked), every series or instance missed sits under an
 * uncovered query, and the run claims completeness only when nothing is missing.
 */
export function expectHonestCappedInventory(r: {
  summary: InventorySummary;
  truth: Truth;
  found: Awaited<ReturnType<typeof inventoried>>;
  queries: InventoryQuery[];
}) {
  const { summary, truth, found, queries } = r;
  expect(difference(found.studies, new Set(truth.studies.keys()))).toEqual([]);
  const missing = difference(truth.studies.keys(), found.studies);
  for (const uid of missing) {
    const row = truth.studies.get(uid)!;
    expect({ uid, studyDate: row.studyDate, patientId: row.patientId }).toEqual({
      uid,
      studyDate: '',
      patientId: '',
    });
  }
  const dated = [...truth.studies.values()]
    .filter((s) => parseDA(s.studyDate) !== undefined)
    .map((s) => s.studyInstanceUid);
  expect(difference(dated, found.studies)).toEqual([]);

  const uncovered = uncoveredIds(queries);
  expect(
    new Set(summary.uncoveredQueries.filter((id) => queries.find((q) => q.id === id)!.parentId === null)),
  ).toEqual(new Set(queries.filter((q) => q.parentId === null && uncovered.has(q.id)).map((q) => q.id)));
  const uncoveredAt = (level: string, key: string, uid: string) =>
    queries.some((q) => uncovered.has(q.id) && q.level === level && q.params[key] === uid);
  for (const [series, study] of truth.series)
    if (found.studies.has(study) && !found.series.has(series))
      expect(uncoveredAt('SERIES', 'StudyInstanceUID', study)).toBe(true);
  for (const [sop, series] of truth.instances)
    if (found.series.has(series) && !found.instances.has(sop))
      expect(uncoveredAt('IMAGE', 'SeriesInstanceUID', series)).toBe(true);

  const everything =
    missing.length === 0 &&
    found.series.size === truth.series.size &&
    found.instances.size === truth.instances.size;
  if (!everything) expect(summary.complete).toBe(false);
  expect(summary.complete).toBe(uncovered.size === 0);
  // The splits are in the queries table: capped study-level queries with parts below them.
  const capped = queries.filter((q) => q.level === 'STUDY' && !q.complete && q.error?.startsWith('capped'));
  expect(capped.length).toBeGreaterThan(0);
  const root = queries.find((q) => q.level === 'STUDY' && q.parentId === null)!;
  expect(queries.filter((q) => q.parentId === root.id).map((q) => q.params.StudyDate)).toEqual(
    expect.arrayContaining(['-18991231', '20270101-']),
  );
  expect(summary.studies).toBe(found.studies.size);
}
