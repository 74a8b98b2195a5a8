/**
 * The return keys the inventory asks for at each level, and how an answer becomes a state-database
 * row. Tables, one per level: keyword → where the value goes. A key the source leaves out is "not
 * reported" (the stored value is kept); a key it returns empty is "reported empty" (stored as NULL).
 */
import { lookupKeyword } from '../dicom/keyword.js';
import type { SmallDataset } from '../dicom/small-dataset.js';
import type { InstanceInput, Json, SeriesInput, StudyInput } from '../state/index.js';

type Kind = 'text' | 'int';
interface KeySpec<P extends string> {
  readonly keyword: string;
  /** Property of the row; undefined: kept in `attrs` under the keyword. */
  readonly prop?: P;
  readonly kind: Kind;
}

const text = <P extends string>(keyword: string, prop?: P): KeySpec<P> => ({ keyword, prop, kind: 'text' });
const int = <P extends string>(keyword: string, prop?: P): KeySpec<P> => ({ keyword, prop, kind: 'int' });

type StudyProp = Exclude<keyof StudyInput, 'studyUid' | 'attrs'>;
type SeriesProp = Exclude<keyof SeriesInput, 'seriesUid' | 'studyUid' | 'attrs'>;
type InstanceProp = Exclude<keyof InstanceInput, 'sopInstanceUid' | 'seriesUid' | 'studyUid' | 'attrs'>;

/** Study level (PS3.4 C.6.2.1.2 plus the usual optional keys). */
export const STUDY_KEYS: readonly KeySpec<StudyProp>[] = [
  text('PatientID', 'patientId'),
  text('PatientName', 'patientName'),
  text('PatientBirthDate', 'patientBirthDate'),
  text('PatientSex', 'patientSex'),
  text('IssuerOfPatientID'),
  text('AccessionNumber', 'accessionNumber'),
  text('StudyDate', 'studyDate'),
  text('StudyTime', 'studyTime'),
  text('StudyDescription', 'studyDescription'),
  text('ModalitiesInStudy', 'modalitiesInStudy'),
  text('InstitutionName', 'institutionName'),
  text('ReferringPhysicianName', 'referringPhysician'),
  text('StudyID'),
  int('NumberOfStudyRelatedSeries', 'numSeries'),
  int('NumberOfStudyRelatedInstances', 'numInstances'),
];

/** Series level. InstitutionName belongs to the series (General Equipment): it fills an empty study value. */
export const SERIES_KEYS: readonly KeySpec<SeriesProp>[] = [
  text('Modality', 'modality'),
  int('SeriesNumber', 'seriesNumber'),
  text('SeriesDescription', 'seriesDescription'),
  text('BodyPartExamined', 'bodyPart'),
  text('Manufacturer', 'manufacturer'),
  text('ManufacturerModelName', 'model'),
  text('StationName', 'stationName'),
  text('SoftwareVersions', 'softwareVersions'),
  text('InstitutionName'),
  int('NumberOfSeriesRelatedInstances', 'numInstances'),
];

/**
 * Image level. The transfer syntax is asked as AvailableTransferSyntaxUID (0008,3002): (0002,0010)
 * is File Meta, which a C-FIND identifier may not contain (Orthanc drops it, strict archives refuse).
 * Sizes are not available by C-FIND.
 */
export const IMAGE_KEYS: readonly KeySpec<InstanceProp>[] = [
  text('SOPClassUID', 'sopClassUid'),
  int('InstanceNumber', 'instanceNumber'),
  text('AvailableTransferSyntaxUID'),
];

function tagOf(keyword: string): number {
  const d = lookupKeyword(keyword);
  if (!d) throw new Error(`inventory: unknown keyword ${keyword}`);
  return d.tag;
}

/** A value as answered: undefined when the key is absent, null when empty, else the trimmed text. */
export function valueOf(ds: SmallDataset, keyword: string): string | null | undefined {
  const e = ds.get(tagOf(keyword));
  if (!e) return undefined;
  const v = e.value;
  let s: string;
  if (v === null) s = '';
  else if (typeof v === 'string') s = v;
  else if (typeof v === 'number') s = String(v);
  else if (Array.isArray(v) && v.every((x) => typeof x === 'string' || typeof x === 'number'))
    s = v.join('\\');
  else return undefined;
  s = s
    .split('\\')
    .map((x) => x.trim())
    .join('\\');
  return s.replace(/^\\+|\\+$/g, '') === '' ? null : s;
}

/** An IS value as an integer; null when empty or not a number. */
export function intOf(v: string | null | undefined): number | null | undefined {
  if (v === undefined || v === null) return v;
  const n = Number(v.split('\\')[0]);
  return Number.isFinite(n) ? Math.trunc(n) : null;
}

function fill<P extends string>(
  ds: SmallDataset,
  keys: readonly KeySpec<P>[],
  extra: readonly string[],
): { row: Partial<Record<P, string | number | null>>; attrs: Record<string, Json> } {
  const row: Partial<Record<P, string | number | null>> = {};
  const attrs: Record<string, Json> = {};
  for (const k of keys) {
    const v = valueOf(ds, k.keyword);
    if (v === undefined) continue;
    const value = k.kind === 'int' ? intOf(v)! : v;
    if (k.prop) row[k.prop] = value;
    else attrs[k.keyword] = value;
  }
  for (const kw of extra) {
    const v = valueOf(ds, kw);
    if (v !== undefined) attrs[kw] = v;
  }
  return { row, attrs };
}

const uidOf = (ds: SmallDataset, keyword: string): string => valueOf(ds, keyword) ?? '';

/** A study-level answer as a row; undefined when it carries no StudyInstanceUID. */
export function studyFromMatch(ds: SmallDataset, extra: readonly string[] = []): StudyInput | undefined {
  const studyUid = uidOf(ds, 'StudyInstanceUID');
  if (!studyUid) return undefined;
  const { row, attrs } = fill(ds, STUDY_KEYS, extra);
  return { studyUid, ...row, attrs } as StudyInput;
}

export function seriesFromMatch(ds: SmallDataset, studyUid: string): SeriesInput | undefined {
  const seriesUid = uidOf(ds, 'SeriesInstanceUID');
  if (!seriesUid) return undefined;
  const { row, attrs } = fill(ds, SERIES_KEYS, []);
  return { seriesUid, studyUid, ...row, attrs } as SeriesInput;
}

export function instanceFromMatch(
  ds: SmallDataset,
  studyUid: string,
  seriesUid: string,
): InstanceInput | undefined {
  const sopInstanceUid = uidOf(ds, 'SOPInstanceUID');
  if (!sopInstanceUid) return undefined;
  const { row, attrs } = fill(ds, IMAGE_KEYS, []);
  const ts = attrs.AvailableTransferSyntaxUID;
  // One available syntax is the one the source holds; several say nothing about the stored one.
  const transferSyntaxUid = typeof ts === 'string' && !ts.includes('\\') ? ts : undefined;
  delete attrs.AvailableTransferSyntaxUID;
  return {
    sopInstanceUid,
    seriesUid,
    studyUid,
    ...row,
    ...(transferSyntaxUid ? { transferSyntaxUid } : {}),
    ...(Object.keys(attrs).length ? { attrs } : {}),
  } as InstanceInput;
}

/**
 * Study-level return keys that are not keys of the study level in PS3.4 (C.6.2.1.2; InstitutionName
 * belongs to the series). Lenient archives (Orthanc) answer them; strict ones refuse the whole query
 * (A900): the inventory then asks again without them and takes the values from the series.
 */
export const STUDY_NONSTANDARD_KEYS: readonly string[] = ['InstitutionName'];

/**
 * Return keys (empty values) for a level: the table's keywords, the level's UIDs and `extra`;
 * `standardOnly` leaves out STUDY_NONSTANDARD_KEYS and `extra`.
 */
export function returnKeys(
  level: 'STUDY' | 'SERIES' | 'IMAGE',
  extra: readonly string[] = [],
  standardOnly = false,
): Record<string, string> {
  const keys: Record<string, string> = { StudyInstanceUID: '' };
  const table = level === 'STUDY' ? STUDY_KEYS : level === 'SERIES' ? SERIES_KEYS : IMAGE_KEYS;
  if (level !== 'STUDY') keys.SeriesInstanceUID = '';
  if (level === 'IMAGE') keys.SOPInstanceUID = '';
  for (const k of table)
    if (!(standardOnly && level === 'STUDY' && STUDY_NONSTANDARD_KEYS.includes(k.keyword)))
      keys[k.keyword] = '';
  if (!standardOnly) for (const kw of extra) keys[kw] = '';
  return keys;
}

/** Extra study-level keywords named by scope rules (any DICOM keyword not already inventoried). */
export function extraStudyKeywords(keywords: Iterable<string>): string[] {
  const known = new Set([...STUDY_KEYS.map((k) => k.keyword), 'StudyInstanceUID']);
  const out: string[] = [];
  for (const kw of keywords) if (!known.has(kw) && lookupKeyword(kw) && !out.includes(kw)) out.push(kw);
  return out;
}
