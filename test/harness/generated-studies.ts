/**
 * Generated studies of a chosen size (uncompressed CT, explicit VR little endian), for tests that need
 * many bytes rather than varied objects (a spool far smaller than what moves). Deterministic per seed.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  buildPart10Meta,
  IMPLEMENTATION_CLASS_UID,
  IMPLEMENTATION_VERSION_NAME,
} from '../../src/dicom/meta.js';
import { EXPLICIT_LE, encodeSmallDataset, type SmallDataset } from '../../src/dicom/small-dataset.js';

const CT = '1.2.840.10008.5.1.4.1.1.2';

export interface GeneratedStudies {
  dir: string;
  files: string[];
  studyUids: string[];
  totalBytes: number;
  /** Bytes of the largest study (its files). */
  largestStudyBytes: number;
}

/**
 * `studies` studies of `instances` CT images each, `rows`×`rows` 16-bit pixels (a 512×512 image is
 * about 0.5 MiB), one file per instance in `dir`.
 */
export async function generateStudies(
  dir: string,
  opts: {
    studies: number;
    instances: number;
    /** Rows (and columns) of every image, or of each study's images (study numbers from 1). */
    rows: number | ((study: number) => number);
    seed?: number;
  },
): Promise<GeneratedStudies> {
  await mkdir(dir, { recursive: true });
  const root = `1.2.826.0.1.3680043.9.7433.${opts.seed ?? 1}`;
  const out: GeneratedStudies = { dir, files: [], studyUids: [], totalBytes: 0, largestStudyBytes: 0 };
  for (let s = 1; s <= opts.studies; s++) {
    const studyUid = `${root}.${s}`;
    const seriesUid = `${studyUid}.1`;
    out.studyUids.push(studyUid);
    let studyBytes = 0;
    const rows = typeof opts.rows === 'number' ? opts.rows : opts.rows(s);
    for (let i = 1; i <= opts.instances; i++) {
      const sopUid = `${seriesUid}.${i}`;
      const px = Buffer.alloc(rows * rows * 2);
      for (let k = 0; k < px.length; k += 2) px.writeUInt16LE((k * 7 + s * 13 + i) & 0x0fff, k);
      const ds: SmallDataset = new Map();
      const set = (tag: number, vr: string, value: string | number | Buffer) => ds.set(tag, { vr, value });
      set(0x00080016, 'UI', CT);
      set(0x00080018, 'UI', sopUid);
      set(0x00080020, 'DA', `2020${String(1 + (s % 12)).padStart(2, '0')}15`);
      set(0x00080060, 'CS', 'CT');
      set(0x00100010, 'PN', `Generated^${s}`);
      set(0x00100020, 'LO', `GEN${s}`);
      set(0x0020000d, 'UI', studyUid);
      set(0x0020000e, 'UI', seriesUid);
      set(0x00200011, 'IS', '1');
      set(0x00200013, 'IS', String(i));
      set(0x00280002, 'US', 1);
      set(0x00280004, 'CS', 'MONOCHROME2');
      set(0x00280010, 'US', rows);
      set(0x00280011, 'US', rows);
      set(0x00280100, 'US', 16);
      set(0x00280101, 'US', 12);
      set(0x00280102, 'US', 11);
      set(0x00280103, 'US', 0);
      set(0x7fe00010, 'OW', px);
      const meta = buildPart10Meta({
        sopClassUid: CT,
        sopInstanceUid: sopUid,
        transferSyntaxUid: EXPLICIT_LE,
        implementationClassUid: IMPLEMENTATION_CLASS_UID,
        implementationVersionName: IMPLEMENTATION_VERSION_NAME,
      });
      const bytes = Buffer.concat([meta, encodeSmallDataset(ds, { explicit: true })]);
      const path = join(dir, `${s}.${i}.dcm`);
      await writeFile(path, bytes);
      out.files.push(path);
      studyBytes += bytes.length;
    }
    out.totalBytes += studyBytes;
    out.largestStudyBytes = Math.max(out.largestStudyBytes, studyBytes);
  }
  return out;
}
