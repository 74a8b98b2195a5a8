/**
 * Content fingerprints and header reads for verification: a SHA-256 of the data set bytes as stored
 * (File Meta excluded), and the decoded values of named top-level attributes.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { decodeText, type CharsetProblem } from './charset.js';
import { withDataSet } from './dataset.js';
import { dictionaryVr } from './dictionary.js';
import { dicomError, type DicomFileError } from './errors.js';
import { Tags, tagEntry, type Tag } from './tag.js';
import { decodeNumbers } from './value.js';
import { VR_TABLE, type VR } from './vr.js';
import { err, ok, type Result } from '../util/result.js';

/**
 * SHA-256 (hex) of the bytes from `datasetOffset` to the end of the file, streamed. For deflated
 * syntaxes these are the compressed bytes as stored. `fileSize`, when given, must still match.
 */
export async function datasetDigest(
  path: string,
  info: { readonly datasetOffset: number; readonly fileSize?: number },
): Promise<Result<string, DicomFileError>> {
  try {
    if (info.fileSize !== undefined) {
      const st = await stat(path);
      if (st.size !== info.fileSize) {
        return err(
          dicomError('io', `${path}: file is ${st.size} bytes, was ${info.fileSize} when read`, { path }),
        );
      }
    }
    const hash = createHash('sha256');
    for await (const chunk of createReadStream(path, {
      start: info.datasetOffset,
      highWaterMark: 256 * 1024,
    })) {
      hash.update(chunk as Buffer);
    }
    return ok(hash.digest('hex'));
  } catch (e) {
    return err(dicomError('io', `${path}: cannot read the data set: ${(e as Error).message}`, { path }));
  }
}

export interface HeaderAttribute {
  readonly tag: Tag;
  /** As written (explicit VR), else from the dictionary; UN values are decoded with the dictionary VR. */
  readonly vr: VR;
  /** Raw value bytes, at most `maxValueBytes`. */
  readonly bytes: Buffer;
  /** The value was longer than `maxValueBytes`. */
  readonly clipped: boolean;
  /** String and text VRs: decoded and trimmed; undefined when the bytes cannot be decoded with confidence. */
  readonly text?: string;
  /** Binary number VRs (and AT as tag numbers). */
  readonly numbers?: readonly number[] | readonly bigint[];
  /** Why text is missing or uncertain. */
  readonly problem?: CharsetProblem;
}

export interface ReadHeaderOptions {
  readonly maxValueBytes?: number;
}

const TEXT_TRAILING_ONLY = new Set<VR>(['ST', 'LT', 'UT']);

/**
 * Values of the named top-level attributes (absent ones are missing from the map). Text is decoded
 * with the file's Specific Character Set; the walk stops after the highest requested tag.
 */
export function readHeaderAttributes(
  path: string,
  tags: readonly Tag[],
  options: ReadHeaderOptions = {},
): Promise<Result<Map<Tag, HeaderAttribute>, DicomFileError>> {
  const max = options.maxValueBytes ?? 64 * 1024;
  const wanted = new Set(tags);
  const charsetTag = Tags.SpecificCharacterSet.tag;
  const last = Math.max(charsetTag, ...tags);
  return withDataSet(path, async (ds) => {
    const walker = ds.walker({ descendDefinedLength: false, emitNested: false });
    const raw = new Map<Tag, { vr: VR; bytes: Buffer; clipped: boolean }>();
    let charset: string | undefined;
    let le = ds.encoding.littleEndian;
    outer: for (let batch = await walker.nextBatch(); batch.length > 0; batch = await walker.nextBatch()) {
      for (const el of batch) {
        if (el.depth !== 0 || el.kind !== 'element') continue;
        if (el.tag > last) break outer;
        if (el.valueLength === undefined || (!wanted.has(el.tag) && el.tag !== charsetTag)) continue;
        const bytes = Buffer.from(walker.peekValue(el, max) ?? (await walker.readValue(el, max)));
        le = el.encoding.littleEndian;
        if (el.tag === charsetTag) charset = bytes.toString('latin1').replace(/[\0 ]+$/, '');
        if (wanted.has(el.tag)) raw.set(el.tag, { vr: el.vr!, bytes, clipped: el.valueLength > max });
      }
    }
    if (walker.error) return err({ ...walker.error, message: `${path}: ${walker.error.message}` });
    const out = new Map<Tag, HeaderAttribute>();
    for (const [tag, r] of raw) out.set(tag, decodeAttribute(tag, r.vr, r.bytes, r.clipped, charset, le));
    return ok(out);
  });
}

/** Decodes one value: text through the character set, numbers in the data set's byte order. */
export function decodeAttribute(
  tag: Tag,
  vrAsWritten: VR,
  bytes: Buffer,
  clipped: boolean,
  charset: string | undefined,
  littleEndian: boolean,
): HeaderAttribute {
  const vr = vrAsWritten === 'UN' ? (dictionaryVr(tag) ?? tagEntry(tag)?.vr ?? 'UN') : vrAsWritten;
  const base = { tag, vr: vrAsWritten, bytes, clipped };
  const info = VR_TABLE[vr];
  if (info.kind === 'number' || info.kind === 'tag') {
    const numbers = decodeNumbers(vr, bytes, littleEndian);
    return numbers ? { ...base, numbers } : base;
  }
  if (info.kind === 'text') {
    const d = decodeText(bytes, charset, vr === 'PN');
    const text = d.text === undefined ? undefined : trimValues(d.text, vr);
    return { ...base, ...(text !== undefined ? { text } : {}), ...(d.problem ? { problem: d.problem } : {}) };
  }
  if (info.kind === 'string' || info.kind === 'uri') {
    return { ...base, text: trimValues(bytes.toString('latin1'), vr) };
  }
  return base;
}

/** Removes padding: per value for multi-valued VRs, trailing only for ST/LT/UT. */
function trimValues(s: string, vr: VR): string {
  if (TEXT_TRAILING_ONLY.has(vr)) return s.replace(/[\0 ]+$/, '');
  const one = (v: string): string => v.replace(/[\0 ]+$/, '').replace(/^ +/, '');
  return VR_TABLE[vr].multiValued ? s.split('\\').map(one).join('\\') : one(s);
}
