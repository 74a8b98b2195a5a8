/**
 * DICOM tags as numbers (0xGGGGEEEE) and the small dictionary of attributes pacshift itself reads.
 * The full standard dictionary (for implicit VR) lives in dictionary.ts.
 */
import type { VR } from './vr.js';

export type Tag = number;

export const tag = (group: number, element: number): Tag => (group & 0xffff) * 0x10000 + (element & 0xffff);
export const groupOf = (t: Tag): number => Math.floor(t / 0x10000) & 0xffff;
export const elementOf = (t: Tag): number => t & 0xffff;

const hex4 = (n: number): string => n.toString(16).toUpperCase().padStart(4, '0');

/** `(0010,0010)` */
export const formatTag = (t: Tag): string => `(${hex4(groupOf(t))},${hex4(elementOf(t))})`;

/** Parses `(0010,0010)`, `0010,0010`, `00100010` or `0x00100010`; undefined when malformed. */
export function parseTag(s: string): Tag | undefined {
  const m = /^\(?\s*(?:0x)?([0-9a-f]{4})\s*,?\s*([0-9a-f]{4})\s*\)?$/i.exec(s.trim());
  if (!m) return undefined;
  return tag(parseInt(m[1]!, 16), parseInt(m[2]!, 16));
}

export const isPrivateTag = (t: Tag): boolean => (groupOf(t) & 1) === 1 && groupOf(t) > 0x0008;
/** (gggg,0010-00FF) in an odd group: reserves a block for a private creator. */
export const isPrivateCreator = (t: Tag): boolean =>
  isPrivateTag(t) && elementOf(t) >= 0x10 && elementOf(t) <= 0xff;
export const isGroupLength = (t: Tag): boolean => elementOf(t) === 0;

/** Item and delimitation tags (PS3.5 7.5). They carry no VR, even in explicit VR syntaxes. */
export const ITEM = 0xfffee000;
export const ITEM_DELIMITATION = 0xfffee00d;
export const SEQUENCE_DELIMITATION = 0xfffee0dd;
export const isDelimiterOrItem = (t: Tag): boolean => groupOf(t) === 0xfffe;

export interface TagEntry {
  readonly tag: Tag;
  readonly vr: VR;
  readonly keyword: string;
}

const t = (g: number, e: number, vr: VR): { tag: Tag; vr: VR } => ({ tag: tag(g, e), vr });

/** The attributes pacshift reads by name. Keyword → tag and VR. */
export const Tags = {
  FileMetaInformationGroupLength: t(0x0002, 0x0000, 'UL'),
  FileMetaInformationVersion: t(0x0002, 0x0001, 'OB'),
  MediaStorageSOPClassUID: t(0x0002, 0x0002, 'UI'),
  MediaStorageSOPInstanceUID: t(0x0002, 0x0003, 'UI'),
  TransferSyntaxUID: t(0x0002, 0x0010, 'UI'),
  ImplementationClassUID: t(0x0002, 0x0012, 'UI'),
  ImplementationVersionName: t(0x0002, 0x0013, 'SH'),
  SourceApplicationEntityTitle: t(0x0002, 0x0016, 'AE'),
  SendingApplicationEntityTitle: t(0x0002, 0x0017, 'AE'),
  ReceivingApplicationEntityTitle: t(0x0002, 0x0018, 'AE'),
  PrivateInformationCreatorUID: t(0x0002, 0x0100, 'UI'),
  PrivateInformation: t(0x0002, 0x0102, 'OB'),

  SpecificCharacterSet: t(0x0008, 0x0005, 'CS'),
  ImageType: t(0x0008, 0x0008, 'CS'),
  InstanceCreationDate: t(0x0008, 0x0012, 'DA'),
  SOPClassUID: t(0x0008, 0x0016, 'UI'),
  SOPInstanceUID: t(0x0008, 0x0018, 'UI'),
  StudyDate: t(0x0008, 0x0020, 'DA'),
  SeriesDate: t(0x0008, 0x0021, 'DA'),
  ContentDate: t(0x0008, 0x0023, 'DA'),
  StudyTime: t(0x0008, 0x0030, 'TM'),
  SeriesTime: t(0x0008, 0x0031, 'TM'),
  AccessionNumber: t(0x0008, 0x0050, 'SH'),
  IssuerOfAccessionNumberSequence: t(0x0008, 0x0051, 'SQ'),
  QueryRetrieveLevel: t(0x0008, 0x0052, 'CS'),
  RetrieveAETitle: t(0x0008, 0x0054, 'AE'),
  InstanceAvailability: t(0x0008, 0x0056, 'CS'),
  FailedSOPInstanceUIDList: t(0x0008, 0x0058, 'UI'),
  Modality: t(0x0008, 0x0060, 'CS'),
  ModalitiesInStudy: t(0x0008, 0x0061, 'CS'),
  SOPClassesInStudy: t(0x0008, 0x0062, 'UI'),
  ConversionType: t(0x0008, 0x0064, 'CS'),
  Manufacturer: t(0x0008, 0x0070, 'LO'),
  InstitutionName: t(0x0008, 0x0080, 'LO'),
  ReferringPhysicianName: t(0x0008, 0x0090, 'PN'),
  CodeValue: t(0x0008, 0x0100, 'SH'),
  CodingSchemeDesignator: t(0x0008, 0x0102, 'SH'),
  CodeMeaning: t(0x0008, 0x0104, 'LO'),
  StationName: t(0x0008, 0x1010, 'SH'),
  StudyDescription: t(0x0008, 0x1030, 'LO'),
  SeriesDescription: t(0x0008, 0x103e, 'LO'),
  ManufacturerModelName: t(0x0008, 0x1090, 'LO'),
  ReferencedSeriesSequence: t(0x0008, 0x1115, 'SQ'),
  ReferencedImageSequence: t(0x0008, 0x1140, 'SQ'),
  ReferencedSOPClassUID: t(0x0008, 0x1150, 'UI'),
  ReferencedSOPInstanceUID: t(0x0008, 0x1155, 'UI'),
  ReferencedFrameNumber: t(0x0008, 0x1160, 'IS'),
  FailureReason: t(0x0008, 0x1197, 'US'),
  FailedSOPSequence: t(0x0008, 0x1198, 'SQ'),
  ReferencedSOPSequence: t(0x0008, 0x1199, 'SQ'),
  SourceImageSequence: t(0x0008, 0x2112, 'SQ'),

  PatientName: t(0x0010, 0x0010, 'PN'),
  PatientID: t(0x0010, 0x0020, 'LO'),
  IssuerOfPatientID: t(0x0010, 0x0021, 'LO'),
  PatientBirthDate: t(0x0010, 0x0030, 'DA'),
  PatientSex: t(0x0010, 0x0040, 'CS'),
  OtherPatientIDsSequence: t(0x0010, 0x1002, 'SQ'),

  BodyPartExamined: t(0x0018, 0x0015, 'CS'),
  SoftwareVersions: t(0x0018, 0x1020, 'LO'),

  StudyInstanceUID: t(0x0020, 0x000d, 'UI'),
  SeriesInstanceUID: t(0x0020, 0x000e, 'UI'),
  StudyID: t(0x0020, 0x0010, 'SH'),
  SeriesNumber: t(0x0020, 0x0011, 'IS'),
  InstanceNumber: t(0x0020, 0x0013, 'IS'),
  Laterality: t(0x0020, 0x0060, 'CS'),
  ImageLaterality: t(0x0020, 0x0062, 'CS'),
  FrameOfReferenceUID: t(0x0020, 0x0052, 'UI'),
  NumberOfStudyRelatedSeries: t(0x0020, 0x1206, 'IS'),
  NumberOfStudyRelatedInstances: t(0x0020, 0x1208, 'IS'),
  NumberOfSeriesRelatedInstances: t(0x0020, 0x1209, 'IS'),

  SamplesPerPixel: t(0x0028, 0x0002, 'US'),
  PhotometricInterpretation: t(0x0028, 0x0004, 'CS'),
  PlanarConfiguration: t(0x0028, 0x0006, 'US'),
  NumberOfFrames: t(0x0028, 0x0008, 'IS'),
  Rows: t(0x0028, 0x0010, 'US'),
  Columns: t(0x0028, 0x0011, 'US'),
  BitsAllocated: t(0x0028, 0x0100, 'US'),
  BitsStored: t(0x0028, 0x0101, 'US'),
  HighBit: t(0x0028, 0x0102, 'US'),
  PixelRepresentation: t(0x0028, 0x0103, 'US'),
  LossyImageCompression: t(0x0028, 0x2110, 'CS'),

  StudyStatusID: t(0x0032, 0x000a, 'CS'),
  RequestedProcedureDescription: t(0x0032, 0x1060, 'LO'),

  ContentSequence: t(0x0040, 0xa730, 'SQ'),
  ConceptNameCodeSequence: t(0x0040, 0xa043, 'SQ'),
  CurrentRequestedProcedureEvidenceSequence: t(0x0040, 0xa375, 'SQ'),

  ReferencedFrameOfReferenceSequence: t(0x3006, 0x0010, 'SQ'),

  FloatPixelData: t(0x7fe0, 0x0008, 'OF'),
  DoubleFloatPixelData: t(0x7fe0, 0x0009, 'OD'),
  PixelData: t(0x7fe0, 0x0010, 'OW'),
  DataSetTrailingPadding: t(0xfffc, 0xfffc, 'OB'),
} as const satisfies Record<string, { tag: Tag; vr: VR }>;

export type TagKeyword = keyof typeof Tags;

const byTag = new Map<Tag, TagEntry>(
  Object.entries(Tags).map(([keyword, e]) => [e.tag, { tag: e.tag, vr: e.vr, keyword }]),
);

/** The entry of pacshift's small dictionary for a tag, if any. */
export const tagEntry = (t: Tag): TagEntry | undefined => byTag.get(t);
/** `PatientName (0010,0010)` or just `(gggg,eeee)`. */
export const describeTag = (t: Tag): string => {
  const e = byTag.get(t);
  return e ? `${e.keyword} ${formatTag(t)}` : formatTag(t);
};
