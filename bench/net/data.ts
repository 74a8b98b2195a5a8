/**
 * The benchmark's instances, generated once into a cache folder from corpus files: each copy gets new
 * Study/Series/SOP Instance UIDs (and (0002,0003)) written in place with the same byte length, so no
 * other byte of the template changes. The large set is made from a corpus CT whose image is scaled up
 * (nearest neighbour) to 3968×3968: the corpus has no ~30 MB instance (its largest is 6.9 MB).
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { readInstanceInfo } from '../../src/dicom/part10.js';
import { BufferSource } from '../../src/dicom/source.js';
import { Tags, type Tag } from '../../src/dicom/tag.js';
import { EXPLICIT_LE } from '../../src/dicom/transfer-syntax.js';
import { walk } from '../../src/dicom/walk.js';

export const CORPUS =
  process.env.PACSHIFT_CORPUS ?? join(import.meta.dirname, '..', '..', '..', 'shared', 'corpus');

/**
 * Uncompressed CT images of ~0.53 MB (MANIFEST: modality CT, 400–600 KB) in explicit VR little endian.
 * Not the implicit VR ones (dcmqi/segmentations/ct-3slice/0[1-3].dcm): storescu converts implicit VR to the
 * explicit VR storescp prefers, pacshift sends a file's bytes in its own syntax, so with implicit VR files
 * storescp would parse implicit VR (dictionary look-ups) for pacshift and explicit VR for storescu.
 */
export const SMALL_TEMPLATES = [
  'orthanc-tests/HierarchicalAnonymization/RTH/CT01.dcm',
  'orthanc-tests/2020-09-11-Christopher-ELSCINT1-Raw.dcm',
];
/** The large set's template: explicit VR LE, 512×512×16 bit, Pixel Data the last element. */
export const LARGE_TEMPLATE = 'orthanc-tests/HierarchicalAnonymization/RTH/CT01.dcm';
export const LARGE_SIDE = 3968; // 3968² × 2 bytes = 31.49 MB of pixels

/** pacshift's UID root plus a subtree for generated benchmark data. */
const UID_ROOT = '1.2.826.0.1.3680043.10.1444.9.';

export interface SetSpec {
  name: 'small' | 'large';
  count: number;
}

export interface GeneratedSet {
  name: string;
  dir: string;
  files: string[];
  bytes: number;
}

interface Patch {
  /** Value offset and length (the UID is written NUL-padded to this length). */
  offset: number;
  length: number;
  kind: 'sop' | 'series' | 'study';
}

interface Template {
  bytes: Buffer;
  patches: Patch[];
}

const KIND_DIGIT = { sop: 1, series: 2, study: 3 } as const;

/** A UID of exactly `length` characters (≤ 64) under our root: root + set digit + kind digit + zero-padded index. */
export function fixedLengthUid(length: number, setDigit: number, kind: Patch['kind'], index: number): string {
  const room = length - UID_ROOT.length - 2;
  const idx = String(index);
  if (room < idx.length) throw new Error(`cannot make a ${length}-character UID under ${UID_ROOT}`);
  return `${UID_ROOT}${setDigit}${KIND_DIGIT[kind]}${idx.padStart(room, '0')}`;
}

/** The value span of the top-level elements we patch, in the meta and in the data set. */
async function findPatches(bytes: Buffer, path: string): Promise<Patch[]> {
  const info = await readInstanceInfo(path);
  if (!info.ok) throw new Error(`template ${path}: ${info.error.message}`);
  const i = info.value;
  if (i.transferSyntax.deflated || !i.transferSyntax.littleEndian)
    throw new Error(`template ${path}: not little endian`);
  const patches: Patch[] = [];
  const src = new BufferSource(bytes);
  const want = async (
    start: number,
    end: number,
    encoding: typeof EXPLICIT_LE,
    tags: Map<Tag, Patch['kind']>,
  ) => {
    const w = walk(src, { encoding, start, end, descendDefinedLength: false });
    for await (const el of w) {
      const kind = el.depth === 0 && el.kind === 'element' ? tags.get(el.tag) : undefined;
      if (kind && el.valueLength !== undefined)
        patches.push({ offset: el.valueOffset, length: el.valueLength, kind });
    }
    if (w.error) throw new Error(`template ${path}: ${w.error.message}`);
  };
  await want(132, i.metaEnd, EXPLICIT_LE, new Map([[Tags.MediaStorageSOPInstanceUID.tag, 'sop']]));
  await want(
    i.metaEnd,
    bytes.length,
    i.transferSyntax,
    new Map<Tag, Patch['kind']>([
      [Tags.SOPInstanceUID.tag, 'sop'],
      [Tags.SeriesInstanceUID.tag, 'series'],
      [Tags.StudyInstanceUID.tag, 'study'],
    ]),
  );
  for (const k of ['sop', 'series', 'study'] as const) {
    const n = patches.filter((p) => p.kind === k).length;
    if (n !== (k === 'sop' ? 2 : 1)) throw new Error(`template ${path}: found ${n} ${k} UID element(s)`);
  }
  return patches;
}

/** CT01 with Rows/Columns set to `side` and its image scaled up by nearest neighbour. */
async function largeTemplate(path: string, side: number): Promise<Template> {
  const bytes = await readFile(path);
  const info = await readInstanceInfo(path);
  if (!info.ok) throw new Error(`template ${path}: ${info.error.message}`);
  const i = info.value;
  const px = i.pixelData;
  if (
    !px ||
    px.encapsulated ||
    px.valueLength !== 512 * 512 * 2 ||
    px.valueOffset + px.valueLength !== bytes.length
  ) {
    throw new Error(`template ${path}: expected native 512×512×16 bit Pixel Data as the last element`);
  }
  const rowsCols: number[] = [];
  const w = walk(new BufferSource(bytes), {
    encoding: i.transferSyntax,
    start: i.metaEnd,
    descendDefinedLength: false,
  });
  for await (const el of w) {
    if (el.depth === 0 && (el.tag === Tags.Rows.tag || el.tag === Tags.Columns.tag))
      rowsCols.push(el.valueOffset);
  }
  if (rowsCols.length !== 2) throw new Error(`template ${path}: Rows/Columns not found`);
  const n = side * side * 2;
  const out = Buffer.allocUnsafe(px.valueOffset + n);
  bytes.copy(out, 0, 0, px.valueOffset);
  for (const o of rowsCols) out.writeUInt16LE(side, o);
  out.writeUInt32LE(n, px.valueOffset - 4); // OW: 12-byte explicit header, length in its last 4 bytes
  const srcPx = bytes.subarray(px.valueOffset);
  for (let y = 0; y < side; y++) {
    const sy = Math.floor((y * 512) / side);
    for (let x = 0; x < side; x++) {
      const sx = Math.floor((x * 512) / side);
      out.writeUInt16LE(srcPx.readUInt16LE((sy * 512 + sx) * 2), px.valueOffset + (y * side + x) * 2);
    }
  }
  // The UID elements come before Pixel Data: their offsets are the template's.
  return { bytes: out, patches: await findPatches(bytes, path) };
}

/** Instances per generated study (one series each). */
const PER_STUDY = 100;

function stamp(t: Template, setDigit: number, index: number): Buffer {
  const b = Buffer.from(t.bytes);
  for (const p of t.patches) {
    const idx = p.kind === 'sop' ? index : Math.floor(index / PER_STUDY);
    // UI values are padded to even length with NUL: keep the length, the UID fills what the old one did.
    const old = t.bytes.subarray(p.offset, p.offset + p.length);
    const uidLength = old.indexOf(0) === -1 ? p.length : old.indexOf(0);
    const uid = fixedLengthUid(uidLength, setDigit, p.kind, idx);
    b.write(uid, p.offset, 'latin1');
  }
  return b;
}

/** Generate (or reuse) a set in `cacheDir/<name>-<count>/`. */
export async function ensureSet(
  cacheDir: string,
  spec: SetSpec,
  log: (s: string) => void,
): Promise<GeneratedSet> {
  // The folder name changes with the templates, so that a cache made from other ones is not reused.
  const dir = join(cacheDir, `${spec.name}-${spec.count}-v2`);
  const done = join(dir, '.complete');
  if (!existsSync(done)) {
    log(`generating ${spec.count} ${spec.name} instances in ${dir} …`);
    await rm(dir, { recursive: true, force: true });
    await mkdir(dir, { recursive: true });
    const templates: Template[] =
      spec.name === 'small'
        ? await Promise.all(
            SMALL_TEMPLATES.map(async (rel) => {
              const p = join(CORPUS, rel);
              const bytes = await readFile(p);
              return { bytes, patches: await findPatches(bytes, p) };
            }),
          )
        : [await largeTemplate(join(CORPUS, LARGE_TEMPLATE), LARGE_SIDE)];
    const setDigit = spec.name === 'small' ? 1 : 2;
    for (let i = 0; i < spec.count; i++) {
      const t = templates[i % templates.length]!;
      await writeFile(join(dir, `${spec.name}-${String(i).padStart(5, '0')}.dcm`), stamp(t, setDigit, i));
    }
    await writeFile(done, new Date().toISOString());
  }
  const names = (await readdir(dir)).filter((n) => n.endsWith('.dcm')).sort();
  const files = names.map((n) => join(dir, n));
  let bytes = 0;
  for (const f of files) bytes += (await stat(f)).size;
  return { name: spec.name, dir, files, bytes };
}
