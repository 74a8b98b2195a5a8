/**
 * What the transfer records about each instance while it passes through (the expected side of
 * verification): header values by keyword, a digest of the pixel values with its transfer syntax, a
 * digest of the data set bytes, and the size. Call it on the file as it is sent to the target (after
 * any transform rule), with the plan's `verify.attributes` as `extraKeywords`; the result goes into
 * `store.recordInstancesReceived` (`header`, `pixelDigest`, `pixelDigestTs`, `datasetSha256`, `sizeBytes`).
 *
 * The same function reads an instance retrieved back from the target, so both sides are reduced to
 * the same form before they are compared (values.ts).
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { datasetDigest, readHeaderAttributes, type HeaderAttribute } from '../dicom/digest.js';
import { dicomError, type DicomFileError } from '../dicom/errors.js';
import { lookupKeyword } from '../dicom/keyword.js';
import { readInstanceInfo } from '../dicom/part10.js';
import { pixelDigest } from '../dicom/pixel-digest.js';
import type { Json, ReceivedInput } from '../state/types.js';
import { err, ok, type Result } from '../util/result.js';
import { UNDECODABLE_KEY } from './values.js';

/** Always recorded: identifiers, demographics, and what pixel comparison needs to be understood. */
export const PASS_THROUGH_KEYWORDS = [
  'SOPClassUID',
  'SOPInstanceUID',
  'StudyInstanceUID',
  'SeriesInstanceUID',
  'PatientID',
  'PatientName',
  'PatientBirthDate',
  'PatientSex',
  'AccessionNumber',
  'StudyDate',
  'Modality',
  'Rows',
  'Columns',
  'NumberOfFrames',
  'BitsAllocated',
  'PhotometricInterpretation',
  'TransferSyntaxUID',
  'SpecificCharacterSet',
  'InstanceNumber',
] as const;

export interface PassThroughRecord {
  /**
   * Keyword → value: decoded text (values joined with "\"), numbers (an array when several), null when
   * the attribute is absent. Keywords whose text cannot be decoded with confidence are null and listed
   * under `_undecodable`. TransferSyntaxUID comes from the File Meta.
   */
  readonly header: { [keyword: string]: Json };
  /** SHA-256 (hex) of the pixel values (see src/dicom/pixel-digest.ts); null without pixel data. */
  readonly pixelDigest: string | null;
  /** Transfer syntax the pixel digest was taken in; null without pixel data. */
  readonly pixelDigestTs: string | null;
  /** SHA-256 (hex) of the data set bytes as stored (File Meta excluded). */
  readonly datasetSha256: string;
  /** File size in bytes. */
  readonly sizeBytes: number;
  readonly sopInstanceUid: string;
  readonly sopClassUid: string;
  readonly studyUid: string | undefined;
  readonly seriesUid: string | undefined;
  readonly transferSyntaxUid: string;
}

/** Files up to this size are hashed from one read (a stream costs more than the hashing). */
const READ_WHOLE = 8 << 20;

/** SHA-256 of the data set bytes; the file must still have the size it had when it was read. */
async function dataSetSha256(
  path: string,
  offset: number,
  size: number,
): Promise<Result<string, DicomFileError>> {
  if (size > READ_WHOLE) return datasetDigest(path, { datasetOffset: offset, fileSize: size });
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (e) {
    return err(
      dicomError(
        'io',
        `${path}: cannot read the data set: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
        { path },
      ),
    );
  }
  if (bytes.length !== size)
    return err(dicomError('io', `${path}: file is ${bytes.length} bytes, was ${size} when read`, { path }));
  return ok(createHash('sha256').update(bytes.subarray(offset)).digest('hex'));
}

/** The tag of each keyword; an unknown keyword is a programmer error (the plan checks keywords). */
function tagsOf(keywords: readonly string[]): Map<number, string> {
  const out = new Map<number, string>();
  for (const k of keywords) {
    if (k === 'TransferSyntaxUID') continue;
    const d = lookupKeyword(k);
    if (!d || d.keyword !== k)
      throw new TypeError(`recordPassThrough: unknown DICOM keyword ${JSON.stringify(k)}`);
    out.set(d.tag, k);
  }
  return out;
}

/** A decoded attribute as JSON: text, numbers, or a digest of bulk bytes. */
export function attributeJson(a: HeaderAttribute): Json | undefined {
  if (a.numbers) {
    const ns = (a.numbers as readonly (number | bigint)[]).map((n) =>
      typeof n === 'bigint' ? n.toString() : n,
    );
    return ns.length === 1 ? ns[0]! : ns;
  }
  if (a.text !== undefined) return a.text;
  if (a.problem) return undefined;
  if (a.bytes.length === 0) return '';
  return `bytes:${a.bytes.toString('hex').slice(0, 128)}${a.clipped || a.bytes.length > 64 ? '…' : ''}`;
}

/**
 * Reads one Part 10 file for the record. A file that cannot be read is a typed error (nothing is
 * recorded for it; the caller keeps the file and says why).
 */
export async function recordPassThrough(
  path: string,
  extraKeywords: string[],
): Promise<Result<PassThroughRecord, DicomFileError>> {
  const keywords = [...new Set<string>([...PASS_THROUGH_KEYWORDS, ...extraKeywords])];
  const tags = tagsOf(keywords);
  const info = await readInstanceInfo(path, { descendDefinedLength: false });
  if (!info.ok) return info;
  const i = info.value;
  const [attrs, pixels, sha] = await Promise.all([
    readHeaderAttributes(path, [...tags.keys()]),
    pixelDigest(path),
    dataSetSha256(path, i.datasetOffset, i.fileSize),
  ]);
  if (!attrs.ok) return attrs;
  if (!pixels.ok) return pixels;
  if (!sha.ok) return err(sha.error);

  const header: { [keyword: string]: Json } = {};
  const undecodable: string[] = [];
  for (const [tag, keyword] of tags) {
    const a = attrs.value.get(tag);
    if (!a) {
      header[keyword] = null;
      continue;
    }
    const v = attributeJson(a);
    if (v === undefined) undecodable.push(keyword);
    header[keyword] = v ?? null;
  }
  if (keywords.includes('TransferSyntaxUID')) header.TransferSyntaxUID = i.transferSyntaxUid;
  if (undecodable.length > 0) header[UNDECODABLE_KEY] = undecodable.sort();
  return ok({
    header,
    pixelDigest: pixels.value?.digest ?? null,
    pixelDigestTs: pixels.value?.transferSyntaxUid ?? null,
    datasetSha256: sha.value,
    sizeBytes: i.fileSize,
    sopInstanceUid: i.sopInstanceUid,
    sopClassUid: i.sopClassUid,
    studyUid: i.studyInstanceUid,
    seriesUid: i.seriesInstanceUid,
    transferSyntaxUid: i.transferSyntaxUid,
  });
}

/** The record as the fields of store.recordInstancesReceived (the caller adds UIDs, spool path). */
export function receivedFields(
  r: PassThroughRecord,
): Pick<
  ReceivedInput,
  | 'sopClassUid'
  | 'transferSyntaxUid'
  | 'sizeBytes'
  | 'datasetSha256'
  | 'pixelDigest'
  | 'pixelDigestTs'
  | 'header'
> {
  return {
    sopClassUid: r.sopClassUid,
    transferSyntaxUid: r.transferSyntaxUid,
    sizeBytes: r.sizeBytes,
    datasetSha256: r.datasetSha256,
    pixelDigest: r.pixelDigest,
    pixelDigestTs: r.pixelDigestTs,
    header: r.header,
  };
}
