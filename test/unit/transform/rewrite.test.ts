/**
 * The proof issue 4 asks for: rewriting PatientID, PatientName and PatientBirthDate (and inserting
 * IssuerOfPatientID where it is absent) changes those elements and their lengths only. For every corpus file:
 * the File Meta is byte-identical; every other element (top level and nested: header, value, items,
 * fragments) has identical bytes; the data set grows or shrinks by exactly the edited elements' deltas; the
 * new values read back through dcmjs and dicom-parser (read only) and through pacshift's own walker. Files that
 * cannot be rewritten get a typed error, counted per cause against ground truth from MANIFEST.tsv and
 * readInstanceInfo.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inflateRawSync } from 'node:zlib';
import dcmjs from 'dcmjs';
import dicomParser from 'dicom-parser';
import { afterAll, describe, expect, it } from 'vitest';
import type { DicomFileErrorCode } from '../../../src/dicom/errors.js';
import { readFileMeta } from '../../../src/dicom/meta.js';
import { readInstanceInfo } from '../../../src/dicom/part10.js';
import { BufferSource } from '../../../src/dicom/source.js';
import { formatTag, Tags } from '../../../src/dicom/tag.js';
import { lookupTransferSyntax, type Encoding } from '../../../src/dicom/transfer-syntax.js';
import { walk, type WalkElement } from '../../../src/dicom/walk.js';
import {
  rewriteInstance,
  type ElementEdit,
  type RewriteErrorKind,
  type RewriteResult,
} from '../../../src/transform/rewrite.js';
import { datasetOffset } from '../../harness/dicom-file.js';
import { hasCorpus, manifest, type ManifestRow } from '../../harness/corpus.js';

const { PatientID, PatientName, PatientBirthDate, IssuerOfPatientID } = Tags;
const EDITED = [PatientID.tag, PatientName.tag, PatientBirthDate.tag, IssuerOfPatientID.tag];

/** Values of different lengths (longer, shorter, odd, empty) rotating over the files. */
const VARIANTS: { id: string | null; name: string | null; birth: string | null }[] = [
  { id: 'NEW-PATIENT-ID-000123', name: 'CORRECTED^PATIENT^MIDDLE^^', birth: '19700101' },
  { id: 'X', name: 'Q', birth: null },
  { id: 'ABC', name: 'DOE^JANE^A', birth: '20010203' },
  { id: null, name: null, birth: '19991231' },
];

/** What readInstanceInfo's error says about rewriting (a missing UID does not stop a rewrite). */
const EXPECTED_KIND: Record<DicomFileErrorCode, RewriteErrorKind | 'rewritable'> = {
  'not-dicom': 'not-part10',
  'no-meta': 'not-part10',
  'unknown-transfer-syntax': 'unsupported-syntax',
  'lying-transfer-syntax': 'unreadable',
  truncated: 'unreadable',
  malformed: 'unreadable',
  'too-deep': 'unreadable',
  'deflate-error': 'unreadable',
  'missing-uid': 'rewritable',
  io: 'io',
};

interface Rec {
  el: WalkElement;
  header: Buffer;
  value: Buffer | undefined;
}

/**
 * The data set bytes (inflated for deflated syntaxes), and its encoding. Where the meta ends is pacshift's
 * readFileMeta's answer (it follows (0002,0000) and handles a second group 0002 inside the data set, as in
 * fo-dicom/GH1376.dcm); it must agree with the harness's own walk of group 0002 everywhere else.
 */
async function dataSetOf(
  file: Buffer,
): Promise<{ bytes: Buffer; encoding: Encoding; tsUid: string; metaEnd: number }> {
  const m = await readFileMeta(new BufferSource(file), 'x');
  if (!m.ok || !m.value) throw new Error('no meta');
  const metaEnd = m.value.metaEnd;
  const odd = m.value.issues.some(
    (i) => i.code === 'meta-group-length-mismatch' || i.code === 'meta-in-data-set',
  );
  if (m.value.hasPreamble && !odd) expect(metaEnd).toBe(datasetOffset(file));
  const tsUid = m.value.transferSyntaxUid!;
  const ts = lookupTransferSyntax(tsUid)!;
  const raw = file.subarray(metaEnd);
  return {
    bytes: ts.deflated ? inflateRawSync(raw) : raw,
    encoding: ts.deflated
      ? { explicitVr: true, littleEndian: true }
      : { explicitVr: ts.explicitVr, littleEndian: ts.littleEndian },
    tsUid,
    metaEnd,
  };
}

/** Every record of a data set, nested included, with its header and value bytes. */
async function records(bytes: Buffer, encoding: Encoding): Promise<Rec[]> {
  const w = walk(new BufferSource(bytes), { encoding, start: 0, maxDepth: 64 });
  const out: Rec[] = [];
  for await (const el of w) {
    const hasValue = (el.content === 'value' || el.kind === 'fragment') && el.valueLength !== undefined;
    out.push({
      el,
      header: bytes.subarray(el.offset, el.offset + el.headerLength),
      value: hasValue ? bytes.subarray(el.valueOffset, el.valueOffset + el.valueLength!) : undefined,
    });
  }
  if (w.error) throw new Error(`walk: ${w.error.message}`);
  expect(w.endOffset).toBe(bytes.length);
  return out;
}

/** (0010,0000): a data set group length (retired, still written by older equipment) must follow the edits. */
const GROUP_LENGTH_0010 = 0x00100000;
const isEdited = (r: Rec) =>
  r.el.depth === 0 &&
  r.el.kind === 'element' &&
  (EDITED.includes(r.el.tag) || r.el.tag === GROUP_LENGTH_0010);
const size = (r: Rec) => r.el.headerLength + (r.value?.length ?? 0);
const text = (r: Rec | undefined) => r?.value?.toString('latin1').replace(/[\0 ]+$/, '');

function dcmjsRead(bytes: Buffer): Record<string, { vr: string; Value?: unknown[] }> | undefined {
  try {
    const ab = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length);
    const dcm = (
      dcmjs as unknown as {
        data: {
          DicomMessage: {
            readFile(b: ArrayBuffer): { dict: Record<string, { vr: string; Value?: unknown[] }> };
          };
        };
      }
    ).data.DicomMessage.readFile(ab as ArrayBuffer);
    return dcm.dict;
  } catch {
    return undefined;
  }
}
const dcmjsText = (v: unknown): string =>
  typeof v === 'object' && v !== null && 'Alphabetic' in v
    ? String((v as { Alphabetic: string }).Alphabetic)
    : String(v);
function dcmjsValue(
  dict: Record<string, { vr: string; Value?: unknown[] }>,
  tag: number,
): string | undefined {
  const e = dict[tag.toString(16).padStart(8, '0').toUpperCase()];
  if (!e) return undefined;
  return (e.Value ?? [])
    .map(dcmjsText)
    .join('\\')
    .replace(/[\0 ]+$/, '');
}

function parserRead(bytes: Buffer): dicomParser.DataSet | undefined {
  try {
    return dicomParser.parseDicom(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length));
  } catch {
    return undefined;
  }
}
const parserValue = (ds: dicomParser.DataSet, tag: number): string | undefined => {
  const key = `x${tag.toString(16).padStart(8, '0')}`;
  const e = ds.elements[key];
  if (!e) return undefined;
  if (e.length === 0) return '';
  return ds.string(key) ?? '';
};

describe.skipIf(!hasCorpus())('rewriteInstance over the whole corpus', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pacshift-rewrite-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('changes only the edited elements and their lengths, in every file it can rewrite', async () => {
    const rows = manifest();
    const refused = new Map<RewriteErrorKind, string[]>();
    const stats = {
      rewritten: 0,
      elementsCompared: 0,
      nestedCompared: 0,
      bytesCompared: 0,
      changes: 0,
      inserted: 0,
      groupLengths: 0,
      dcmjsChecked: 0,
      parserChecked: 0,
    };
    const rewrittenSyntaxes = new Map<string, number>();
    const mismatches: string[] = [];
    for (const [i, row] of rows.entries()) {
      const v = VARIANTS[i % VARIANTS.length]!;
      const edits: ElementEdit[] = [
        { tag: PatientID.tag, value: v.id },
        { tag: PatientName.tag, value: v.name },
        { tag: PatientBirthDate.tag, value: v.birth },
        { tag: IssuerOfPatientID.tag, value: 'HOSPITAL-A' },
      ];
      const out = join(dir, `out-${i}.dcm`);
      const [info, res] = await Promise.all([
        readInstanceInfo(row.absPath),
        rewriteInstance(row.absPath, out, edits),
      ]);
      const expected = info.ok ? 'rewritable' : EXPECTED_KIND[info.error.code];
      if (!res.ok) {
        refused.set(res.error.kind, [...(refused.get(res.error.kind) ?? []), row.path]);
        if (expected !== res.error.kind)
          mismatches.push(`${row.path}: expected ${expected}, got ${res.error.kind}: ${res.error.message}`);
        expect(() => readFileSync(out)).toThrow(); // nothing written on error
        continue;
      }
      if (expected !== 'rewritable') mismatches.push(`${row.path}: expected ${expected}, was rewritten`);
      stats.rewritten++;
      await checkRewrite(row, out, edits, res.value, stats, rewrittenSyntaxes);
      rmSync(out);
    }

    console.log(
      `rewrite over the corpus: ${rows.length} files, ${stats.rewritten} rewritten, ` +
        `${stats.elementsCompared} unedited records compared identical (${stats.nestedCompared} nested), ` +
        `${stats.bytesCompared} unedited data set bytes identical, ${stats.changes} changes (${stats.inserted} insertions), ` +
        `${stats.groupLengths} files with a (0010,0000) group length kept in step, ` +
        `new values read back by dcmjs in ${stats.dcmjsChecked} files and by dicom-parser in ${stats.parserChecked}`,
    );
    console.log('rewritten by transfer syntax:', JSON.stringify(Object.fromEntries(rewrittenSyntaxes)));
    for (const [kind, paths] of refused)
      console.log(`refused ${kind} (${paths.length}):\n  ${paths.join('\n  ')}`);
    expect(mismatches).toEqual([]);

    // Ground truth, independently of readInstanceInfo: MANIFEST.tsv says which files have no File Meta.
    const noMeta = rows.filter((r) => r.transferSyntax.startsWith('(no file meta')).map((r) => r.path);
    expect((refused.get('not-part10') ?? []).sort()).toEqual(noMeta.sort());
    // dcmdump could not read the truncated file either.
    const truncated = rows.filter(
      (r) => !noMeta.includes(r.path) && /larger .* than remaining bytes/.test(r.dcmdumpStatus),
    );
    expect(truncated.length).toBeGreaterThan(0);
    for (const r of truncated) expect(refused.get('unreadable') ?? []).toContain(r.path);
    expect(stats.rewritten + [...refused.values()].reduce((n, p) => n + p.length, 0)).toBe(rows.length);
    expect(stats.rewritten).toBeGreaterThan(300);
    expect(stats.groupLengths).toBeGreaterThan(0); // the corpus has files with data set group lengths
    // Big endian, implicit VR and deflated files are among those rewritten.
    const bySyntax = (name: string) => rows.filter((r) => r.transferSyntax === name).length;
    expect(rewrittenSyntaxes.get('1.2.840.10008.1.2.2')).toBe(bySyntax('Explicit VR Big Endian'));
    expect(rewrittenSyntaxes.get('1.2.840.10008.1.2') ?? 0).toBeGreaterThanOrEqual(1);
    expect(rewrittenSyntaxes.get('1.2.840.10008.1.2.1.99')).toBe(
      bySyntax('Deflated Explicit VR Little Endian'),
    );
  }, 600_000);
});

async function checkRewrite(
  row: ManifestRow,
  out: string,
  edits: ElementEdit[],
  res: RewriteResult,
  stats: Record<string, number>,
  syntaxes: Map<string, number>,
): Promise<void> {
  const a = readFileSync(row.absPath);
  const b = readFileSync(out);
  const da = await dataSetOf(a);
  const db = await dataSetOf(b);
  syntaxes.set(da.tsUid, (syntaxes.get(da.tsUid) ?? 0) + 1);
  // Meta: byte-identical; offsets and lengths reported for the written file.
  expect(db.metaEnd).toBe(da.metaEnd);
  expect(b.subarray(0, db.metaEnd).equals(a.subarray(0, da.metaEnd))).toBe(true);
  expect(res).toMatchObject({
    sizeBytes: b.length,
    datasetOffset: db.metaEnd,
    datasetLength: b.length - db.metaEnd,
    transferSyntaxUid: da.tsUid,
  });

  const ra = await records(da.bytes, da.encoding);
  const rb = await records(db.bytes, db.encoding);
  const keptA = ra.filter((r) => !isEdited(r));
  const keptB = rb.filter((r) => !isEdited(r));
  // Element by element, nested included: same structure, same header bytes, same value bytes.
  expect(keptB.length, row.path).toBe(keptA.length);
  for (let k = 0; k < keptA.length; k++) {
    const x = keptA[k]!;
    const y = keptB[k]!;
    if (
      x.el.kind !== y.el.kind ||
      x.el.tag !== y.el.tag ||
      x.el.depth !== y.el.depth ||
      !x.header.equals(y.header) ||
      (x.value === undefined) !== (y.value === undefined) ||
      (x.value && !x.value.equals(y.value!))
    ) {
      throw new Error(`${row.path}: record ${k} ${formatTag(x.el.tag)} at ${x.el.offset} differs`);
    }
    stats.elementsCompared!++;
    if (x.el.depth > 0) stats.nestedCompared!++;
  }
  // Every byte outside the edited elements, as ranges: the data sets with edited elements cut out are equal.
  const cut = (bytes: Buffer, recs: Rec[]) => {
    const parts: Buffer[] = [];
    let at = 0;
    for (const r of recs.filter(isEdited)) {
      parts.push(bytes.subarray(at, r.el.offset));
      at = r.el.offset + size(r);
    }
    parts.push(bytes.subarray(at));
    return Buffer.concat(parts);
  };
  const restA = cut(da.bytes, ra);
  expect(cut(db.bytes, rb).equals(restA), row.path).toBe(true);
  stats.bytesCompared! += restA.length;
  // The data set length changed by exactly the sum of the edited elements' deltas.
  const editedSize = (recs: Rec[]) => recs.filter(isEdited).reduce((n, r) => n + size(r), 0);
  expect(db.bytes.length - da.bytes.length).toBe(editedSize(rb) - editedSize(ra));

  // The edited elements carry the new values (pacshift's walker, ASCII values).
  const top = (recs: Rec[], t: number) =>
    recs.find((r) => r.el.depth === 0 && r.el.kind === 'element' && r.el.tag === t);
  // A group length of the edited group, when the file has one, grew by exactly what the group grew.
  const gla = top(ra, GROUP_LENGTH_0010);
  const glb = top(rb, GROUP_LENGTH_0010);
  expect(!!glb, `${row.path} (0010,0000)`).toBe(!!gla);
  if (gla && glb && gla.value?.length === 4) {
    const ul = (r: Rec) => (da.encoding.littleEndian ? r.value!.readUInt32LE(0) : r.value!.readUInt32BE(0));
    expect(glb.header.equals(gla.header)).toBe(true);
    const grew = editedSize(rb) - size(glb) - (editedSize(ra) - size(gla));
    expect(ul(glb), `${row.path} (0010,0000)`).toBe(ul(gla) + grew);
    stats.groupLengths!++;
  }
  for (const e of edits) {
    const before = top(ra, e.tag);
    const after = top(rb, e.tag);
    const change = res.changes.find((c) => c.tag === e.tag);
    if (e.value === null && !before) {
      expect(after).toBeUndefined();
      expect(change).toBeUndefined();
      continue;
    }
    expect(after, `${row.path} ${formatTag(e.tag)}`).toBeDefined();
    expect(text(after)).toBe(e.value ?? '');
    expect(after!.value!.length % 2).toBe(0);
    const written = Buffer.from(e.value ?? '', 'latin1');
    // Text VRs pad with one space to even length, nothing else.
    expect(
      after!.value!.equals(written.length % 2 ? Buffer.concat([written, Buffer.from(' ')]) : written),
    ).toBe(true);
    if (before) expect(after!.header.subarray(0, 4).equals(before.header.subarray(0, 4))).toBe(true);
    if (before && before.value!.equals(after!.value!)) expect(change).toBeUndefined();
    else {
      expect(change, `${row.path} ${formatTag(e.tag)}`).toMatchObject({
        after: e.value ?? '',
        inserted: !before,
      });
      stats.changes!++;
      if (!before) stats.inserted!++;
    }
  }
  expect(res.changes.map((c) => c.tag)).toEqual([...res.changes.map((c) => c.tag)].sort((x, y) => x - y));

  // Independent readers (read only): where they read the original, they read the new values.
  if (dcmjsRead(a)) {
    const dict = dcmjsRead(b);
    expect(dict, `dcmjs reads ${row.path}`).toBeDefined();
    for (const e of edits) {
      const got = dcmjsValue(dict!, e.tag);
      if (e.value === null) expect(got ?? '').toBe('');
      else expect(got, `${row.path} ${formatTag(e.tag)} via dcmjs`).toBe(e.value);
    }
    stats.dcmjsChecked!++;
  }
  if (parserRead(a)) {
    const ds = parserRead(b);
    expect(ds, `dicom-parser reads ${row.path}`).toBeDefined();
    for (const e of edits) {
      const got = parserValue(ds!, e.tag);
      if (e.value === null) expect(got ?? '').toBe('');
      else expect(got, `${row.path} ${formatTag(e.tag)} via dicom-parser`).toBe(e.value);
    }
    stats.parserChecked!++;
  }
}
