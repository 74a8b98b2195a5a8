/**
 * Pixel Data against the Image Pixel module: native pixel data must hold Rows × Columns × Frames ×
 * Samples × Bits Allocated bits (PS3.5 8.1.1; 4:2:2 YBR stores two samples per pixel), padded to even
 * length; encapsulated pixel data needs at least one fragment per frame (PS3.5 A.4).
 */
import { Tags, type Tag } from '../../dicom/tag.js';
import type { ObjectElement, ObjectRead } from './read-object.js';

export interface PixelCheck {
  readonly problem: 'short' | 'long';
  readonly expected: number;
  readonly found: number;
  readonly unit: 'bytes' | 'fragments';
}

const num = (e: ObjectElement | undefined): number | undefined => {
  if (!e) return undefined;
  if (e.numbers && e.numbers.length > 0) return Number(e.numbers[0]);
  if (e.text !== undefined && e.text.trim() !== '') {
    const n = Number(e.text.split('\\')[0]);
    return Number.isFinite(n) ? n : undefined;
  }
  return undefined;
};

/** Top-level numeric attribute (US or IS, also when written as UN: decoded by the dictionary VR). */
export const numberAt = (o: ObjectRead, tag: Tag): number | undefined => num(o.top.get(tag));

/** Bytes native pixel data needs, before padding; undefined when the module does not say. */
export function expectedPixelBytes(o: ObjectRead): number | undefined {
  const rows = numberAt(o, Tags.Rows.tag);
  const cols = numberAt(o, Tags.Columns.tag);
  const bits = numberAt(o, Tags.BitsAllocated.tag);
  if (rows === undefined || cols === undefined || bits === undefined) return undefined;
  const frames = Math.max(1, numberAt(o, Tags.NumberOfFrames.tag) ?? 1);
  const spp = numberAt(o, Tags.SamplesPerPixel.tag) ?? 1;
  const pi = o.top.get(Tags.PhotometricInterpretation.tag)?.text?.trim() ?? '';
  const samples = /^YBR_(FULL|PARTIAL)_422$/.test(pi) ? 2 : spp;
  return Math.ceil((rows * cols * frames * samples * bits) / 8);
}

/** Pixel data that cannot hold the image the module describes; undefined when it fits (or cannot be judged). */
export function checkPixelData(o: ObjectRead): PixelCheck | undefined {
  const p = o.pixelData;
  if (!p || p.tag !== Tags.PixelData.tag) return undefined;
  if (p.encapsulated) {
    const frames = Math.max(1, numberAt(o, Tags.NumberOfFrames.tag) ?? 1);
    return p.fragments < frames
      ? { problem: 'short', expected: frames, found: p.fragments, unit: 'fragments' }
      : undefined;
  }
  const expected = expectedPixelBytes(o);
  if (expected === undefined || p.length === undefined) return undefined;
  if (p.length < expected) return { problem: 'short', expected, found: p.length, unit: 'bytes' };
  if (p.length > expected + (expected % 2))
    return { problem: 'long', expected, found: p.length, unit: 'bytes' };
  return undefined;
}
