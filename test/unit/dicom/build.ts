/** Tiny encoders for synthetic data sets in tests (explicit/implicit VR, either byte order). */
import { groupOf, elementOf, type Tag } from '../../../src/dicom/tag.js';
import type { Encoding } from '../../../src/dicom/transfer-syntax.js';
import { VR_TABLE, type VR } from '../../../src/dicom/vr.js';

export const UNDEF = 0xffffffff;

const u16 = (n: number, le: boolean): Buffer => {
  const b = Buffer.alloc(2);
  if (le) b.writeUInt16LE(n);
  else b.writeUInt16BE(n);
  return b;
};
const u32 = (n: number, le: boolean): Buffer => {
  const b = Buffer.alloc(4);
  if (le) b.writeUInt32LE(n);
  else b.writeUInt32BE(n);
  return b;
};
const tagBytes = (t: Tag, le: boolean): Buffer => Buffer.concat([u16(groupOf(t), le), u16(elementOf(t), le)]);

/** An element header + value; `length` overrides the encoded length (e.g. UNDEF). */
export function el(enc: Encoding, t: Tag, vr: VR, value: Buffer | string, length?: number): Buffer {
  const v = typeof value === 'string' ? Buffer.from(value, 'latin1') : value;
  const len = length ?? v.length;
  const le = enc.littleEndian;
  if (!enc.explicitVr) return Buffer.concat([tagBytes(t, le), u32(len, le), v]);
  if (VR_TABLE[vr].longLength)
    return Buffer.concat([tagBytes(t, le), Buffer.from(vr, 'latin1'), Buffer.alloc(2), u32(len, le), v]);
  return Buffer.concat([tagBytes(t, le), Buffer.from(vr, 'latin1'), u16(len, le), v]);
}

export const item = (enc: Encoding, content: Buffer, undefinedLength = false): Buffer =>
  Buffer.concat([
    tagBytes(0xfffee000, enc.littleEndian),
    u32(undefinedLength ? UNDEF : content.length, enc.littleEndian),
    content,
    undefinedLength
      ? Buffer.concat([tagBytes(0xfffee00d, enc.littleEndian), u32(0, enc.littleEndian)])
      : Buffer.alloc(0),
  ]);

export const seqDelim = (enc: Encoding): Buffer =>
  Buffer.concat([tagBytes(0xfffee0dd, enc.littleEndian), u32(0, enc.littleEndian)]);

/** A sequence of the given items, of defined or undefined length. */
export function sq(enc: Encoding, t: Tag, items: Buffer[], undefinedLength = false): Buffer {
  const body = Buffer.concat(items);
  if (undefinedLength) return Buffer.concat([el(enc, t, 'SQ', Buffer.alloc(0), UNDEF), body, seqDelim(enc)]);
  return el(enc, t, 'SQ', body);
}

/** Encapsulated Pixel Data: a Basic Offset Table item then one item per fragment, then the delimiter. */
export function encapsulated(enc: Encoding, bot: Buffer, fragments: Buffer[]): Buffer {
  return Buffer.concat([
    el(enc, 0x7fe00010, 'OB', Buffer.alloc(0), UNDEF),
    item(enc, bot),
    ...fragments.map((f) => item(enc, f)),
    seqDelim(enc),
  ]);
}
