/**
 * Reading a Part 10 file for what a migration needs: identifiers, transfer syntax, where the data set
 * starts and how long it is, and proof that it is complete and well formed. Reads the head and element
 * headers only (values are skipped by offset; pixel data is never read).
 */
import { InflateSource } from './deflate.js';
import { containsDicomTags, plausibleEncodings, probeEncoding } from './encoding-probe.js';
import { DicomSourceError, dicomError, type DicomFileError, type DicomIssue } from './errors.js';
import { readFileMeta, type FileMeta } from './meta.js';
import { FileSource, type ByteSource } from './source.js';
import { Tags, type Tag } from './tag.js';
import {
  describeEncoding,
  EXPLICIT_LE,
  lookupTransferSyntax,
  type Encoding,
  type TransferSyntax,
} from './transfer-syntax.js';
import { decodeUid } from './value.js';
import { walk, type DicomWalker } from './walk.js';
import { err, ok, type Result } from '../util/result.js';

export interface PixelDataInfo {
  readonly tag: Tag;
  /** Offset of the element header (in the inflated stream for deflated files). */
  readonly offset: number;
  readonly valueOffset: number;
  /** Undefined for encapsulated (undefined-length) pixel data. */
  readonly valueLength: number | undefined;
  readonly encapsulated: boolean;
  /** Number of fragments, Basic Offset Table included. */
  readonly fragments?: number;
}

export interface InstanceInfo {
  readonly path: string;
  readonly fileSize: number;
  readonly hasPreamble: boolean;
  /** Offset of the first data set byte (end of the File Meta). */
  readonly metaEnd: number;
  /** Same as metaEnd. */
  readonly datasetOffset: number;
  /** Bytes from datasetOffset to the end of the file (compressed bytes for deflated files). */
  readonly datasetLength: number;
  /** Deflated files: length of the inflated data set. */
  readonly inflatedLength?: number;
  readonly transferSyntaxUid: string;
  readonly transferSyntax: TransferSyntax;
  /** From (0008,0016); from (0002,0002) only when the data set lacks it (issue `missing-sop-class`). */
  readonly sopClassUid: string;
  /** From (0008,0018). */
  readonly sopInstanceUid: string;
  readonly studyInstanceUid: string | undefined;
  readonly seriesInstanceUid: string | undefined;
  /** (0002,0002)/(0002,0003) differ from (0008,0016)/(0008,0018). */
  readonly metaDisagrees: { readonly sopClass: boolean; readonly sopInstance: boolean };
  readonly meta: {
    readonly version?: string;
    readonly groupLength?: number;
    readonly mediaStorageSopClassUid?: string;
    readonly mediaStorageSopInstanceUid?: string;
    readonly implementationClassUid?: string;
    readonly implementationVersionName?: string;
    readonly sourceAeTitle?: string;
  };
  readonly pixelData: PixelDataInfo | undefined;
  /** Top-level elements of the data set. */
  readonly topLevelElements: number;
  readonly issues: readonly DicomIssue[];
}

export interface ReadOptions {
  /** Sequence nesting limit (default 32). */
  readonly maxDepth?: number;
  /** Also walk inside defined-length sequences (default true: full structural check). */
  readonly descendDefinedLength?: boolean;
}

const ID_TAGS = new Set<Tag>([
  Tags.SOPClassUID.tag,
  Tags.SOPInstanceUID.tag,
  Tags.StudyInstanceUID.tag,
  Tags.SeriesInstanceUID.tag,
]);
const PIXEL_TAGS = new Set<Tag>([Tags.PixelData.tag, Tags.FloatPixelData.tag, Tags.DoubleFloatPixelData.tag]);
const PROBE_BYTES = 4096;

const withPath = (path: string, e: DicomFileError): DicomFileError =>
  e.message.includes(path) ? e : { ...e, message: `${path}: ${e.message}`, detail: { ...e.detail, path } };

/** Opens, identifies and structurally checks one Part 10 file. */
export async function readInstanceInfo(path: string, options: ReadOptions = {}): Promise<Result<InstanceInfo, DicomFileError>> {
  let file: FileSource;
  try {
    file = await FileSource.open(path);
  } catch (e) {
    if (e instanceof DicomSourceError) return err(withPath(path, e.error));
    throw e;
  }
  try {
    return await readOpened(file, path, options);
  } catch (e) {
    if (e instanceof DicomSourceError) return err(withPath(path, e.error));
    throw e;
  } finally {
    await file.close();
  }
}

async function readOpened(file: FileSource, path: string, options: ReadOptions): Promise<Result<InstanceInfo, DicomFileError>> {
  const fileSize = file.length;
  if (fileSize < 8) return err(dicomError('not-dicom', `${path}: ${fileSize} bytes, too short for DICOM`, { path }));
  const m = await readFileMeta(file, path);
  if (!m.ok) return m;
  const meta = m.value;
  if (!meta) {
    const head = await file.read(0, PROBE_BYTES);
    const guesses = plausibleEncodings(head, fileSize);
    if (guesses.length === 0) {
      if (containsDicomTags(head)) {
        return err(dicomError('no-meta', `${path}: no File Meta, and the data set does not start at offset 0`, { path }));
      }
      return err(dicomError('not-dicom', `${path}: no File Meta and no recognisable data set encoding`, { path }));
    }
    return err(
      dicomError('no-meta', `${path}: no File Meta ('DICM' + group 0002); data set looks ${describeEncoding(guesses[0]!)}`, {
        path,
        guessedEncoding: describeEncoding(guesses[0]!),
      }),
    );
  }
  if (!meta.transferSyntaxUid) {
    return err(dicomError('no-meta', `${path}: File Meta has no Transfer Syntax UID (0002,0010)`, { path }));
  }
  const ts = lookupTransferSyntax(meta.transferSyntaxUid);
  if (!ts) {
    return err(
      dicomError('unknown-transfer-syntax', `${path}: unknown transfer syntax ${meta.transferSyntaxUid}`, {
        path,
        transferSyntaxUid: meta.transferSyntaxUid,
      }),
    );
  }
  const encoding: Encoding = ts.deflated ? EXPLICIT_LE : ts;
  const datasetLength = fileSize - meta.metaEnd;

  let source: ByteSource = file;
  let start = meta.metaEnd;
  let inflate: InflateSource | undefined;
  if (ts.deflated) {
    inflate = new InflateSource(path, meta.metaEnd);
    source = inflate;
    start = 0;
  }
  try {
    // Is the data set encoded as the meta says?
    let head: Buffer;
    try {
      head = await source.read(start, PROBE_BYTES);
    } catch (e) {
      if (e instanceof DicomSourceError && e.error.code === 'deflate-error') {
        const raw = await file.read(meta.metaEnd, PROBE_BYTES);
        if (probeEncoding(raw, EXPLICIT_LE, datasetLength).ok && datasetLength > 0) {
          return err(lying(path, ts, 'data set is not deflated: it reads as explicit VR little endian', EXPLICIT_LE));
        }
      }
      throw e;
    }
    const available = source.length === undefined ? Infinity : source.length - start;
    const declared = probeEncoding(head, encoding, available);
    if (!declared.ok) {
      const other = plausibleEncodings(head, available, encoding);
      if (other.length > 0) {
        return err(lying(path, ts, `data set reads as ${describeEncoding(other[0]!)} (${declared.reason})`, other[0]!));
      }
    }

    const walker = walk(source, {
      encoding,
      start,
      ...(options.maxDepth !== undefined ? { maxDepth: options.maxDepth } : {}),
      descendDefinedLength: options.descendDefinedLength ?? true,
    });
    const ids = new Map<Tag, string>();
    let pixelData: PixelDataInfo | undefined;
    let pixelFragments = 0;
    let topLevel = 0;
    for (let batch = await walker.nextBatch(); batch.length > 0; batch = await walker.nextBatch()) {
      for (const el of batch) {
        if (el.depth === 0 && el.kind === 'element') {
          topLevel++;
          if (ID_TAGS.has(el.tag) && el.valueLength !== undefined) {
            ids.set(el.tag, decodeUid(walker.peekValue(el, 1024) ?? (await walker.readValue(el, 1024))));
          } else if (PIXEL_TAGS.has(el.tag)) {
            pixelData = {
              tag: el.tag,
              offset: el.offset,
              valueOffset: el.valueOffset,
              valueLength: el.valueLength,
              encapsulated: el.content === 'fragments',
            };
          }
        } else if (el.kind === 'fragment' && el.depth === 1 && el.path[0]!.tag === pixelData?.tag) {
          pixelFragments++;
        }
      }
    }
    if (walker.error) {
      // What was identified before the error helps the ledger name the instance.
      const e = withPath(path, walker.error);
      return err({
        ...e,
        detail: {
          ...e.detail,
          sopInstanceUid: ids.get(Tags.SOPInstanceUID.tag),
          studyInstanceUid: ids.get(Tags.StudyInstanceUID.tag),
        },
      });
    }
    if (pixelData?.encapsulated) pixelData = { ...pixelData, fragments: pixelFragments };
    return identify(path, fileSize, meta, ts, datasetLength, inflate, ids, pixelData, topLevel, walker);
  } finally {
    await inflate?.close();
  }
}

function lying(path: string, ts: TransferSyntax, why: string, actual: Encoding): DicomFileError {
  return dicomError('lying-transfer-syntax', `${path}: File Meta says ${ts.name} (${ts.uid}) but the ${why}`, {
    path,
    transferSyntaxUid: ts.uid,
    actualEncoding: describeEncoding(actual),
  });
}

function identify(
  path: string,
  fileSize: number,
  meta: FileMeta,
  ts: TransferSyntax,
  datasetLength: number,
  inflate: InflateSource | undefined,
  ids: Map<Tag, string>,
  pixelData: PixelDataInfo | undefined,
  topLevelElements: number,
  walker: DicomWalker,
): Result<InstanceInfo, DicomFileError> {
  const issues: DicomIssue[] = [...meta.issues, ...walker.issues];
  const sopInstanceUid = ids.get(Tags.SOPInstanceUID.tag) || undefined;
  if (!sopInstanceUid) {
    return err(
      dicomError('missing-uid', `${path}: no SOP Instance UID (0008,0018) in the data set`, {
        path,
        mediaStorageSopInstanceUid: meta.mediaStorageSopInstanceUid,
      }),
    );
  }
  let sopClassUid = ids.get(Tags.SOPClassUID.tag) || undefined;
  if (!sopClassUid) {
    if (!meta.mediaStorageSopClassUid) {
      return err(dicomError('missing-uid', `${path}: no SOP Class UID, neither (0008,0016) nor (0002,0002)`, { path, sopInstanceUid }));
    }
    sopClassUid = meta.mediaStorageSopClassUid;
    issues.push({ code: 'missing-sop-class', message: `no (0008,0016) in the data set: using (0002,0002) ${sopClassUid}` });
  }
  const metaDisagrees = {
    sopClass: meta.mediaStorageSopClassUid !== undefined && meta.mediaStorageSopClassUid !== sopClassUid,
    sopInstance: meta.mediaStorageSopInstanceUid !== undefined && meta.mediaStorageSopInstanceUid !== sopInstanceUid,
  };
  if (metaDisagrees.sopClass) {
    issues.push({ code: 'meta-sop-class-mismatch', message: `(0002,0002) ${meta.mediaStorageSopClassUid} ≠ (0008,0016) ${sopClassUid}` });
  }
  if (metaDisagrees.sopInstance) {
    issues.push({
      code: 'meta-sop-instance-mismatch',
      message: `(0002,0003) ${meta.mediaStorageSopInstanceUid} ≠ (0008,0018) ${sopInstanceUid}`,
    });
  }
  return ok({
    path,
    fileSize,
    hasPreamble: meta.hasPreamble,
    metaEnd: meta.metaEnd,
    datasetOffset: meta.metaEnd,
    datasetLength,
    ...(inflate ? { inflatedLength: inflate.produced } : {}),
    transferSyntaxUid: ts.uid,
    transferSyntax: ts,
    sopClassUid,
    sopInstanceUid,
    studyInstanceUid: ids.get(Tags.StudyInstanceUID.tag) || undefined,
    seriesInstanceUid: ids.get(Tags.SeriesInstanceUID.tag) || undefined,
    metaDisagrees,
    meta: {
      ...pick(meta, 'version'),
      ...pick(meta, 'groupLength'),
      ...pick(meta, 'mediaStorageSopClassUid'),
      ...pick(meta, 'mediaStorageSopInstanceUid'),
      ...pick(meta, 'implementationClassUid'),
      ...pick(meta, 'implementationVersionName'),
      ...pick(meta, 'sourceAeTitle'),
    },
    pixelData,
    topLevelElements,
    issues,
  });
}

function pick<T extends object, K extends keyof T>(o: T, k: K): Partial<Pick<T, K>> {
  return o[k] === undefined ? {} : ({ [k]: o[k] } as Partial<Pick<T, K>>);
}
