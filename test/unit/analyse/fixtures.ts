/**
 * Shared set-up for the analysis tests: a plan in a temp folder (state database beside it) opened as
 * every pipeline command opens it, and ground truth computed from MANIFEST.tsv.
 */
import dicomParser from 'dicom-parser';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openMigration, type MigrationContext } from '../../../src/run/context.js';
import type { ManifestRow } from '../../harness/corpus.js';
import { makeTempDir, removeTempDir } from '../../harness/tmp.js';

export interface TestPlan {
  readonly ctx: MigrationContext;
  readonly dir: string;
  readonly planPath: string;
  stop(): Promise<void>;
}

/** `source` and `local` are YAML flow mappings. */
export async function testPlan(source: string, local = '{ aeTitle: PACSHIFT }'): Promise<TestPlan> {
  const dir = makeTempDir('analyse');
  const planPath = join(dir, 'plan.yaml');
  writeFileSync(
    planPath,
    `name: analysis-test\nversion: 1\nlocal: ${local}\nsource: ${source}\ntarget: { type: folder, path: ./target }\n`,
  );
  const ctx = await openMigration(planPath);
  return {
    ctx,
    dir,
    planPath,
    stop: async () => {
      await ctx.close();
      removeTempDir(dir);
    },
  };
}

/** Patient values compared as the issue says: case, spaces and ^ padding do not count (written apart from src). */
export const normName = (v: string): string =>
  v
    .split('^')
    .map((c) => c.trim().replace(/\s+/g, ' ').toUpperCase())
    .join('^')
    .replace(/\^+$/, '');

/** PatientID → distinct values of a field, over the given rows (empty PatientIDs left out). */
export function valuesByPatient(
  rows: readonly ManifestRow[],
  field: (r: ManifestRow) => string,
): Map<string, Set<string>> {
  const m = new Map<string, Set<string>>();
  for (const r of rows) {
    if (r.patientId.trim() === '') continue;
    const set = m.get(r.patientId.trim()) ?? new Set<string>();
    set.add(field(r));
    m.set(r.patientId.trim(), set);
  }
  return m;
}

/** Keys whose set has more than one member. */
export const several = <K, V>(m: Map<K, Set<V>>): K[] => [...m].filter(([, s]) => s.size > 1).map(([k]) => k);

/** Group keys of rows whose values differ, e.g. studies with more than one PatientID. */
export function groupsWithSeveral(
  rows: readonly ManifestRow[],
  key: (r: ManifestRow) => string,
  value: (r: ManifestRow) => string,
): string[] {
  const m = new Map<string, Set<string>>();
  for (const r of rows) {
    const k = key(r);
    if (k === '') continue;
    m.set(k, (m.get(k) ?? new Set()).add(value(r)));
  }
  return several(m).sort();
}

/** SeriesNumber of a file as dicom-parser (an independent reader) gives it, as a number; undefined when absent or unreadable. */
export function seriesNumberOf(path: string): string | undefined {
  try {
    const b = readFileSync(path);
    const ds = dicomParser.parseDicom(new Uint8Array(b.buffer, b.byteOffset, b.length), {
      untilTag: 'x00200011',
    });
    const v = ds.string('x00200011');
    return v === undefined || v.trim() === '' ? undefined : String(Number(v.trim()));
  } catch {
    return undefined;
  }
}

/** Series whose files carry more than one SeriesNumber (per dicom-parser). */
export function seriesWithSeveralNumbers(rows: readonly ManifestRow[]): string[] {
  const numbers = new Map<string, Set<string>>();
  for (const r of rows) {
    const n = seriesNumberOf(r.absPath);
    if (n !== undefined)
      numbers.set(r.seriesInstanceUid, (numbers.get(r.seriesInstanceUid) ?? new Set()).add(n));
  }
  return several(numbers).sort();
}
