/**
 * Opening the data set of a Part 10 file: File Meta, transfer syntax, a byte source positioned at the
 * first data set byte (inflating deflated data sets as a stream), and a check that the data set is
 * encoded as the meta says. Shared by readInstanceInfo, readHeaderAttributes and the digests.
 */
import { InflateSource } from './deflate.js';
import { containsDicomTags, plausibleEncodings, probeEncoding } from './encoding-probe.js';
import { DicomSourceError, dicomError, type DicomFileError } from './errors.js';
import { readFileMeta, type FileMeta } from './meta.js';
import { FileSource, type ByteSource } from './source.js';
import {
  describeEncoding,
  EXPLICIT_LE,
  lookupTransferSyntax,
  type Encoding,
  type TransferSyntax,
} from './transfer-syntax.js';
import { walk, type DicomWalker, type WalkOptions } from './walk.js';
import { err, ok, type Result } from '../util/result.js';

export interface OpenedDataSet {
  readonly path: string;
  readonly file: FileSource;
  readonly meta: FileMeta;
  readonly transferSyntax: TransferSyntax;
  /** How the data set's elements are encoded (explicit VR LE for deflated syntaxes). */
  readonly encoding: Encoding;
  /** The file, or the inflated stream for deflated syntaxes (offsets then count from 0). */
  readonly source: ByteSource;
  /** Offset of the first data set element in `source`. */
  readonly start: number;
  readonly inflate: InflateSource | undefined;
  walker(options?: Partial<Omit<WalkOptions, 'encoding' | 'start'>>): DicomWalker;
  close(): Promise<void>;
}

const PROBE_BYTES = 4096;

export const withPath = (path: string, e: DicomFileError): DicomFileError =>
  e.message.includes(path) ? e : { ...e, message: `${path}: ${e.message}`, detail: { ...e.detail, path } };

/**
 * Runs `use` on the opened data set and closes it. Source errors (I/O, corrupt deflate stream) become
 * error values.
 */
export async function withDataSet<T>(
  path: string,
  use: (ds: OpenedDataSet) => Promise<Result<T, DicomFileError>>,
): Promise<Result<T, DicomFileError>> {
  let file: FileSource;
  try {
    file = await FileSource.open(path);
  } catch (e) {
    if (e instanceof DicomSourceError) return err(withPath(path, e.error));
    throw e;
  }
  let inflate: InflateSource | undefined;
  try {
    const opened = await openDataSet(file, path);
    if (!opened.ok) return opened;
    inflate = opened.value.inflate;
    return await use(opened.value);
  } catch (e) {
    if (e instanceof DicomSourceError) return err(withPath(path, e.error));
    throw e;
  } finally {
    // Not awaited: results do not depend on it, and it saves a thread-pool round trip per file.
    file.close().catch(() => undefined);
    inflate?.close().catch(() => undefined);
  }
}

async function openDataSet(file: FileSource, path: string): Promise<Result<OpenedDataSet, DicomFileError>> {
  const fileSize = file.length;
  if (fileSize < 8)
    return err(dicomError('not-dicom', `${path}: ${fileSize} bytes, too short for DICOM`, { path }));
  const m = await readFileMeta(file, path);
  if (!m.ok) return m;
  const meta = m.value;
  if (!meta) return err(await noMeta(file, path));
  if (!meta.transferSyntaxUid) {
    return err(
      dicomError('no-meta', `${path}: File Meta has no Transfer Syntax UID (0002,0010)`, {
        path,
        ...metaUids(meta),
      }),
    );
  }
  const ts = lookupTransferSyntax(meta.transferSyntaxUid);
  if (!ts) {
    return err(
      dicomError('unknown-transfer-syntax', `${path}: unknown transfer syntax ${meta.transferSyntaxUid}`, {
        path,
        transferSyntaxUid: meta.transferSyntaxUid,
        ...metaUids(meta),
      }),
    );
  }
  const encoding: Encoding = ts.deflated
    ? EXPLICIT_LE
    : { explicitVr: ts.explicitVr, littleEndian: ts.littleEndian };
  const inflate = ts.deflated ? new InflateSource(path, meta.metaEnd) : undefined;
  const source: ByteSource = inflate ?? file;
  const start = inflate ? 0 : meta.metaEnd;
  const lie = await checkEncoding(file, source, start, meta, ts, encoding, path);
  if (lie) {
    await inflate?.close().catch(() => undefined);
    return err(lie);
  }
  return ok({
    path,
    file,
    meta,
    transferSyntax: ts,
    encoding,
    source,
    start,
    inflate,
    walker: (o = {}) => walk(source, { ...o, encoding, start }),
    close: async () => {
      await inflate?.close();
      await file.close();
    },
  });
}

async function noMeta(file: FileSource, path: string): Promise<DicomFileError> {
  const head = await file.read(0, PROBE_BYTES);
  const guesses = plausibleEncodings(head, file.length);
  if (guesses.length > 0) {
    return dicomError(
      'no-meta',
      `${path}: no File Meta ('DICM' + group 0002); data set looks ${describeEncoding(guesses[0]!)}`,
      {
        path,
        guessedEncoding: describeEncoding(guesses[0]!),
      },
    );
  }
  if (containsDicomTags(head)) {
    return dicomError('no-meta', `${path}: no File Meta, and the data set does not start at offset 0`, {
      path,
    });
  }
  return dicomError('not-dicom', `${path}: no File Meta and no recognisable data set encoding`, { path });
}

/** A `lying-transfer-syntax` error when the data set reads under another encoding only. */
async function checkEncoding(
  file: FileSource,
  source: ByteSource,
  start: number,
  meta: FileMeta,
  ts: TransferSyntax,
  encoding: Encoding,
  path: string,
): Promise<DicomFileError | undefined> {
  const datasetLength = file.length - meta.metaEnd;
  let head: Buffer;
  try {
    head = await source.read(start, PROBE_BYTES);
  } catch (e) {
    if (e instanceof DicomSourceError && e.error.code === 'deflate-error' && datasetLength > 0) {
      const raw = await file.read(meta.metaEnd, PROBE_BYTES);
      if (probeEncoding(raw, EXPLICIT_LE, datasetLength).ok) {
        return lying(
          path,
          meta,
          ts,
          'data set is not deflated: it reads as explicit VR little endian',
          EXPLICIT_LE,
        );
      }
    }
    throw e;
  }
  const available = source.length === undefined ? Infinity : source.length - start;
  const declared = probeEncoding(head, encoding, available);
  if (declared.ok) return undefined;
  const other = plausibleEncodings(head, available, encoding);
  return other.length > 0
    ? lying(
        path,
        meta,
        ts,
        `data set reads as ${describeEncoding(other[0]!)} (${declared.reason})`,
        other[0]!,
      )
    : undefined;
}

/**
 * A `lying-transfer-syntax` error. The data set is not read, so it names the instance by its File Meta
 * ((0002,0002), (0002,0003)): the ledger and the analysis can still tell which instance it holds.
 */
function lying(
  path: string,
  meta: FileMeta,
  ts: TransferSyntax,
  why: string,
  actual: Encoding,
): DicomFileError {
  return dicomError(
    'lying-transfer-syntax',
    `${path}: File Meta says ${ts.name} (${ts.uid}) but the ${why}`,
    {
      path,
      transferSyntaxUid: ts.uid,
      actualEncoding: describeEncoding(actual),
      ...metaUids(meta),
    },
  );
}

/** The instance as the File Meta names it, for errors raised before the data set is read. */
const metaUids = (meta: FileMeta): Record<string, string> => ({
  ...(meta.mediaStorageSopClassUid ? { mediaStorageSopClassUid: meta.mediaStorageSopClassUid } : {}),
  ...(meta.mediaStorageSopInstanceUid ? { mediaStorageSopInstanceUid: meta.mediaStorageSopInstanceUid } : {}),
});
