/**
 * A digest of the pixel values, independent of how the data set around them is encoded: native pixel
 * data in little-endian order (byte-swapped when the file is big endian), or the contents of the
 * encapsulated fragments concatenated (item headers and the Basic Offset Table left out, so that
 * re-fragmenting or adding a table does not change it). The transfer syntax is recorded beside it:
 * digests are comparable only between equal syntaxes (or between native ones).
 */
import { createHash, type Hash } from 'node:crypto';
import { withDataSet } from './dataset.js';
import type { DicomFileError } from './errors.js';
import type { ByteSource } from './source.js';
import { Tags, type Tag } from './tag.js';
import { decodeUint16 } from './value.js';
import type { WalkElement } from './walk.js';
import { err, ok, type Result } from '../util/result.js';

export interface PixelDigest {
  readonly algorithm: 'sha256';
  /** Hex digest. */
  readonly digest: string;
  readonly transferSyntaxUid: string;
  /** Pixel Data (7FE0,0010), Float Pixel Data (7FE0,0008) or Double Float Pixel Data (7FE0,0009). */
  readonly tag: Tag;
  readonly encapsulated: boolean;
  /** Bytes that went into the digest. */
  readonly bytes: number;
  /** Encapsulated: fragments hashed (the Basic Offset Table excluded). */
  readonly fragments?: number;
  /** Native big endian: size of the units that were byte-swapped (1 = none). */
  readonly swapUnit: 1 | 2 | 4 | 8;
}

const PIXEL_TAGS = new Set<Tag>([Tags.PixelData.tag, Tags.FloatPixelData.tag, Tags.DoubleFloatPixelData.tag]);
const CHUNK = 1 << 20;

/**
 * Byte-swap unit that turns native big-endian pixel data into little-endian order: the pixel size for
 * 16/32/64 bits allocated; 16-bit words for OW holding 8 or 1 bit pixels; floats by their size.
 */
export function swapUnitFor(
  tag: Tag,
  vr: string | undefined,
  bitsAllocated: number | undefined,
): 1 | 2 | 4 | 8 {
  if (tag === Tags.FloatPixelData.tag) return 4;
  if (tag === Tags.DoubleFloatPixelData.tag) return 8;
  if (bitsAllocated === 16) return 2;
  if (bitsAllocated === 32) return 4;
  if (bitsAllocated === 64) return 8;
  return vr === 'OW' ? 2 : 1;
}

function swapInPlace(b: Buffer, unit: 1 | 2 | 4 | 8): void {
  const whole = b.length - (b.length % unit);
  const v = b.subarray(0, whole);
  if (unit === 2) v.swap16();
  else if (unit === 4) v.swap32();
  else if (unit === 8) v.swap64();
}

async function hashRange(
  src: ByteSource,
  hash: Hash,
  offset: number,
  length: number,
  unit: 1 | 2 | 4 | 8,
): Promise<void> {
  for (let done = 0; done < length;) {
    const n = Math.min(CHUNK, length - done);
    const chunk = await src.read(offset + done, n);
    if (chunk.length < n) throw new Error(`pixel data cut at ${offset + done + chunk.length}`);
    if (unit > 1) {
      const copy = Buffer.from(chunk); // never swap the source's window in place
      swapInPlace(copy, unit);
      hash.update(copy);
    } else {
      hash.update(chunk);
    }
    done += n;
  }
}

/** The pixel digest of a file, or undefined when it has no pixel data. Streamed; values are never held whole. */
export function pixelDigest(path: string): Promise<Result<PixelDigest | undefined, DicomFileError>> {
  return withDataSet(path, async (ds) => {
    const walker = ds.walker({ descendDefinedLength: false, emitNested: false });
    const hash = createHash('sha256');
    let bitsAllocated: number | undefined;
    let pixel: WalkElement | undefined;
    let bytes = 0;
    let fragments = 0;
    let unit: 1 | 2 | 4 | 8 = 1;
    outer: for (let batch = await walker.nextBatch(); batch.length > 0; batch = await walker.nextBatch()) {
      for (const el of batch) {
        if (pixel) {
          // Inside encapsulated pixel data: fragments until the delimiter.
          if (el.kind === 'fragment' && el.depth === 1) {
            if (el.path[0]!.item > 0) {
              await hashRange(ds.source, hash, el.valueOffset, el.valueLength!, 1);
              bytes += el.valueLength!;
              fragments++;
            }
            continue;
          }
          break outer;
        }
        if (el.depth !== 0 || el.kind !== 'element') continue;
        if (el.tag === Tags.BitsAllocated.tag && el.valueLength !== undefined) {
          bitsAllocated = decodeUint16(await walker.readValue(el, 2), el.encoding.littleEndian);
        } else if (PIXEL_TAGS.has(el.tag)) {
          pixel = el;
          if (el.content === 'value') {
            unit = ds.encoding.littleEndian ? 1 : swapUnitFor(el.tag, el.vr, bitsAllocated);
            await hashRange(ds.source, hash, el.valueOffset, el.valueLength!, unit);
            bytes = el.valueLength!;
            break outer;
          }
        }
      }
    }
    if (walker.error) return err({ ...walker.error, message: `${path}: ${walker.error.message}` });
    if (!pixel) return ok(undefined);
    return ok({
      algorithm: 'sha256',
      digest: hash.digest('hex'),
      transferSyntaxUid: ds.transferSyntax.uid,
      tag: pixel.tag,
      encapsulated: pixel.content === 'fragments',
      bytes,
      ...(pixel.content === 'fragments' ? { fragments } : {}),
      swapUnit: unit,
    });
  });
}
