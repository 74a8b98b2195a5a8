/**
 * Attribute values compared as values, not bytes: peers legitimately re-encode (another character
 * set, byte order, padding, "512" vs "512.0" in a DS). Both sides are first reduced to the JSON form
 * recordPassThrough writes (text, numbers); this module says whether two such values are equal, by VR.
 */
import { lookupKeyword } from '../dicom/keyword.js';
import type { ElementValue, SmallDataset } from '../dicom/small-dataset.js';
import type { Json } from '../state/types.js';

/** Header key listing the keywords whose text could not be decoded (never a DICOM keyword). */
export const UNDECODABLE_KEY = '_undecodable';
/** Header key of a C-FIND answer: the Specific Character Set it was given in. */
export const ANSWER_CHARSET_KEY = '_charset';
/** Keys that describe a header rather than belong to it: never compared. */
export const isMetaKey = (k: string): boolean => k.startsWith('_');

const TEXT_VRS = new Set(['PN', 'LO', 'SH', 'LT', 'ST', 'UT', 'UC']);
/** Text VRs go through the Specific Character Set. */
export const isTextKeyword = (keyword: string): boolean => TEXT_VRS.has(vrOfKeyword(keyword));

function vrOfKeyword(keyword: string): string {
  return lookupKeyword(keyword)?.vr ?? 'UN';
}

/** Attributes of the record that are facts about one encoding, not about the instance: never compared. */
export const ENCODING_KEYWORDS: ReadonlySet<string> = new Set(['TransferSyntaxUID', 'SpecificCharacterSet']);

/**
 * Attributes a peer may change legitimately when it changes the transfer syntax (decompressing
 * YBR_FULL_422 JPEG gives RGB): compared only when both sides have the same transfer syntax.
 */
export const SYNTAX_DEPENDENT_KEYWORDS: ReadonlySet<string> = new Set(['PhotometricInterpretation']);

/**
 * Keys an IMAGE-level C-FIND answers from the patient/study or the series record (PS3.4 C.6.1.1.2–4,
 * C.6.2.1), not from the instance: archives fill them from whichever instance of the study or series
 * they indexed (Orthanc: the first). Patient keys count as study keys (the study root).
 */
export const KEYWORD_LEVEL: ReadonlyMap<string, 'STUDY' | 'SERIES'> = new Map([
  ...(
    [
      'PatientName',
      'PatientID',
      'IssuerOfPatientID',
      'PatientBirthDate',
      'PatientSex',
      'StudyInstanceUID',
      'StudyDate',
      'StudyTime',
      'AccessionNumber',
      'ReferringPhysicianName',
      'StudyDescription',
      'StudyID',
      'PatientAge',
      'InstitutionName',
    ] as const
  ).map((k) => [k, 'STUDY'] as const),
  ...(
    [
      'SeriesInstanceUID',
      'Modality',
      'SeriesNumber',
      'SeriesDescription',
      'SeriesDate',
      'SeriesTime',
      'BodyPartExamined',
    ] as const
  ).map((k) => [k, 'SERIES'] as const),
]);

export type Comparison =
  | 'equal'
  | 'different'
  /** The peer did not return the key, or returned it empty while a value was expected (C-FIND: unsupported key). */
  | 'unanswered';

const isEmpty = (v: Json | undefined): boolean =>
  v === undefined || v === null || v === '' || (Array.isArray(v) && v.length === 0);

function valuesOf(v: Json): string[] {
  if (Array.isArray(v)) return v.map((x) => (x === null ? '' : String(x)));
  return String(v).split('\\');
}

const trimmed = (s: string): string => s.replace(/[\0 ]+$/, '').replace(/^ +/, '');

/** A person name without the padding and empty trailing components (PS3.5 6.2.1). */
function normalisePersonName(s: string): string {
  const groups = trimmed(s)
    .split('=')
    .map((g) => g.split('^').map(trimmed).join('^').replace(/\^+$/, ''));
  while (groups.length > 0 && groups[groups.length - 1] === '') groups.pop();
  return groups.join('=');
}

/** HHMMSS.FFFFFF without trailing zeros in the fraction (legacy colons removed). */
function normaliseTime(s: string): string {
  const t = trimmed(s).replace(/:/g, '');
  return t.includes('.') ? t.replace(/0+$/, '').replace(/\.$/, '') : t;
}

function numbersEqual(a: string[], b: string[]): boolean {
  if (a.length !== b.length) return false;
  return a.every((x, i) => {
    const y = b[i]!;
    const nx = Number(trimmed(x));
    const ny = Number(trimmed(y));
    if (trimmed(x) === '' || trimmed(y) === '' || Number.isNaN(nx) || Number.isNaN(ny))
      return trimmed(x) === trimmed(y);
    return nx === ny;
  });
}

/** Canonical text of one value list for string-like VRs. */
function canonical(vr: string, values: string[]): string[] {
  if (vr === 'PN') return values.map(normalisePersonName);
  if (vr === 'TM') return values.map(normaliseTime);
  if (vr === 'ST' || vr === 'LT' || vr === 'UT') return values.map((v) => v.replace(/[\0 ]+$/, ''));
  return values.map(trimmed);
}

/**
 * Compares an expected value (the record) with a found one. `mode: 'query'` (a C-FIND answer): a key
 * returned empty or not at all is `unanswered` (archives return empty keys they do not support);
 * `mode: 'file'` (a retrieved instance): empty is a value like any other.
 */
export function compareValues(
  keyword: string,
  expected: Json | undefined,
  found: Json | undefined,
  mode: 'query' | 'file',
): Comparison {
  if (found === undefined) return 'unanswered';
  const e = isEmpty(expected);
  const f = isEmpty(found);
  if (e && f) return 'equal';
  if (f && mode === 'query') return 'unanswered';
  if (e || f) return 'different';
  const vr = vrOfKeyword(keyword);
  const ev = valuesOf(expected!);
  const fv = valuesOf(found);
  if (['DS', 'IS', 'US', 'UL', 'SS', 'SL', 'FL', 'FD', 'SV', 'UV'].includes(vr)) {
    return numbersEqual(ev, fv) ? 'equal' : 'different';
  }
  const a = canonical(vr, ev);
  const b = canonical(vr, fv);
  while (a.length > 0 && a[a.length - 1] === '') a.pop();
  while (b.length > 0 && b[b.length - 1] === '') b.pop();
  return a.length === b.length && a.every((x, i) => x === b[i]) ? 'equal' : 'different';
}

/** A C-FIND answer's element as the JSON form of the record (undefined for sequences). */
export function elementJson(value: ElementValue): Json | undefined {
  if (value === null) return '';
  if (Buffer.isBuffer(value))
    return `bytes:${value.toString('hex').slice(0, 128)}${value.length > 64 ? '…' : ''}`;
  if (typeof value === 'string' || typeof value === 'number') return value;
  if (Array.isArray(value)) {
    if (value.length > 0 && value[0] instanceof Map) return undefined;
    return (value as (string | number)[]).map((v) => v);
  }
  return undefined;
}

/** A C-FIND answer as keyword → JSON value (keys the peer did not return are absent). */
export function identifierJson(
  ds: SmallDataset,
  keywordsByTag: ReadonlyMap<number, string>,
): Record<string, Json> {
  const out: Record<string, Json> = {};
  for (const [tag, el] of ds) {
    const k = keywordsByTag.get(tag);
    if (k === undefined) continue;
    const v = elementJson(el.value);
    if (v !== undefined) out[k] = v;
  }
  return out;
}
