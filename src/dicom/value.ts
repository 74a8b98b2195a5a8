/** Decoding of element values that need no character set: UIDs, code strings, binary numbers. */
import type { VR } from './vr.js';

/** ASCII text with trailing NUL/space padding and leading spaces removed. */
export const decodeAscii = (b: Buffer): string =>
  b
    .toString('latin1')
    .replace(/[\0 ]+$/, '')
    .replace(/^ +/, '');

/** A UID (or list of UIDs): padding removed, values split on backslash. */
export const decodeUid = (b: Buffer): string =>
  b
    .toString('latin1')
    .replace(/[\0 ]+$/, '')
    .replace(/^[\0 ]+/, '');

/** Multi-valued default-repertoire string: split on backslash, each value trimmed. */
export const decodeStrings = (b: Buffer): string[] =>
  b.length === 0
    ? []
    : b
        .toString('latin1')
        .replace(/\0+$/, '')
        .split('\\')
        .map((s) => s.trim());

/** Binary numbers of a VR (US, SS, UL, SL, FL, FD, SV, UV, AT as tag numbers); undefined for others. */
export function decodeNumbers(vr: VR, b: Buffer, littleEndian: boolean): number[] | bigint[] | undefined {
  const out: number[] = [];
  const le = littleEndian;
  switch (vr) {
    case 'US':
      for (let o = 0; o + 2 <= b.length; o += 2) out.push(le ? b.readUInt16LE(o) : b.readUInt16BE(o));
      return out;
    case 'SS':
      for (let o = 0; o + 2 <= b.length; o += 2) out.push(le ? b.readInt16LE(o) : b.readInt16BE(o));
      return out;
    case 'UL':
      for (let o = 0; o + 4 <= b.length; o += 4) out.push(le ? b.readUInt32LE(o) : b.readUInt32BE(o));
      return out;
    case 'SL':
      for (let o = 0; o + 4 <= b.length; o += 4) out.push(le ? b.readInt32LE(o) : b.readInt32BE(o));
      return out;
    case 'FL':
      for (let o = 0; o + 4 <= b.length; o += 4) out.push(le ? b.readFloatLE(o) : b.readFloatBE(o));
      return out;
    case 'FD':
      for (let o = 0; o + 8 <= b.length; o += 8) out.push(le ? b.readDoubleLE(o) : b.readDoubleBE(o));
      return out;
    case 'AT':
      for (let o = 0; o + 4 <= b.length; o += 4) {
        const g = le ? b.readUInt16LE(o) : b.readUInt16BE(o);
        const e = le ? b.readUInt16LE(o + 2) : b.readUInt16BE(o + 2);
        out.push(g * 0x10000 + e);
      }
      return out;
    case 'SV': {
      const big: bigint[] = [];
      for (let o = 0; o + 8 <= b.length; o += 8) big.push(le ? b.readBigInt64LE(o) : b.readBigInt64BE(o));
      return big;
    }
    case 'UV': {
      const big: bigint[] = [];
      for (let o = 0; o + 8 <= b.length; o += 8) big.push(le ? b.readBigUInt64LE(o) : b.readBigUInt64BE(o));
      return big;
    }
    default:
      return undefined;
  }
}

/** An unsigned short that may have been written with a VR other than US (UN, implicit): 2 bytes. */
export const decodeUint16 = (b: Buffer, littleEndian: boolean): number | undefined =>
  b.length >= 2 ? (littleEndian ? b.readUInt16LE(0) : b.readUInt16BE(0)) : undefined;
