/**
 * The modules every stored object needs, as tables (PS3.3): Patient (C.7.1.1), General Study
 * (C.7.2.1), General Series (C.7.3.1), SOP Common (C.12.1), and for objects with pixel data Image
 * Pixel (C.7.6.3). Type 1: present and not empty; Type 2: present (may be empty).
 */
import { lookupKeyword } from '../../dicom/keyword.js';
import type { Tag } from '../../dicom/tag.js';

export interface ModuleAttribute {
  readonly keyword: string;
  readonly tag: Tag;
  readonly type: 1 | 2;
}

export interface ModuleSpec {
  readonly name: string;
  /** Only objects with pixel data (Image Pixel). */
  readonly imagesOnly: boolean;
  readonly attributes: readonly ModuleAttribute[];
}

const a = (keyword: string, type: 1 | 2): ModuleAttribute => {
  const d = lookupKeyword(keyword);
  if (!d || d.keyword !== keyword) throw new Error(`modules: unknown keyword ${keyword}`);
  return { keyword, tag: d.tag, type };
};

export const REQUIRED_MODULES: readonly ModuleSpec[] = [
  {
    name: 'Patient',
    imagesOnly: false,
    attributes: [a('PatientName', 2), a('PatientID', 2), a('PatientBirthDate', 2), a('PatientSex', 2)],
  },
  {
    name: 'General Study',
    imagesOnly: false,
    attributes: [
      a('StudyInstanceUID', 1),
      a('StudyDate', 2),
      a('StudyTime', 2),
      a('ReferringPhysicianName', 2),
      a('StudyID', 2),
      a('AccessionNumber', 2),
    ],
  },
  {
    name: 'General Series',
    imagesOnly: false,
    attributes: [a('Modality', 1), a('SeriesInstanceUID', 1), a('SeriesNumber', 2)],
  },
  { name: 'SOP Common', imagesOnly: false, attributes: [a('SOPClassUID', 1), a('SOPInstanceUID', 1)] },
  {
    name: 'Image Pixel',
    imagesOnly: true,
    attributes: [
      a('SamplesPerPixel', 1),
      a('PhotometricInterpretation', 1),
      a('Rows', 1),
      a('Columns', 1),
      a('BitsAllocated', 1),
      a('BitsStored', 1),
      a('HighBit', 1),
      a('PixelRepresentation', 1),
    ],
  },
];

/** The UIDs every archive indexes by: absent, they are `missing-identifier`, not `missing-type1`. */
export const IDENTIFIER_KEYWORDS: readonly string[] = [
  'StudyInstanceUID',
  'SeriesInstanceUID',
  'SOPInstanceUID',
  'SOPClassUID',
];
export const IDENTIFIER_TAGS: ReadonlySet<Tag> = new Set(
  IDENTIFIER_KEYWORDS.map((k) => lookupKeyword(k)!.tag),
);
