/**
 * Shared set-up for the inventory tests: a plan file in a temp folder (state database beside it),
 * opened as every pipeline command opens it; ground truth from what a source really holds.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ManifestRow } from '../../harness/corpus.js';
import { makeTempDir, removeTempDir } from '../../harness/tmp.js';
import { type MigrationContext, openMigration } from '../../../src/run/context.js';
import type { Clock, Store } from '../../../src/state/index.js';

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
