/**
 * The element-level rewriter: a Part 10 file with named top-level text elements replaced, emptied or
 * inserted, and every other byte as it was. The File Meta is copied byte for byte (its group length covers
 * only the meta); a replaced element keeps its tag, VR and reserved bytes as written, only its length field
 * and value change; an inserted element goes before the first top-level element with a greater tag. The data
 * set's top level has no enclosing length, so nothing else moves but offsets.
 *
 * Streaming: one pass walks the element headers (values are skipped, pixel data is never loaded), a second
 * pass copies the file through, splicing in the new elements. Memory is bounded by the edited values.
 * Deflated data sets (Deflated Explicit VR Little Endian) are inflated, edited and deflated again: then the
 * inflated bytes outside the edited elements are identical, the compressed bytes are not.
 *
 * Never written through dcmjs or dicom-parser. Messages name tags, keywords and paths, never values.
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { open, rename, stat, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createDeflateRaw, createInflateRaw } from 'node:zlib';
import { withDataSet } from '../dicom/dataset.js';
import { dictionaryVr } from '../dicom/dictionary.js';
import type { DicomFileError } from '../dicom/errors.js';
import { keywordOf } from '../dicom/keyword.js';
import { isWritableVr } from './elements.js';
import { formatTag, groupOf, Tags } from '../dicom/tag.js';
import { decodeText } from '../dicom/text.js';
import type { Encoding } from '../dicom/transfer-syntax.js';
import { checkValue, VR_TABLE, type VR } from '../dicom/vr.js';
import { err, ok, type Result } from '../util/result.js';
import { encodeValue } from './encode-value.js';

export interface ElementEdit {
  /** Top-level data set element, (group << 16 | element) as a number (src/dicom/tag.ts `Tag`). Never group 0002, never a UID (VR UI) — refuse. */
  readonly tag: number;
  /** New value as Unicode text (multi-valued: joined with "\\"); null = keep the element but make it empty (zero length). */
  readonly value: string | null;
}

export interface ElementChange {
  tag: number;
  keyword: string;
  /** The VR the value was written as (for an element written as UN: its dictionary VR). */
  vr: string;
  /** Decoded, trailing padding removed; null when the element was absent. */
  before: string | null;
  after: string | null;
  inserted: boolean;
}

export interface RewriteResult {
  changes: ElementChange[];
  /** Size of the written file. */
  sizeBytes: number;
  /** Where the data set starts in the written file (the end of the File Meta, unchanged). */
  datasetOffset: number;
  /** Bytes from datasetOffset to the end of the written file (compressed bytes for deflated syntaxes). */
  datasetLength: number;
  transferSyntaxUid: string;
}

export type RewriteErrorKind =
  | 'not-part10'
  | 'unreadable'
  | 'unsupported-syntax'
  | 'not-top-level'
  | 'uid-element'
  | 'vr-not-text'
  | 'not-encodable'
  | 'value-invalid'
  | 'io';

export interface RewriteError {
  kind: RewriteErrorKind;
  tag?: number;
  /** No PHI: tags, keywords, UIDs and paths only, never values. */
  message: string;
}

/** How a file's own error maps onto the rewriter's kinds. */
const FILE_ERROR_KIND: Readonly<Record<DicomFileError['code'], RewriteErrorKind>> = {
  'not-dicom': 'not-part10',
  'no-meta': 'not-part10',
  'unknown-transfer-syntax': 'unsupported-syntax',
  'lying-transfer-syntax': 'unreadable',
  truncated: 'unreadable',
  'too-deep': 'unreadable',
  'missing-uid': 'unreadable',
  'deflate-error': 'unreadable',
  malformed: 'unreadable',
  io: 'io',
};

const describe = (tag: number): string => `${keywordOf(tag)} ${formatTag(tag)}`;
const fail = (kind: RewriteErrorKind, message: string, tag?: number): { ok: false; error: RewriteError } =>
  err(tag === undefined ? { kind, message } : { kind, tag, message });

/** A replaced range of the data set (offsets relative to its first byte; start = end for an insertion). */
interface Splice {
  readonly start: number;
  readonly end: number;
  readonly bytes: Buffer;
  readonly tag: number;
}

interface Plan {
  readonly metaEnd: number;
  readonly transferSyntaxUid: string;
  readonly deflated: boolean;
  /** Length of the (inflated) data set as walked. */
  readonly datasetLength: number;
  readonly splices: Splice[];
  readonly changes: ElementChange[];
}

/** Checks that need no file: the tag is a top-level data set element that can hold text. */
function staticCheck(edit: ElementEdit): RewriteError | undefined {
  const t = edit.tag;
  if (!Number.isInteger(t) || t < 0 || t > 0xffffffff) throw new Error(`rewriteInstance: bad tag ${t}`);
  const g = groupOf(t);
  if (g === 0x0002)
    return {
      kind: 'not-top-level',
      tag: t,
      message: `${formatTag(t)} is File Meta (group 0002), not the data set`,
    };
  if (g === 0xfffe || g === 0x0000)
    return { kind: 'not-top-level', tag: t, message: `${formatTag(t)} is not a data set element` };
  if (dictionaryVr(t) === 'UI')
    return { kind: 'uid-element', tag: t, message: `${describe(t)} is a UID (VR UI): not edited by rules` };
  if (t === Tags.SpecificCharacterSet.tag)
    return {
      kind: 'value-invalid',
      tag: t,
      message: `${describe(t)} cannot be edited: it decides how every other text value reads`,
    };
  return undefined;
}

/** The header of an inserted element in the data set's encoding. */
function buildHeader(tag: number, vr: VR, length: number, enc: Encoding): Buffer {
  const le = enc.littleEndian;
  const long = !enc.explicitVr || VR_TABLE[vr].longLength;
  const h = Buffer.alloc(enc.explicitVr && long ? 12 : 8);
  const w16 = (v: number, o: number) => (le ? h.writeUInt16LE(v, o) : h.writeUInt16BE(v, o));
  const w32 = (v: number, o: number) => (le ? h.writeUInt32LE(v, o) : h.writeUInt32BE(v, o));
  w16(groupOf(tag), 0);
  w16(tag & 0xffff, 2);
  if (!enc.explicitVr) w32(length, 4);
  else {
    h.write(vr, 4, 'latin1');
    if (long) w32(length, 8);
    else w16(length, 6);
  }
  return h;
}

/** A copy of an existing header with only its length field changed. */
function patchHeader(header: Buffer, vr: VR, length: number, enc: Encoding): Buffer {
  const h = Buffer.from(header);
  const le = enc.littleEndian;
  if (enc.explicitVr && !VR_TABLE[vr].longLength) {
    if (le) h.writeUInt16LE(length, 6);
    else h.writeUInt16BE(length, 6);
  } else {
    const at = enc.explicitVr ? 8 : 4;
    if (le) h.writeUInt32LE(length, at);
    else h.writeUInt32BE(length, at);
  }
  return h;
}

/** Displayed text of a value: decoded with the character set, trailing padding removed. */
function shown(bytes: Buffer, vr: VR, charset: string | undefined): string {
  const text = VR_TABLE[vr].usesCharacterSet
    ? decodeText(bytes, charset, vr === 'PN')
    : bytes.toString('latin1');
  return text.replace(/[\0 ]+$/, '');
}

interface Found {
  readonly header: Buffer;
  readonly value: Buffer;
  readonly vr: VR;
  readonly offset: number;
  readonly end: number;
  readonly content: string;
}

/** Walks the top level once: where each edited element is (or would go) and the character set. */
async function planEdits(
  inPath: string,
  edits: readonly ElementEdit[],
): Promise<Result<Result<Plan, RewriteError>, DicomFileError>> {
  return withDataSet<Result<Plan, RewriteError>>(inPath, async (ds) => {
    const wanted = new Set(edits.map((e) => e.tag));
    const found = new Map<number, Found>();
    const insertAt = new Map<number, number>();
    // Group lengths (gggg,0000) of the edited groups: retired in the data set, but older equipment wrote
    // them and a reader may trust them, so they must follow the edits ("the lengths around them").
    const editedGroups = new Set(edits.map((e) => groupOf(e.tag)));
    const groupLengths = new Map<number, Found>();
    let charset: string | undefined;
    const walker = ds.walker({ descendDefinedLength: false, emitNested: false });
    for (let batch = await walker.nextBatch(); batch.length > 0; batch = await walker.nextBatch()) {
      for (const el of batch) {
        if (el.depth !== 0 || el.kind !== 'element') continue;
        for (const t of wanted)
          if (el.tag > t && !found.has(t) && !insertAt.has(t)) insertAt.set(t, el.offset - ds.start);
        const isCharset = el.tag === Tags.SpecificCharacterSet.tag;
        if (
          (el.tag & 0xffff) === 0 &&
          editedGroups.has(groupOf(el.tag)) &&
          el.valueLength === 4 &&
          el.content === 'value'
        ) {
          const n = el.headerLength + 4;
          const raw = Buffer.from(ds.source.peek(el.offset, n) ?? (await ds.source.read(el.offset, n)));
          if (raw.length === n)
            groupLengths.set(groupOf(el.tag), {
              header: raw.subarray(0, el.headerLength),
              value: raw.subarray(el.headerLength),
              vr: el.vr ?? 'UL',
              offset: el.offset - ds.start,
              end: el.offset - ds.start + n,
              content: el.content,
            });
          continue;
        }
        if (!wanted.has(el.tag) && !isCharset) continue;
        if (found.has(el.tag))
          return ok(
            fail(
              'unreadable',
              `${describe(el.tag)} occurs twice at the top level (offset ${el.offset})`,
              el.tag,
            ),
          );
        if (el.valueLength === undefined || el.content !== 'value' || el.vr === undefined) {
          if (isCharset) continue;
          return ok(
            fail(
              'vr-not-text',
              `${describe(el.tag)} has VR ${el.vr ?? '?'} with items or fragments: not a text value`,
              el.tag,
            ),
          );
        }
        // Forward-only sources (inflate): read now, header and value together.
        const n = el.headerLength + el.valueLength;
        const raw = Buffer.from(ds.source.peek(el.offset, n) ?? (await ds.source.read(el.offset, n)));
        if (raw.length < n) continue; // the walker reports the truncation
        if (isCharset)
          charset = raw
            .subarray(el.headerLength)
            .toString('latin1')
            .replace(/[\0 ]+$/, '');
        if (wanted.has(el.tag)) {
          insertAt.delete(el.tag);
          found.set(el.tag, {
            header: raw.subarray(0, el.headerLength),
            value: raw.subarray(el.headerLength),
            vr: el.vr,
            offset: el.offset - ds.start,
            end: el.offset - ds.start + n,
            content: el.content,
          });
        }
      }
    }
    if (walker.error) return err(walker.error);
    const datasetLength = (walker.endOffset ?? ds.start) - ds.start;
    for (const t of wanted) if (!found.has(t) && !insertAt.has(t)) insertAt.set(t, datasetLength);

    const splices: Splice[] = [];
    const changes: ElementChange[] = [];
    for (const edit of [...edits].sort((a, b) => a.tag - b.tag)) {
      const t = edit.tag;
      const f = found.get(t);
      if (!f && edit.value === null) continue; // nothing to empty
      // The header keeps the VR as written; an explicit UN holds the value as its dictionary VR would
      // (PS3.5 6.2.2), so the value is checked and encoded by the dictionary VR.
      const headerVr = f ? f.vr : dictionaryVr(t);
      const vr = headerVr === 'UN' && f?.content === 'value' ? (dictionaryVr(t) ?? 'UN') : headerVr;
      if (vr === undefined || headerVr === undefined)
        return ok(fail('vr-not-text', `${describe(t)} is absent and not in the dictionary: VR unknown`, t));
      if (vr === 'UI')
        return ok(fail('uid-element', `${describe(t)} has VR UI: UIDs are not edited here`, t));
      if (!isWritableVr(vr))
        return ok(fail('vr-not-text', `${describe(t)} has VR ${vr}: only text VRs can be edited`, t));
      let value: Buffer = Buffer.alloc(0);
      if (edit.value !== null) {
        const parts = VR_TABLE[vr].multiValued ? edit.value.split('\\') : [edit.value];
        for (const [i, part] of parts.entries()) {
          const problem = checkValue(vr, part);
          if (problem)
            return ok(
              fail(
                'value-invalid',
                `${describe(t)} (${vr}): value ${parts.length > 1 ? `${i + 1} ` : ''}is invalid (${problem})`,
                t,
              ),
            );
        }
        const enc = encodeValue(edit.value, vr, charset);
        if (!enc.ok) return ok(fail('not-encodable', `${describe(t)} (${vr}): ${enc.message}`, t));
        value = enc.bytes.length % 2 ? Buffer.concat([enc.bytes, Buffer.of(VR_TABLE[vr].pad)]) : enc.bytes;
      }
      const shortLength = ds.encoding.explicitVr && !VR_TABLE[headerVr].longLength;
      if (shortLength && value.length > 0xfffe)
        return ok(
          fail('value-invalid', `${describe(t)} (${vr}): ${value.length} bytes exceed a 16-bit length`, t),
        );
      const after = edit.value === null ? '' : edit.value;
      if (f) {
        if (f.value.equals(value)) continue;
        splices.push({
          start: f.offset,
          end: f.end,
          bytes: Buffer.concat([patchHeader(f.header, headerVr, value.length, ds.encoding), value]),
          tag: t,
        });
        changes.push({
          tag: t,
          keyword: keywordOf(t),
          vr,
          before: shown(f.value, vr, charset),
          after,
          inserted: false,
        });
      } else {
        const at = insertAt.get(t)!;
        splices.push({
          start: at,
          end: at,
          bytes: Buffer.concat([buildHeader(t, vr, value.length, ds.encoding), value]),
          tag: t,
        });
        changes.push({ tag: t, keyword: keywordOf(t), vr, before: null, after, inserted: true });
      }
    }
    for (const [group, gl] of groupLengths) {
      const grew = splices
        .filter((sp) => groupOf(sp.tag) === group)
        .reduce((n, sp) => n + sp.bytes.length - (sp.end - sp.start), 0);
      if (grew === 0) continue;
      const le = ds.encoding.littleEndian;
      const old = le ? gl.value.readUInt32LE(0) : gl.value.readUInt32BE(0);
      const value = Buffer.alloc(4);
      if (le) value.writeUInt32LE((old + grew) >>> 0, 0);
      else value.writeUInt32BE((old + grew) >>> 0, 0);
      splices.push({
        start: gl.offset,
        end: gl.end,
        bytes: Buffer.concat([gl.header, value]),
        tag: group * 0x10000,
      });
    }
    // By position; at one position insertions (ascending tag) come before the element they precede.
    splices.sort((a, b) => a.start - b.start || a.end - a.start - (b.end - b.start) || a.tag - b.tag);
    return ok(
      ok({
        metaEnd: ds.meta.metaEnd,
        transferSyntaxUid: ds.transferSyntax.uid,
        deflated: ds.transferSyntax.deflated,
        datasetLength,
        splices,
        changes,
      }),
    );
  });
}

/**
 * The rewritten data set as chunks: `source` yields the original data set bytes in order; splices replace
 * their ranges. Throws when the source does not hold exactly `expectedLength` bytes (the file changed).
 */
async function* spliced(
  source: AsyncIterable<Buffer>,
  splices: readonly Splice[],
  expectedLength: number,
): AsyncGenerator<Buffer> {
  let pos = 0;
  let i = 0;
  let emitted = false;
  for await (const chunk of source) {
    let c: Buffer = chunk;
    while (c.length > 0) {
      const sp = splices[i];
      if (!sp) {
        yield c;
        pos += c.length;
        break;
      }
      if (pos < sp.start) {
        const n = Math.min(c.length, sp.start - pos);
        yield c.subarray(0, n);
        c = c.subarray(n);
        pos += n;
        continue;
      }
      if (!emitted) {
        yield sp.bytes;
        emitted = true;
      }
      const skip = Math.min(c.length, sp.end - pos);
      c = c.subarray(skip);
      pos += skip;
      if (pos >= sp.end) {
        i++;
        emitted = false;
      }
    }
  }
  // Insertions at the very end of the data set.
  for (; i < splices.length; i++) {
    const sp = splices[i]!;
    if (sp.start !== pos || sp.end !== pos) break;
    if (!emitted) yield sp.bytes;
    emitted = false;
  }
  if (pos < expectedLength || i < splices.length)
    throw new Error(`data set ended at ${pos}, expected ${expectedLength}: the file changed while rewritten`);
}

async function readHead(path: string, n: number): Promise<Buffer> {
  const fh = await open(path, 'r');
  try {
    const b = Buffer.alloc(n);
    let got = 0;
    while (got < n) {
      const { bytesRead } = await fh.read(b, got, n - got, got);
      if (bytesRead === 0) throw new Error(`file shorter than its File Meta (${n} bytes)`);
      got += bytesRead;
    }
    return b;
  } finally {
    await fh.close();
  }
}

let tempCounter = 0;

/**
 * Writes `outPath` (via a temp file + rename in the same folder, never a partial file) = `inPath` with only
 * the edited elements changed. Edits that change nothing (same bytes) produce no change entry; if no edit
 * changes anything, still writes an identical copy and returns changes: []. An edit with value null of an
 * absent element changes nothing (there is nothing to empty).
 */
export async function rewriteInstance(
  inPath: string,
  outPath: string,
  edits: readonly ElementEdit[],
): Promise<Result<RewriteResult, RewriteError>> {
  const seen = new Set<number>();
  for (const e of edits) {
    if (seen.has(e.tag)) throw new Error(`rewriteInstance: ${formatTag(e.tag)} edited twice`);
    seen.add(e.tag);
    const bad = staticCheck(e);
    if (bad) return err(bad);
  }
  const planned = await planEdits(inPath, edits);
  if (!planned.ok) {
    const e = planned.error;
    return fail(FILE_ERROR_KIND[e.code], `${e.code}: ${e.message}`);
  }
  if (!planned.value.ok) return planned.value;
  const plan = planned.value.value;

  const temp = join(dirname(outPath), `.${basename(outPath)}.${process.pid}.${++tempCounter}.rewrite-tmp`);
  try {
    const head = await readHead(inPath, plan.metaEnd);
    const out = await open(temp, 'wx');
    try {
      await out.writeFile(head);
    } finally {
      await out.close();
    }
    const input = createReadStream(inPath, { start: plan.metaEnd, highWaterMark: 1 << 20 });
    let source: Readable = input;
    if (plan.deflated) {
      const inflate = createInflateRaw({ chunkSize: 1 << 16 });
      input.on('error', (e) => inflate.destroy(e));
      source = input.pipe(inflate);
    }
    const body = Readable.from(spliced(source, plan.splices, plan.datasetLength), { objectMode: false });
    const sink = createWriteStream(temp, { flags: 'a' });
    if (plan.deflated) await pipeline(body, createDeflateRaw(), sink);
    else await pipeline(body, sink);
    const size = (await stat(temp)).size;
    await rename(temp, outPath);
    return ok({
      changes: plan.changes,
      sizeBytes: size,
      datasetOffset: plan.metaEnd,
      datasetLength: size - plan.metaEnd,
      transferSyntaxUid: plan.transferSyntaxUid,
    });
  } catch (e) {
    await unlink(temp).catch(() => undefined);
    return fail('io', `writing ${outPath} from ${inPath}: ${(e as Error).message}`);
  }
}
