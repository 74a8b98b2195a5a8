/**
 * The attributes the built-in archive indexes, matches and returns, per Query/Retrieve level
 * (PS3.4 C.6.1.1 and C.6.2.1 tables, plus the usual optional keys). A table, not scattered code:
 * the indexer reads the `header` ones from each file; the hierarchy computes the `computed` ones.
 */
import type { QueryLevel } from '../net/services/sop-classes.js';

export type AttributeSource =
  /** Read from the instance's header. */
  | 'header'
  /** Computed from the hierarchy (counts, lists) or from the file (transfer syntax). */
  | 'computed';

export interface ArchiveAttribute {
  readonly tag: number;
  readonly keyword: string;
  readonly vr: string;
  readonly level: QueryLevel;
  readonly source: AttributeSource;
}

const a = (
  tag: number,
  keyword: string,
  vr: string,
  level: QueryLevel,
  source: AttributeSource = 'header',
): ArchiveAttribute => ({
  tag,
  keyword,
  vr,
  level,
  source,
});

export const ARCHIVE_ATTRIBUTES: readonly ArchiveAttribute[] = [
  // PATIENT
  a(0x00100010, 'PatientName', 'PN', 'PATIENT'),
  a(0x00100020, 'PatientID', 'LO', 'PATIENT'),
  a(0x00100021, 'IssuerOfPatientID', 'LO', 'PATIENT'),
  a(0x00100030, 'PatientBirthDate', 'DA', 'PATIENT'),
  a(0x00100040, 'PatientSex', 'CS', 'PATIENT'),
  a(0x00201200, 'NumberOfPatientRelatedStudies', 'IS', 'PATIENT', 'computed'),
  a(0x00201202, 'NumberOfPatientRelatedSeries', 'IS', 'PATIENT', 'computed'),
  a(0x00201204, 'NumberOfPatientRelatedInstances', 'IS', 'PATIENT', 'computed'),
  // STUDY
  a(0x00080020, 'StudyDate', 'DA', 'STUDY'),
  a(0x00080030, 'StudyTime', 'TM', 'STUDY'),
  a(0x00080050, 'AccessionNumber', 'SH', 'STUDY'),
  a(0x00080090, 'ReferringPhysicianName', 'PN', 'STUDY'),
  a(0x00081030, 'StudyDescription', 'LO', 'STUDY'),
  a(0x0020000d, 'StudyInstanceUID', 'UI', 'STUDY'),
  a(0x00200010, 'StudyID', 'SH', 'STUDY'),
  a(0x00101010, 'PatientAge', 'AS', 'STUDY'),
  // General Equipment (series) in the standard; a study key in Orthanc and in inventories: served at the study level.
  a(0x00080080, 'InstitutionName', 'LO', 'STUDY'),
  a(0x00080061, 'ModalitiesInStudy', 'CS', 'STUDY', 'computed'),
  a(0x00080062, 'SOPClassesInStudy', 'UI', 'STUDY', 'computed'),
  a(0x00201206, 'NumberOfStudyRelatedSeries', 'IS', 'STUDY', 'computed'),
  a(0x00201208, 'NumberOfStudyRelatedInstances', 'IS', 'STUDY', 'computed'),
  // SERIES
  a(0x00080021, 'SeriesDate', 'DA', 'SERIES'),
  a(0x00080031, 'SeriesTime', 'TM', 'SERIES'),
  a(0x00080060, 'Modality', 'CS', 'SERIES'),
  a(0x00080070, 'Manufacturer', 'LO', 'SERIES'),
  a(0x00081010, 'StationName', 'SH', 'SERIES'),
  a(0x0008103e, 'SeriesDescription', 'LO', 'SERIES'),
  a(0x00081090, 'ManufacturerModelName', 'LO', 'SERIES'),
  a(0x00180015, 'BodyPartExamined', 'CS', 'SERIES'),
  a(0x00181020, 'SoftwareVersions', 'LO', 'SERIES'),
  a(0x0020000e, 'SeriesInstanceUID', 'UI', 'SERIES'),
  a(0x00200011, 'SeriesNumber', 'IS', 'SERIES'),
  a(0x00201209, 'NumberOfSeriesRelatedInstances', 'IS', 'SERIES', 'computed'),
  // IMAGE
  a(0x00080016, 'SOPClassUID', 'UI', 'IMAGE'),
  a(0x00080018, 'SOPInstanceUID', 'UI', 'IMAGE'),
  a(0x00080023, 'ContentDate', 'DA', 'IMAGE'),
  a(0x00080033, 'ContentTime', 'TM', 'IMAGE'),
  a(0x00200013, 'InstanceNumber', 'IS', 'IMAGE'),
  a(0x00080008, 'ImageType', 'CS', 'IMAGE'),
  a(0x00200012, 'AcquisitionNumber', 'IS', 'IMAGE'),
  a(0x00280008, 'NumberOfFrames', 'IS', 'IMAGE'),
  a(0x00280004, 'PhotometricInterpretation', 'CS', 'IMAGE'),
  a(0x00280010, 'Rows', 'US', 'IMAGE'),
  a(0x00280011, 'Columns', 'US', 'IMAGE'),
  a(0x00280100, 'BitsAllocated', 'US', 'IMAGE'),
  a(0x00083002, 'AvailableTransferSyntaxUID', 'UI', 'IMAGE', 'computed'),
];

/** Read from every file besides the attributes above: it decides how text is decoded. */
export const SPECIFIC_CHARACTER_SET = 0x00080005;
export const QUERY_RETRIEVE_LEVEL = 0x00080052;
export const RETRIEVE_AE_TITLE = 0x00080054;
export const INSTANCE_AVAILABILITY = 0x00080056;
export const FAILED_SOP_INSTANCE_UID_LIST = 0x00080058;

export const attributeByTag: ReadonlyMap<number, ArchiveAttribute> = new Map(
  ARCHIVE_ATTRIBUTES.map((x) => [x.tag, x]),
);
export const attributeByKeyword: ReadonlyMap<string, ArchiveAttribute> = new Map(
  ARCHIVE_ATTRIBUTES.map((x) => [x.keyword, x]),
);

/** Tags the indexer reads from a header (SpecificCharacterSet first, to decode the others). */
export const HEADER_TAGS: ReadonlySet<number> = new Set([
  SPECIFIC_CHARACTER_SET,
  ...ARCHIVE_ATTRIBUTES.filter((x) => x.source === 'header').map((x) => x.tag),
]);

/** The last header tag the indexer needs: the walk stops after it. */
export const LAST_HEADER_TAG = Math.max(...HEADER_TAGS);

/** Identifies the set of header attributes indexed: an index made with another set is re-read. */
export const HEADER_ATTRIBUTES_KEY = [...HEADER_TAGS]
  .sort((x, y) => x - y)
  .map((t) => t.toString(16))
  .join(',');

/** VRs whose values are binary numbers (indexed as decimal text, returned as numbers). */
export const BINARY_NUMBER_VRS: ReadonlySet<string> = new Set(['US', 'SS', 'UL', 'SL', 'FL', 'FD']);

export const LEVEL_ORDER: readonly QueryLevel[] = ['PATIENT', 'STUDY', 'SERIES', 'IMAGE'];
export const levelRank = (l: QueryLevel): number => LEVEL_ORDER.indexOf(l);

/** Header keywords of one level (the values a study or series summary keeps). */
export const headerKeywordsAt = (level: QueryLevel): string[] =>
  ARCHIVE_ATTRIBUTES.filter((x) => x.level === level && x.source === 'header').map((x) => x.keyword);
