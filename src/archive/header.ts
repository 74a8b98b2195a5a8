/**
 * Reads the header attributes the archive indexes (attributes.ts) from a Part 10 file already
 * identified by readInstanceInfo: one walk over the top-level elements that stops after the last
 * wanted tag (pixel data is never reached). Text is decoded with the declared character set.
 */
import { InflateSource } from '../dicom/deflate.js';
import { DicomSourceError, type DicomFileError } from '../dicom/errors.js';
import type { InstanceInfo } from '../dicom/part10.js';
import { FileSource, type ByteSource } from '../dicom/source.js';
import { decodeText } from '../dicom/text.js';
import { EXPLICIT_LE } from '../dicom/transfer-syntax.js';
import { decodeNumbers } from '../dicom/value.js';
import { isVR } from '../dicom/vr.js';
import { walk } from '../dicom/walk.js';
import { type Result, err, ok } from '../util/result.js';
import {
  BINARY_NUMBER_VRS,
  HEADER_TAGS,
  LAST_HEADER_TAG,
  SPECIFIC_CHARACTER_SET,
  attributeByTag,
} from './attributes.js';

/** Keyword → decoded value (multiple values joined with `\`, padding removed). Absent attributes are absent. */
export type HeaderAttributes = Record<string, string>;

/** VRs whose bytes are text in the declared character set (the others are the default repertoire). */
const TEXT_VRS = new Set(['PN', 'LO', 'SH', 'LT', 'ST', 'UT', 'UC']);
/** No header value we index is longer than this (LO is 64 characters, a few UIDs in UI). */
const MAX_VALUE = 16 * 1024;

/** Padding and surrounding spaces of each value removed (a text value keeps its inner spaces). */
export function cleanValue(s: string): string {
  return s
    .replace(/\0+$/, '')
    .split('\\')
    .map((v) => v.trim())
    .join('\\');
}

export async function readHeaderAttributes(
  info: InstanceInfo,
): Promise<Result<HeaderAttributes, DicomFileError>> {
  let source: ByteSource;
  let start: number;
  try {
    if (info.transferSyntax.deflated) {
      source = new InflateSource(info.path, info.metaEnd);
      start = 0;
    } else {
      source = await FileSource.open(info.path);
      start = info.metaEnd;
    }
  } catch (e) {
    if (e instanceof DicomSourceError) return err(e.error);
    throw e;
  }
  const encoding = info.transferSyntax.deflated ? EXPLICIT_LE : info.transferSyntax;
  const raw = new Map<number, { vr: string; bytes: Buffer }>();
  try {
    const walker = walk(source, { encoding, start, descendDefinedLength: false });
    for await (const el of walker) {
      if (el.depth !== 0 || el.kind !== 'element') continue;
      if (el.tag > LAST_HEADER_TAG) break;
      if (HEADER_TAGS.has(el.tag) && el.valueLength !== undefined) {
        raw.set(el.tag, { vr: el.vr ?? 'UN', bytes: Buffer.from(await walker.readValue(el, MAX_VALUE)) });
      }
    }
    if (walker.error) return err(walker.error);
  } catch (e) {
    if (e instanceof DicomSourceError) return err(e.error);
    throw e;
  } finally {
    await source.close();
  }
  const charset = raw
    .get(SPECIFIC_CHARACTER_SET)
    ?.bytes.toString('latin1')
    .replace(/[\0 ]+$/, '');
  const out: HeaderAttributes = {};
  if (charset) out.SpecificCharacterSet = cleanValue(charset);
  for (const [tag, { vr, bytes }] of raw) {
    const attr = attributeByTag.get(tag);
    if (!attr) continue;
    if (BINARY_NUMBER_VRS.has(attr.vr)) {
      // Binary numbers, in the file's byte order (a UN or implicit element holds the dictionary VR's bytes).
      const nums = decodeNumbers(isVR(attr.vr) ? attr.vr : 'US', bytes, encoding.littleEndian);
      if (nums && nums.length > 0) out[attr.keyword] = nums.map(String).join('\\');
      continue;
    }
    const text =
      TEXT_VRS.has(vr) || (vr === 'UN' && TEXT_VRS.has(attr.vr))
        ? decodeText(bytes, charset)
        : bytes.toString('latin1');
    const v = cleanValue(text);
    if (v !== '') out[attr.keyword] = v;
  }
  return ok(out);
}
