/**
 * The full header of one instance file, read for the analysis: every element, nested ones included,
 * is walked (src/dicom/walk.ts) and decoded, to give
 * - a content digest: SHA-256 of the decoded elements, leaving out File Meta (group 0002, also a
 *   stray one in the data set), group lengths, trailing padding and Pixel Data. It is the same for a
 *   copy re-encoded in another transfer syntax or with another File Meta, and differs when any value
 *   differs (the corpus MANIFEST's header_sha256 makes the same distinction);
 * - character set problems: a (0008,0005) that is misspelt or unknown, and text values that hold
 *   bytes ≥ 0x80 without (0008,0005) or bytes invalid in the declared set (by keyword, no values);
 * - UID problems: every UI value, nested ones included, checked against the UID rules.
 */
import { createHash } from 'node:crypto';
import { parseCharsetTerms, CHARSET_TERMS } from '../dicom/charset.js';
import { withDataSet } from '../dicom/dataset.js';
import { decodeAttribute } from '../dicom/digest.js';
import { dictionaryVr } from '../dicom/dictionary.js';
import type { DicomFileError } from '../dicom/errors.js';
import { keywordOf } from '../dicom/keyword.js';
import { groupOf, isGroupLength, Tags, type Tag } from '../dicom/tag.js';
import type { WalkElement } from '../dicom/walk.js';
import { VR_TABLE, type VR } from '../dicom/vr.js';
import { err, ok, type Result } from '../util/result.js';
import { checkUid, type UidProblem } from './uid.js';

const PIXEL_DATA = 0x7fe00010;
const TRAILING_PADDING = 0xfffcfffc;
const CHARSET = Tags.SpecificCharacterSet.tag;
/** Values longer than this are digested by length only (no such header value is expected). */
const MAX_DIGESTED_VALUE = 64 * 1024 * 1024;

export type CharsetIssue =
  | 'missing' // non-ASCII bytes in a text value and no (0008,0005)
  | 'undecodable' // bytes invalid in the declared set
  | 'misspelt' // a (0008,0005) term that is not a defined term but is understood ("ISO-IR 100")
  | 'unknown'; // a (0008,0005) term that is not understood at all

export interface ScanProblems {
  /** Keywords (or tags) of the elements affected, per issue; for misspelt/unknown, the terms. */
  readonly charset: Partial<Record<CharsetIssue, string[]>>;
  /** UID values breaking the rules (UIDs are not patient data), with the element's keyword. */
  readonly uids: { uid: string; keyword: string; problem: UidProblem; nested: boolean }[];
}

export interface HeaderScan {
  readonly contentDigest: string;
  /** The (0008,0005) value as written (empty when absent). */
  readonly specificCharacterSet: string;
  readonly elements: number;
  readonly problems: ScanProblems;
  /** The walk stopped early (a structural error): the digest covers what came before. */
  readonly incomplete?: DicomFileError;
}

const addTo = (m: Partial<Record<CharsetIssue, string[]>>, k: CharsetIssue, v: string): void => {
  const list = (m[k] ??= []);
  if (!list.includes(v)) list.push(v);
};

/** Charset issues of a (0008,0005) value itself. */
export function charsetTermIssues(value: string): { misspelt: string[]; unknown: string[] } {
  const raw = value.split('\\').map((t) => t.trim());
  const { terms } = parseCharsetTerms(value);
  const misspelt: string[] = [];
  const unknown: string[] = [];
  terms.forEach((t, i) => {
    if (!(t in CHARSET_TERMS)) unknown.push(raw[i]!);
    else if (t !== raw[i]) misspelt.push(raw[i]!);
  });
  return { misspelt, unknown };
}

function canonicalBulk(vr: VR, bytes: Buffer, littleEndian: boolean): string {
  const w = VR_TABLE[vr].wordSize;
  if (littleEndian || w === 1) return bytes.toString('hex');
  const c = Buffer.from(bytes);
  if (w === 2) c.swap16();
  else if (w === 4) c.swap32();
  else if (w === 8) c.swap64();
  return c.toString('hex');
}

export async function scanHeader(path: string): Promise<Result<HeaderScan, DicomFileError>> {
  return withDataSet(path, async (ds) => {
    const walker = ds.walker({ descendDefinedLength: true, emitNested: true });
    const hash = createHash('sha256');
    const charset: Partial<Record<CharsetIssue, string[]>> = {};
    const uids: ScanProblems['uids'] = [];
    /** Character set per item path ('' = top level): an item may declare its own. */
    const charsets = new Map<string, string>();
    let topCharset = '';
    let elements = 0;
    const pathKey = (el: WalkElement): string =>
      el.path.map((p) => `${p.tag.toString(16)}.${p.item}`).join('/');
    const charsetFor = (el: WalkElement): string | undefined => {
      for (let n = el.path.length; n > 0; n--) {
        const c = charsets.get(pathKey({ ...el, path: el.path.slice(0, n) }));
        if (c !== undefined) return c;
      }
      return charsets.get('');
    };

    for (let batch = await walker.nextBatch(); batch.length > 0; batch = await walker.nextBatch()) {
      for (const el of batch) {
        if (el.path.some((p) => p.tag === PIXEL_DATA)) continue;
        const key = pathKey(el);
        if (el.kind === 'item') {
          hash.update(`${key}|item\n`);
          continue;
        }
        if (el.kind !== 'element') continue;
        const t: Tag = el.tag;
        if (
          t === PIXEL_DATA ||
          t === TRAILING_PADDING ||
          isGroupLength(t) ||
          (el.depth === 0 && groupOf(t) === 2)
        )
          continue;
        elements++;
        const vr = el.vr ?? 'UN';
        if (el.content === 'items' || vr === 'SQ') {
          hash.update(`${key}|${t.toString(16)}|SQ\n`);
          continue;
        }
        if (el.content !== 'value' || el.valueLength === undefined) continue;
        if (el.valueLength > MAX_DIGESTED_VALUE) {
          hash.update(`${key}|${t.toString(16)}|length:${el.valueLength}\n`);
          continue;
        }
        const bytes = Buffer.from(
          walker.peekValue(el, el.valueLength) ?? (await walker.readValue(el, el.valueLength)),
        );
        const le = el.encoding.littleEndian;
        if (t === CHARSET) {
          const value = bytes.toString('latin1').replace(/[\0 ]+$/, '');
          charsets.set(key, value);
          if (el.depth === 0) topCharset = value;
          const terms = charsetTermIssues(value);
          for (const m of terms.misspelt) addTo(charset, 'misspelt', m);
          for (const u of terms.unknown) addTo(charset, 'unknown', u);
        }
        const a = decodeAttribute(t, vr, bytes, false, charsetFor(el), le);
        const effectiveVr: VR = vr === 'UN' ? (dictionaryVr(t) ?? 'UN') : vr;
        const kind = VR_TABLE[effectiveVr].kind;
        let canonical: string;
        if (a.numbers) canonical = `n:${(a.numbers as readonly (number | bigint)[]).map(String).join('\\')}`;
        else if (a.text !== undefined) canonical = `t:${a.text}`;
        else if (kind === 'text') canonical = `r:${bytes.toString('latin1').replace(/[\0 ]+$/, '')}`;
        else canonical = `b:${canonicalBulk(vr, bytes, le)}`;
        hash.update(`${key}|${t.toString(16)}|${canonical}\n`);

        if (a.problem === 'non-ascii-without-charset') addTo(charset, 'missing', keywordOf(t));
        else if (a.problem === 'undecodable') addTo(charset, 'undecodable', keywordOf(t));
        if (effectiveVr === 'UI') {
          for (const u of bytes
            .toString('latin1')
            .replace(/[\0 ]+$/, '')
            .split('\\')) {
            if (u === '') continue;
            const problem = checkUid(u);
            if (problem) uids.push({ uid: u, keyword: keywordOf(t), problem, nested: el.depth > 0 });
          }
        }
      }
    }
    if (walker.error && elements === 0)
      return err({ ...walker.error, message: `${path}: ${walker.error.message}` });
    return ok({
      contentDigest: hash.digest('hex'),
      specificCharacterSet: topCharset,
      elements,
      problems: { charset, uids },
      ...(walker.error ? { incomplete: walker.error } : {}),
    });
  });
}

export const _test = { canonicalBulk };
