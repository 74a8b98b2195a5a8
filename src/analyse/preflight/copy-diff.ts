/**
 * What a target altered: two copies of one instance (the object sent, and the one the target gives
 * back) compared element by element, as values. Re-encoding that keeps every value (another VR
 * spelling, byte order, padding, sequence lengths) is reported apart from changed values, dropped or
 * added elements and changed pixel data.
 */
import { createHash } from 'node:crypto';
import { open } from 'node:fs/promises';
import { keywordOf } from '../../dicom/keyword.js';
import { pixelDigest } from '../../dicom/pixel-digest.js';
import { isGroupLength, Tags, type Tag } from '../../dicom/tag.js';
import type { DicomFileError } from '../../dicom/errors.js';
import { VR_TABLE } from '../../dicom/vr.js';
import { err, ok, type Result } from '../../util/result.js';
import { expectedPixelBytes } from './pixels.js';
import { readObject, type ObjectElement, type ObjectRead } from './read-object.js';

export type DifferenceKind =
  /** In the object sent, not in the copy. */
  | 'dropped'
  /** In the copy only. */
  | 'added'
  /** Another value. */
  | 'value'
  /** The same value, encoded otherwise (VR, sequence length form): not an alteration of content. */
  | 'reencoded'
  /** Pixel data differ (compared when both copies have the same transfer syntax). */
  | 'pixels';

export interface CopyDifference {
  readonly kind: DifferenceKind;
  /** Path and tag, e.g. `(0040,A730)[0].(0008,0100)`; `pixels` for pixel data. */
  readonly key: string;
  readonly tag: Tag;
  readonly keyword: string;
  readonly private: boolean;
}

export interface CopyDiff {
  /** Every difference found (re-encodings included). */
  readonly differences: readonly CopyDifference[];
  /** Content changed: some difference other than `reencoded`. */
  readonly altered: boolean;
  readonly sourceTransferSyntax: string;
  readonly copyTransferSyntax: string;
  /** Either side could not be read to its end (the comparison covers what both sides gave). */
  readonly incomplete: boolean;
}

const PIXEL_TAGS = new Set<Tag>([Tags.PixelData.tag, Tags.FloatPixelData.tag, Tags.DoubleFloatPixelData.tag]);

/**
 * Group lengths are recomputed by every writer; pixel data are compared apart (their encoding
 * follows the transfer syntax: native in one copy, fragments in another).
 */
const ignored = (e: ObjectElement): boolean =>
  isGroupLength(e.tag) || (e.path.length === 0 && PIXEL_TAGS.has(e.tag));

/** A sequence: items follow (SQ, a UN sequence of undefined length), or an SQ written empty. */
const isSequence = (e: ObjectElement): boolean => e.content === 'items' || (e.vr === 'SQ' && e.length === 0);

function sameValue(a: ObjectElement, b: ObjectElement): 'equal' | 'reencoded' | 'different' {
  if (isSequence(a) || isSequence(b)) {
    // The items (compared element by element) decide; only the length form or the VR spelling can differ here.
    if (!isSequence(a) || !isSequence(b)) return 'different';
    return a.vr === b.vr && a.content === b.content && a.length === b.length ? 'equal' : 'reencoded';
  }
  if (a.content !== b.content) return 'different';
  const same =
    a.text !== undefined || b.text !== undefined
      ? a.text === b.text
      : a.numbers !== undefined || b.numbers !== undefined
        ? JSON.stringify(a.numbers?.map(String)) === JSON.stringify(b.numbers?.map(String))
        : a.digest === b.digest;
  if (same) return a.vr === b.vr ? 'equal' : 'reencoded';
  // Decoded under different VRs (a private element as UN on one side, LO on the other): bytes decide.
  if (a.vr !== b.vr && a.rawDigest !== undefined && a.rawDigest === b.rawDigest) return 'reencoded';
  // An empty value and an absent padding byte are the same text.
  if (VR_TABLE[a.vr].kind === 'bulk' && a.length === 0 && b.length === 0) return 'reencoded';
  return 'different';
}

const diffOf = (kind: DifferenceKind, e: ObjectElement): CopyDifference => ({
  kind,
  key: e.key,
  tag: e.tag,
  keyword: keywordOf(e.tag),
  private: e.private,
});

/** Compares two readings of one instance. `pixelsEqual`: undefined when pixels were not compared. */
export function diffObjects(source: ObjectRead, copy: ObjectRead, pixelsEqual?: boolean): CopyDiff {
  const differences: CopyDifference[] = [];
  const theirs = new Map<string, ObjectElement>();
  for (const e of copy.elements) if (!ignored(e)) theirs.set(e.key, e);
  for (const e of source.elements) {
    if (ignored(e)) continue;
    const c = theirs.get(e.key);
    if (!c) {
      differences.push(diffOf('dropped', e));
      continue;
    }
    theirs.delete(e.key);
    const s = sameValue(e, c);
    if (s === 'reencoded') differences.push(diffOf('reencoded', e));
    else if (s === 'different') differences.push(diffOf('value', e));
  }
  for (const c of theirs.values()) differences.push(diffOf('added', c));
  if (pixelsEqual === false && source.pixelData) {
    differences.push({
      kind: 'pixels',
      key: 'pixels',
      tag: source.pixelData.tag,
      keyword: keywordOf(source.pixelData.tag),
      private: false,
    });
  }
  return {
    differences,
    altered: differences.some((d) => d.kind !== 'reencoded'),
    sourceTransferSyntax: source.transferSyntax.uid,
    copyTransferSyntax: copy.transferSyntax.uid,
    incomplete: source.error !== undefined || copy.error !== undefined,
  };
}

async function hashRange(path: string, offset: number, length: number): Promise<string> {
  const fh = await open(path, 'r');
  try {
    const hash = createHash('sha256');
    const buf = Buffer.alloc(Math.min(length, 1 << 20));
    for (let done = 0; done < length;) {
      const { bytesRead } = await fh.read(buf, 0, Math.min(buf.length, length - done), offset + done);
      if (bytesRead === 0) break;
      hash.update(buf.subarray(0, bytesRead));
      done += bytesRead;
    }
    return hash.digest('hex');
  } finally {
    await fh.close();
  }
}

/**
 * Native pixel data of odd size: one copy may lack the padding byte (an odd-length value, invalid but
 * common), the other add it, with any value: compare the pixel bytes only.
 */
async function samePixelsButPadding(
  aPath: string,
  a: ObjectRead,
  bPath: string,
  b: ObjectRead,
): Promise<boolean> {
  const pa = a.pixelData;
  const pb = b.pixelData;
  if (
    !pa ||
    !pb ||
    pa.encapsulated ||
    pb.encapsulated ||
    a.transferSyntax.deflated ||
    b.transferSyntax.deflated
  )
    return false;
  const expected = expectedPixelBytes(a);
  const fits = (n: number | undefined) => n === expected || n === expected! + 1;
  if (expected === undefined || expected % 2 === 0 || !fits(pa.length) || !fits(pb.length)) return false;
  return (
    (await hashRange(aPath, pa.valueOffset, expected)) === (await hashRange(bPath, pb.valueOffset, expected))
  );
}

/** Reads both files and compares them; pixel data are compared when both have the same transfer syntax. */
export async function diffCopies(
  sourcePath: string,
  copyPath: string,
): Promise<Result<CopyDiff, DicomFileError>> {
  const a = await readObject(sourcePath);
  if (!a.ok) return a;
  const b = await readObject(copyPath);
  if (!b.ok) return err(b.error);
  let pixelsEqual: boolean | undefined;
  if (a.value.pixelData && b.value.pixelData && a.value.transferSyntax.uid === b.value.transferSyntax.uid) {
    const pa = await pixelDigest(sourcePath);
    const pb = await pixelDigest(copyPath);
    if (pa.ok && pb.ok)
      pixelsEqual =
        pa.value?.digest === pb.value?.digest ||
        (await samePixelsButPadding(sourcePath, a.value, copyPath, b.value));
  } else if (!!a.value.pixelData !== !!b.value.pixelData) {
    pixelsEqual = false;
  }
  return ok(diffObjects(a.value, b.value, pixelsEqual));
}
