/**
 * Encode and decode small data sets: C-FIND identifiers, C-MOVE/C-GET keys, storage commitment
 * requests and reports. Not for instances: those pass through byte for byte.
 */
import { decodeText } from './text.js';
import { vrOf } from './keyword.js';

export type ElementValue = string | string[] | number | number[] | Buffer | SmallDataset[] | null;
export type SmallDataset = Map<number, { vr: string; value: ElementValue }>;

const LONG_VRS = new Set(['OB', 'OD', 'OF', 'OL', 'OV', 'OW', 'SQ', 'SV', 'UC', 'UN', 'UR', 'UT', 'UV']);
const STRING_VRS = new Set([
  'AE',
  'AS',
  'CS',
  'DA',
  'DS',
  'DT',
  'IS',
  'LO',
  'LT',
  'PN',
  'SH',
  'ST',
  'TM',
  'UC',
  'UI',
  'UR',
  'UT',
]);

export interface Encoding {
  explicit: boolean;
}
export const IMPLICIT_LE = '1.2.840.10008.1.2';
export const EXPLICIT_LE = '1.2.840.10008.1.2.1';
export const encodingOf = (tsUid: string): Encoding => ({ explicit: tsUid !== IMPLICIT_LE });

function encodeValue(vr: string, value: ElementValue, enc: Encoding): Buffer {
  if (value === null) return Buffer.alloc(0);
  if (Buffer.isBuffer(value)) return value.length % 2 ? Buffer.concat([value, Buffer.from([0])]) : value;
  if (vr === 'SQ') {
    const items = value as SmallDataset[];
    const parts: Buffer[] = [];
    for (const item of items) {
      const body = encodeSmallDataset(item, enc);
      const h = Buffer.alloc(8);
      h.writeUInt16LE(0xfffe, 0);
      h.writeUInt16LE(0xe000, 2);
      h.writeUInt32LE(body.length, 4);
      parts.push(h, body);
    }
    return Buffer.concat(parts);
  }
  if (STRING_VRS.has(vr)) {
    const s = Array.isArray(value) ? value.join('\\') : String(value);
    const b = Buffer.from(s, 'utf8');
    if (b.length % 2 === 0) return b;
    return Buffer.concat([b, Buffer.from([vr === 'UI' ? 0 : 0x20])]);
  }
  const nums = Array.isArray(value) ? (value as number[]) : [value as number];
  const size = vr === 'US' || vr === 'SS' ? 2 : vr === 'FD' ? 8 : 4;
  const b = Buffer.alloc(nums.length * size);
  nums.forEach((n, i) => {
    if (vr === 'US') b.writeUInt16LE(n, i * 2);
    else if (vr === 'SS') b.writeInt16LE(n, i * 2);
    else if (vr === 'UL') b.writeUInt32LE(n, i * 4);
    else if (vr === 'SL') b.writeInt32LE(n, i * 4);
    else if (vr === 'FL') b.writeFloatLE(n, i * 4);
    else if (vr === 'FD') b.writeDoubleLE(n, i * 8);
    else if (vr === 'AT') {
      b.writeUInt16LE(n >>> 16, i * 4);
      b.writeUInt16LE(n & 0xffff, i * 4 + 2);
    } else throw new Error(`cannot encode a number as ${vr}`);
  });
  return b;
}

export function encodeSmallDataset(ds: SmallDataset, enc: Encoding): Buffer {
  const tags = [...ds.keys()].sort((a, b) => a - b);
  const parts: Buffer[] = [];
  for (const tag of tags) {
    const { vr, value } = ds.get(tag)!;
    const v = encodeValue(vr, value, enc);
    let h: Buffer;
    if (!enc.explicit) {
      h = Buffer.alloc(8);
      h.writeUInt32LE(v.length, 4);
    } else if (LONG_VRS.has(vr)) {
      h = Buffer.alloc(12);
      h.write(vr, 4, 'latin1');
      h.writeUInt32LE(v.length, 8);
    } else {
      h = Buffer.alloc(8);
      h.write(vr, 4, 'latin1');
      h.writeUInt16LE(v.length, 6);
    }
    h.writeUInt16LE(tag >>> 16, 0);
    h.writeUInt16LE(tag & 0xffff, 2);
    parts.push(h, v);
  }
  return Buffer.concat(parts);
}

export class SmallDatasetError extends Error {}

interface DecodeState {
  charset: string | undefined;
}

function decodeItems(buf: Buffer, enc: Encoding, st: DecodeState, depth: number): SmallDataset[] {
  const items: SmallDataset[] = [];
  let off = 0;
  while (off + 8 <= buf.length) {
    const g = buf.readUInt16LE(off);
    const e = buf.readUInt16LE(off + 2);
    const len = buf.readUInt32LE(off + 4);
    off += 8;
    if (g !== 0xfffe) throw new SmallDatasetError('sequence item expected');
    if (e === 0xe0dd) break;
    if (e !== 0xe000) continue;
    if (len === 0xffffffff) {
      const { ds, end } = decodeRange(buf, off, buf.length, enc, st, depth + 1, true);
      items.push(ds);
      off = end;
    } else {
      if (off + len > buf.length) throw new SmallDatasetError('item overruns its sequence');
      items.push(decodeRange(buf, off, off + len, enc, st, depth + 1, false).ds);
      off += len;
    }
  }
  return items;
}

/** Find the end of an undefined-length sequence starting at `off` (after its header). */
function undefinedSequenceEnd(buf: Buffer, off: number, enc: Encoding, depth: number): number {
  while (off + 8 <= buf.length) {
    const g = buf.readUInt16LE(off);
    const e = buf.readUInt16LE(off + 2);
    const len = buf.readUInt32LE(off + 4);
    off += 8;
    if (g === 0xfffe && e === 0xe0dd) return off;
    if (g === 0xfffe && e === 0xe000) {
      if (len === 0xffffffff)
        off = decodeRange(buf, off, buf.length, enc, { charset: undefined }, depth + 1, true).end;
      else off += len;
    } else throw new SmallDatasetError('malformed undefined-length sequence');
  }
  throw new SmallDatasetError('unterminated sequence');
}

function decodeRange(
  buf: Buffer,
  start: number,
  end: number,
  enc: Encoding,
  st: DecodeState,
  depth: number,
  untilDelimiter: boolean,
): { ds: SmallDataset; end: number } {
  if (depth > 16) throw new SmallDatasetError('sequences nested too deeply');
  const ds: SmallDataset = new Map();
  let off = start;
  while (off < end) {
    if (off + 8 > end) throw new SmallDatasetError('element header truncated');
    const tag = ((buf.readUInt16LE(off) << 16) | buf.readUInt16LE(off + 2)) >>> 0;
    if (tag === 0xfffee00d) {
      off += 8;
      if (untilDelimiter) return { ds, end: off };
      continue;
    }
    let vr: string;
    let len: number;
    if (enc.explicit) {
      vr = buf.toString('latin1', off + 4, off + 6);
      if (LONG_VRS.has(vr)) {
        len = buf.readUInt32LE(off + 8);
        off += 12;
      } else {
        len = buf.readUInt16LE(off + 6);
        off += 8;
      }
    } else {
      vr = vrOf(tag);
      len = buf.readUInt32LE(off + 4);
      off += 8;
    }
    if (len === 0xffffffff) {
      if (vr !== 'SQ' && vr !== 'UN') throw new SmallDatasetError('undefined length on a non-sequence');
      const seqEnd = undefinedSequenceEnd(buf, off, enc, depth);
      ds.set(tag, { vr: 'SQ', value: decodeItems(buf.subarray(off, seqEnd), enc, st, depth) });
      off = seqEnd;
      continue;
    }
    if (off + len > end) throw new SmallDatasetError('element value overruns the data set');
    const raw = buf.subarray(off, off + len);
    off += len;
    if (vr === 'SQ') {
      ds.set(tag, { vr, value: decodeItems(raw, enc, st, depth) });
      continue;
    }
    if (tag === 0x00080005) st.charset = raw.toString('latin1').replace(/[\0 ]+$/, '');
    ds.set(tag, { vr, value: decodeElementValue(vr, raw, st.charset) });
  }
  return { ds, end: off };
}

function decodeElementValue(vr: string, raw: Buffer, charset: string | undefined): ElementValue {
  if (STRING_VRS.has(vr)) {
    const s = ['PN', 'LO', 'SH', 'LT', 'ST', 'UT', 'UC'].includes(vr)
      ? decodeText(raw, charset, vr === 'PN')
      : raw.toString('latin1');
    return s.replace(/[\0 ]+$/, '').replace(/^ +/, '');
  }
  const n = (size: number, read: (o: number) => number): number | number[] => {
    const out: number[] = [];
    for (let i = 0; i + size <= raw.length; i += size) out.push(read(i));
    return out.length === 1 ? out[0]! : out;
  };
  switch (vr) {
    case 'US':
      return n(2, (o) => raw.readUInt16LE(o));
    case 'SS':
      return n(2, (o) => raw.readInt16LE(o));
    case 'UL':
      return n(4, (o) => raw.readUInt32LE(o));
    case 'SL':
      return n(4, (o) => raw.readInt32LE(o));
    case 'FL':
      return n(4, (o) => raw.readFloatLE(o));
    case 'FD':
      return n(8, (o) => raw.readDoubleLE(o));
    case 'AT':
      return n(4, (o) => ((raw.readUInt16LE(o) << 16) | raw.readUInt16LE(o + 2)) >>> 0);
    default:
      return Buffer.from(raw);
  }
}

export function decodeSmallDataset(buf: Buffer, enc: Encoding): SmallDataset {
  return decodeRange(buf, 0, buf.length, enc, { charset: undefined }, 0, false).ds;
}

/** The first string value of an element ('' when absent or empty). */
export function str(ds: SmallDataset, tag: number): string {
  const e = ds.get(tag);
  if (!e || e.value === null) return '';
  if (typeof e.value === 'string') return e.value;
  if (Array.isArray(e.value) && typeof e.value[0] === 'string') return e.value.join('\\');
  if (typeof e.value === 'number') return String(e.value);
  return '';
}

export function num(ds: SmallDataset, tag: number): number | undefined {
  const e = ds.get(tag);
  if (!e) return undefined;
  if (typeof e.value === 'number') return e.value;
  if (typeof e.value === 'string' && e.value.trim() !== '') {
    const v = Number(e.value.split('\\')[0]);
    return Number.isFinite(v) ? v : undefined;
  }
  return undefined;
}
