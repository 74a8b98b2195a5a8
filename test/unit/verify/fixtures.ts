/**
 * Shared set-up for the verify tests: a plan file pointing at a target, opened as a migration; same
 * length in-place edits of a file's element value (the tampering a target might do).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { withDataSet } from '../../../src/dicom/dataset.js';
import { lookupKeyword } from '../../../src/dicom/keyword.js';
import { readInstanceInfo } from '../../../src/dicom/part10.js';
import { ok } from '../../../src/util/result.js';
import { openMigration, type MigrationContext } from '../../../src/run/context.js';

export type TargetSpec = { host: string; port: number; calledAe: string } | { folder: string };

/** Writes `<dir>/plan.yaml` (JSON is YAML) and opens it. `extra` sections are merged at the top level. */
export async function openTestMigration(
  dir: string,
  target: TargetSpec,
  extra: Record<string, unknown> = {},
): Promise<MigrationContext> {
  const plan = {
    name: 'verify-test',
    version: 1,
    local: { aeTitle: 'PACSHIFT', port: 11112 },
    source: { type: 'folder', path: join(dir, 'source') },
    target: 'folder' in target ? { type: 'folder', path: target.folder } : { type: 'dimse', ...target },
    state: { sqlite: join(dir, 'state.sqlite') },
    spool: { dir: join(dir, 'spool') },
    report: { dir: join(dir, 'report') },
    ...extra,
  };
  const path = join(dir, 'plan.yaml');
  writeFileSync(path, JSON.stringify(plan, null, 2));
  return openMigration(path);
}

/** Overwrites the value of a top-level element in place with bytes of the same length. */
export async function patchElement(path: string, keyword: string, value: string): Promise<void> {
  const tag = lookupKeyword(keyword)!.tag;
  const at = await withDataSet(path, async (ds) => {
    if (ds.inflate) throw new Error('patchElement: deflated files are not patched');
    const walker = ds.walker({ descendDefinedLength: false });
    for (let batch = await walker.nextBatch(); batch.length > 0; batch = await walker.nextBatch()) {
      for (const el of batch) {
        if (el.depth === 0 && el.kind === 'element' && el.tag === tag)
          return ok({ offset: el.valueOffset, length: el.valueLength! });
      }
    }
    throw new Error(`patchElement: ${keyword} not in ${path}`);
  });
  if (!at.ok) throw new Error(at.error.message);
  const bytes = Buffer.from(value, 'latin1');
  if (bytes.length > at.value.length)
    throw new Error(`patchElement: ${keyword} value longer than ${at.value.length} bytes`);
  const file = readFileSync(path);
  file.fill(0x20, at.value.offset, at.value.offset + at.value.length);
  bytes.copy(file, at.value.offset);
  writeFileSync(path, file);
}

/** Flips one byte of native pixel data. */
export async function flipPixelByte(path: string, index = 100): Promise<void> {
  const info = await readInstanceInfo(path);
  if (!info.ok || !info.value.pixelData || info.value.pixelData.encapsulated)
    throw new Error(`flipPixelByte: ${path} has no native pixel data`);
  const file = readFileSync(path);
  const at = info.value.pixelData.valueOffset + index;
  file[at] = file[at]! ^ 0xff;
  writeFileSync(path, file);
}
