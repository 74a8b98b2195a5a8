/**
 * Test helper: two Part 10 files compared element by element (top-level data set elements, found with
 * the walker, src/dicom/walk.ts): which tags differ in their bytes (header and value, nested content
 * included), which are only in one of them. The File Meta is left out (a target writes its own).
 */
import { readFile } from 'node:fs/promises';
import { withDataSet } from '../../../src/dicom/dataset.js';

/** Tag → the bytes of the whole element (header + value) as stored. */
export async function topLevelElements(path: string): Promise<Map<number, Buffer>> {
  const bytes = await readFile(path);
  const r = await withDataSet(path, async (ds) => {
    const w = ds.walker({ descendDefinedLength: false, emitNested: false });
    const starts: { tag: number; offset: number }[] = [];
    for await (const el of w)
      if (el.depth === 0 && el.kind === 'element') starts.push({ tag: el.tag, offset: el.offset });
    if (w.error) throw new Error(`${path}: ${w.error.message}`);
    const end = w.endOffset ?? bytes.length;
    const out = new Map<number, Buffer>();
    starts.forEach((s, i) => out.set(s.tag, bytes.subarray(s.offset, starts[i + 1]?.offset ?? end)));
    return { ok: true as const, value: out };
  });
  if (!r.ok) throw new Error(`${path}: ${r.error.message}`);
  return r.value;
}

export interface ElementDiff {
  /** Tags whose bytes differ, or that only one file has. */
  readonly differ: number[];
  /** Tags compared equal. */
  readonly same: number;
}

export async function diffElements(a: string, b: string): Promise<ElementDiff> {
  const [ea, eb] = await Promise.all([topLevelElements(a), topLevelElements(b)]);
  const differ: number[] = [];
  let same = 0;
  for (const tag of new Set([...ea.keys(), ...eb.keys()])) {
    const x = ea.get(tag);
    const y = eb.get(tag);
    if (x && y && x.equals(y)) same++;
    else differ.push(tag);
  }
  return { differ: differ.sort((p, q) => p - q), same };
}
