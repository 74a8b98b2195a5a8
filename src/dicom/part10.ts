/**
 * Reading a Part 10 file for what a migration needs: identifiers, transfer syntax, where the data set
 * starts and how long it is, and proof that it is complete and well formed. Reads the head and element
 * headers only (values are skipped by offset; pixel data is never read).
 */
import { withDataSet, withPath } from './dataset.js';
import type { InflateSource } from './deflate.js';
import { dicomError, type DicomFileError, type DicomIssue } from './errors.js';
import type { FileMeta } from './meta.js';
import { Tags, type Tag } from './tag.js';
import type { TransferSyntax } from './transfer-syntax.js';
import { decodeUid } from './value.js';
import type { DicomWalker } from './walk.js';
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
  /** Also walk inside defined-length sequences (default false: they are skipped by their length). */
  readonly descendDefinedLength?: boolean;
  /** Filled in with what was read from disk (for tests and benchmarks). */
  readonly stats?: { bytesRead: number; reads: number };
}

const ID_TAGS = new Set<Tag>([
  Tags.SOPClassUID.tag,
  Tags.SOPInstanceUID.tag,
  Tags.StudyInstanceUID.tag,
  Tags.SeriesInstanceUID.tag,
]);
const PIXEL_TAGS = new Set<Tag>([Tags.PixelData.tag, Tags.FloatPixelData.tag, Tags.DoubleFloatPixelData.tag]);
/** Opens, identifies and structurally checks one Part 10 file. */
export function readInstanceInfo(
  path: string,
  options: ReadOptions = {},
): Promise<Result<InstanceInfo, DicomFileError>> {
  return withDataSet(path, async (ds) => {
    const walker = ds.walker({
      ...(options.maxDepth !== undefined ? { maxDepth: options.maxDepth } : {}),
      descendDefinedLength: options.descendDefinedLength ?? false,
      emitNested: false,
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
    if (options.stats) {
      options.stats.bytesRead += ds.file.bytesRead;
      options.stats.reads += ds.file.reads;
    }
    if (pixelData?.encapsulated) pixelData = { ...pixelData, fragments: pixelFragments };
    const datasetLength = ds.file.length - ds.meta.metaEnd;
    return identify(
      path,
      ds.file.length,
      ds.meta,
      ds.transferSyntax,
      datasetLength,
      ds.inflate,
      ids,
      pixelData,
      topLevel,
      walker,
    );
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
      return err(
        dicomError('missing-uid', `${path}: no SOP Class UID, neither (0008,0016) nor (0002,0002)`, {
          path,
          sopInstanceUid,
        }),
      );
    }
    sopClassUid = meta.mediaStorageSopClassUid;
    issues.push({
      code: 'missing-sop-class',
      message: `no (0008,0016) in the data set: using (0002,0002) ${sopClassUid}`,
    });
  }
  const metaDisagrees = {
    sopClass: meta.mediaStorageSopClassUid !== undefined && meta.mediaStorageSopClassUid !== sopClassUid,
    sopInstance:
      meta.mediaStorageSopInstanceUid !== undefined && meta.mediaStorageSopInstanceUid !== sopInstanceUid,
  };
  if (metaDisagrees.sopClass) {
    issues.push({
      code: 'meta-sop-class-mismatch',
      message: `(0002,0002) ${meta.mediaStorageSopClassUid} ≠ (0008,0016) ${sopClassUid}`,
    });
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
