/**
 * Whether a study meets a plan `match` (schema-scope.ts): every given condition must hold (AND); a
 * list inside one condition is an OR. Pure; shared by scope rules, retention policies and transform
 * rules.
 *
 * | condition        | holds when                                                                                |
 * | ---------------- | ----------------------------------------------------------------------------------------- |
 * | studyDate        | StudyDate is a calendar date within from…to (inclusive); an empty or malformed date never |
 * | modality         | ModalitiesInStudy contains one of the codes (case-insensitive)                             |
 * | keyword patterns | one value of the attribute (multi-values split at `\`) matches one pattern; none if empty |
 */
import { parseDA } from '../inventory/dates.js';
import type { Match } from '../plan/index.js';
import type { Json, Study } from '../state/index.js';

/** The inventoried columns by DICOM keyword; any other keyword is read from `attrs`. */
const COLUMN_OF: Readonly<Record<string, keyof Study>> = {
  PatientID: 'patientId',
  PatientName: 'patientName',
  PatientBirthDate: 'patientBirthDate',
  PatientSex: 'patientSex',
  AccessionNumber: 'accessionNumber',
  StudyDate: 'studyDate',
  StudyTime: 'studyTime',
  StudyDescription: 'studyDescription',
  ModalitiesInStudy: 'modalitiesInStudy',
  InstitutionName: 'institutionName',
  ReferringPhysicianName: 'referringPhysician',
  NumberOfStudyRelatedSeries: 'numSeries',
  NumberOfStudyRelatedInstances: 'numInstances',
};

/** What matching reads of a study: the inventoried row (store.getStudy). */
export type ScopeStudy = Pick<Study, 'studyUid' | 'attrs'> & Partial<Omit<Study, 'studyUid' | 'attrs'>>;

function textsOf(v: Json | undefined): string[] {
  if (v === null || v === undefined) return [];
  if (Array.isArray(v)) return v.flatMap((x) => textsOf(x));
  if (typeof v === 'object') return [];
  return String(v)
    .split('\\')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

/** The values of an attribute of the study, by keyword (multi-values split, empty values dropped). */
export function attributeValues(study: ScopeStudy, keyword: string): string[] {
  const col = COLUMN_OF[keyword];
  if (col) return textsOf(study[col] as Json | undefined);
  return textsOf(study.attrs?.[keyword]);
}

export const modalitiesOf = (study: ScopeStudy): string[] =>
  attributeValues(study, 'ModalitiesInStudy').map((m) => m.toUpperCase());

export function matchStudy(match: Match, study: ScopeStudy): boolean {
  if (match.studyDate) {
    const d = parseDA(study.studyDate ?? undefined);
    if (d === undefined) return false;
    if (match.studyDate.from !== undefined && d < parseDA(match.studyDate.from)!) return false;
    if (match.studyDate.to !== undefined && d > parseDA(match.studyDate.to)!) return false;
  }
  if (match.modality) {
    const have = new Set(modalitiesOf(study));
    if (!match.modality.some((m) => have.has(m.toUpperCase()))) return false;
  }
  for (const [keyword, patterns] of Object.entries(match.attributes)) {
    const values = attributeValues(study, keyword);
    if (!values.some((v) => patterns.some((p) => p.regex.test(v)))) return false;
  }
  return true;
}
