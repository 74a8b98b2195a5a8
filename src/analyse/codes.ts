/**
 * Every finding `pacshift analyze` reports: a stable code, its severity, the area it belongs to, what
 * it means and what to do. A table: the HTML, CSV and JSON outputs and the tests read it from here.
 *
 * Severity: error — data that will be wrong or lost at the target unless someone decides (identity,
 * UID conflicts); warning — data the target or its users may handle badly; info — worth knowing,
 * usually no action.
 */
import type { AnalysisSeverity } from '../state/analysis-types.js';

export type FindingArea = 'patient' | 'study' | 'series' | 'instance' | 'charset' | 'correction';

export interface FindingCodeInfo {
  readonly severity: AnalysisSeverity;
  readonly area: FindingArea;
  readonly title: string;
  readonly action: string;
}

const f = (
  severity: AnalysisSeverity,
  area: FindingArea,
  title: string,
  action: string,
): FindingCodeInfo => ({
  severity,
  area,
  title,
  action,
});

export const FINDING_CODES = {
  // patient identity (PatientID groups: PatientID + IssuerOfPatientID)
  PATIENT_NAME_CONFLICT: f(
    'error',
    'patient',
    'One PatientID with different patient names',
    'Check the RIS/MPI: correct the name, or merge/split the patient, before the move (patient corrections).',
  ),
  PATIENT_BIRTHDATE_CONFLICT: f(
    'error',
    'patient',
    'One PatientID with different birth dates (an empty one counts)',
    'Check the RIS/MPI for the right birth date; add a patient correction rule.',
  ),
  PATIENT_SEX_CONFLICT: f(
    'error',
    'patient',
    'One PatientID with different sexes',
    'Check the RIS/MPI; add a patient correction rule.',
  ),
  PATIENT_ID_SHARED: f(
    'error',
    'patient',
    'One PatientID shared by unrelated people (placeholder ID?)',
    'Give each person their own ID at the source or by a correction rule; a target merging on PatientID would mix their images.',
  ),
  PATIENT_ISSUER_CONFLICT: f(
    'warning',
    'patient',
    'One PatientID with different IssuerOfPatientID values (one may be empty)',
    'An issuer-aware target makes two patients of it: set the issuer consistently by a rule.',
  ),
  PATIENT_LIKELY_MISSED_MERGE: f(
    'warning',
    'patient',
    'The same name and birth date under different PatientIDs (missed merge?)',
    'Check in the MPI whether these IDs are one person; merge at the source or by a correction rule.',
  ),
  PATIENT_ID_MISSING: f(
    'error',
    'patient',
    'Study without PatientID',
    'Most targets refuse or merge such studies: assign the right ID before the move.',
  ),
  ISSUER_MISSING: f(
    'info',
    'patient',
    'Study without IssuerOfPatientID',
    'Usual in single-site archives; a target shared between sites may need an issuer added by a rule.',
  ),
  // study information
  ACCESSION_MISSING: f(
    'warning',
    'study',
    'Study without AccessionNumber',
    'Orders cannot be matched in the RIS; reconcile with the RIS or accept.',
  ),
  STUDY_DATE_MISSING: f(
    'warning',
    'study',
    'Study with an empty StudyDate',
    'Invisible to date-range queries and worklists at the target; find the date (series/content dates, RIS).',
  ),
  STUDY_DATE_INVALID: f(
    'error',
    'study',
    'StudyDate that is not a calendar date',
    'The target may refuse or misfile the study; correct the date by a rule.',
  ),
  STUDY_DATE_FUTURE: f(
    'error',
    'study',
    'StudyDate in the future',
    'A modality clock or entry error; correct the date by a rule.',
  ),
  STUDY_DATE_TOO_OLD: f(
    'warning',
    'study',
    'StudyDate implausibly old',
    'Probably a default date (e.g. 1900-01-01); check and correct.',
  ),
  STUDY_MULTI_PATIENT: f(
    'error',
    'study',
    'One StudyInstanceUID under more than one patient',
    'Decide which patient the study belongs to (or split it) before the move; targets keep the first or refuse the rest.',
  ),
  STUDY_EMPTY: f(
    'warning',
    'study',
    'Study without instances',
    'Nothing to move: exclude it by a rule or find its images.',
  ),
  COUNT_MISMATCH: f(
    'warning',
    'study',
    'Counts that disagree between levels',
    'The source database and its files disagree: re-index the source or accept; the migration reconciles per instance.',
  ),
  UID_INVALID: f(
    'error',
    'instance',
    'UID breaking the UID rules',
    'Strict targets refuse it (A900/C000); remapping needs a rule that also remaps references.',
  ),
  UID_TOO_LONG: f(
    'error',
    'instance',
    'UID longer than 64 characters',
    'Strict targets refuse it; remapping needs a rule that also remaps references.',
  ),
  // series and instances
  SERIES_MULTI_STUDY: f(
    'error',
    'series',
    'One SeriesInstanceUID in more than one study',
    'The target files the series under one study only: decide, or remap the series UID.',
  ),
  SERIES_NUMBER_INCONSISTENT: f(
    'warning',
    'series',
    'One series carrying several SeriesNumbers',
    'Viewers may split or sort the series oddly; usually harmless, check if hanging protocols depend on it.',
  ),
  SERIES_MODALITY_INCONSISTENT: f(
    'warning',
    'series',
    'One series carrying several Modality values',
    'Objects of different kinds share a series UID; check the producing tool.',
  ),
  SOP_CONTENT_CONFLICT: f(
    'error',
    'instance',
    'One SOP Instance UID with different content',
    'Targets keep the first copy and answer Success to the other: decide which copy is right, remap the UID of the other.',
  ),
  SOP_DUPLICATE_COPY: f(
    'info',
    'instance',
    'One SOP Instance UID in several copies with the same content',
    'Re-encoded or re-wrapped copies: one is enough at the target.',
  ),
  SOP_MULTI_SERIES: f(
    'error',
    'instance',
    'One SOP Instance UID in more than one series or study',
    'The target keeps it in one place only: decide, or remap.',
  ),
  SOP_TRANSFER_CONFLICT: f(
    'warning',
    'instance',
    'The migration received one SOP Instance UID again with other bytes',
    'Compare the copies (the analysis sample tells re-encoding from other content); see the failure ledger.',
  ),
  HEADER_UNREADABLE: f(
    'warning',
    'instance',
    'Data set that cannot be read to its end',
    'Strict targets refuse it; check whether it moves byte for byte, keep the original.',
  ),
  FILE_UNREADABLE: f(
    'error',
    'instance',
    'File of the source folder that is not readable DICOM',
    'It cannot be moved as it is: repair or leave out with a reason.',
  ),
  TRANSFER_SYNTAX_MISMATCH: f(
    'error',
    'instance',
    'File whose File Meta (0002,0010) names another transfer syntax than its data set is in',
    'Readers and targets decode it wrongly or refuse it: re-wrap the data set, unchanged, under a File Meta naming its real transfer syntax, or leave it out with a reason.',
  ),
  SOP_COPY_UNREADABLE: f(
    'error',
    'instance',
    'One SOP Instance UID in a readable file and in files that cannot be read',
    'Only the readable copy can move, and the copies cannot be compared: check which is right before the move (the unreadable one may be the later).',
  ),
  // character sets
  CHARSET_MISSING: f(
    'warning',
    'charset',
    'Non-ASCII text without Specific Character Set (0008,0005)',
    'Targets guess (often Latin-1) and names come out garbled; declare the set by a rule.',
  ),
  CHARSET_UNDECODABLE: f(
    'warning',
    'charset',
    'Text bytes invalid in the declared character set',
    'Mislabelled set: names come out garbled; correct the declared set by a rule.',
  ),
  CHARSET_MISSPELT: f(
    'warning',
    'charset',
    'Specific Character Set with a misspelt defined term',
    'Strict targets fall back to ASCII or refuse; correct the term by a rule.',
  ),
  CHARSET_UNKNOWN: f(
    'error',
    'charset',
    'Specific Character Set with an unknown term',
    'Text cannot be decoded reliably; find the real set and correct by a rule.',
  ),
  // the plan's patient correction tables against the source (checks/corrections.ts)
  CORR_LOAD_ERROR: f(
    'error',
    'correction',
    'Correction table or transform rule that cannot be loaded',
    'Fix the file or the plan at the path and row given; nothing of the transform is checked (or applied) until it loads.',
  ),
  CORR_TARGET_COLLIDES: f(
    'error',
    'correction',
    "A correction's new PatientID is already held by another person in the source",
    'The correction would merge two people under one ID: check the row against the MPI (wrong new ID, or a merge that needs the other record corrected too).',
  ),
  CORR_CHAIN: f(
    'error',
    'correction',
    "A correction row's result is another row's key (A→B and B→C)",
    'Rows apply once, so A ends at B, not C: write the final ID into every row (A→C, B→C) or split the table.',
  ),
  CORR_PARTIAL: f(
    'error',
    'correction',
    'A correction row matching some instances of a study but not the others',
    'The study holds several patients (or headers disagree): after the correction it would be split between IDs; decide which patient the study belongs to.',
  ),
  CORR_ROW_UNUSED: f(
    'warning',
    'correction',
    'Correction rows whose key matches nothing in the source',
    'A typo, a wrong issuer, or a patient this archive does not hold: check the rows (harmless if the table is the whole MPI).',
  ),
  CORR_NOOP: f(
    'info',
    'correction',
    'Correction row that changes nothing for the instances it matches',
    'The source already holds the corrected values: the row can stay or go.',
  ),
  CORR_ROW_DUPLICATE: f(
    'info',
    'correction',
    'Correction rows with the same key and the same values',
    'The later row is ignored; remove it to keep the table clean.',
  ),
} as const satisfies Record<string, FindingCodeInfo>;

export type FindingCode = keyof typeof FINDING_CODES;
export const FINDING_CODE_LIST = Object.keys(FINDING_CODES) as FindingCode[];
export const SEVERITIES: readonly AnalysisSeverity[] = ['error', 'warning', 'info'];
