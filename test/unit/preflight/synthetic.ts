/**
 * Synthetic objects for pre-flight tests: a minimal CT image that passes every check, and changes to
 * it (an element replaced, added or removed). Explicit VR little endian, written as Part 10 files.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildPart10Meta } from '../../../src/dicom/meta.js';
import { EXPLICIT_LE, type Encoding } from '../../../src/dicom/transfer-syntax.js';
import type { VR } from '../../../src/dicom/vr.js';
import { el } from '../dicom/build.js';

export const ENC: Encoding = EXPLICIT_LE;
export const CT = '1.2.840.10008.5.1.4.1.1.2';
const TS = '1.2.840.10008.1.2.1';

const pad = (s: string, vr: VR): Buffer => {
  const b = Buffer.from(s, 'latin1');
  return b.length % 2 === 0 ? b : Buffer.concat([b, Buffer.from([vr === 'UI' ? 0 : 0x20])]);
};
const us = (n: number): Buffer => {
  const b = Buffer.alloc(2);
  b.writeUInt16LE(n);
  return b;
};

/** An element with a text value (padded) or raw bytes. */
export const e = (tag: number, vr: VR, value: string | Buffer): Buffer =>
  el(ENC, tag, vr, typeof value === 'string' ? pad(value, vr) : value);
export const u = (tag: number, n: number): Buffer => el(ENC, tag, 'US', us(n));

/** Tag → encoded element of the clean object. */
export function baseline(sop = '1.2.3.4.5.6.7.1'): Map<number, Buffer> {
  const m = new Map<number, Buffer>();
  const put = (b: Buffer, tag: number) => m.set(tag, b);
  put(e(0x00080005, 'CS', 'ISO_IR 100'), 0x00080005);
  put(e(0x00080016, 'UI', CT), 0x00080016);
  put(e(0x00080018, 'UI', sop), 0x00080018);
  put(e(0x00080020, 'DA', '20200102'), 0x00080020);
  put(e(0x00080030, 'TM', '101500'), 0x00080030);
  put(e(0x00080050, 'SH', 'ACC1'), 0x00080050);
  put(e(0x00080060, 'CS', 'CT'), 0x00080060);
  put(e(0x00080070, 'LO', 'ACME'), 0x00080070);
  put(e(0x00080090, 'PN', ''), 0x00080090);
  put(e(0x00100010, 'PN', 'DOE^JANE'), 0x00100010);
  put(e(0x00100020, 'LO', 'P1'), 0x00100020);
  put(e(0x00100030, 'DA', '19700101'), 0x00100030);
  put(e(0x00100040, 'CS', 'F'), 0x00100040);
  put(e(0x0020000d, 'UI', '1.2.3.4.5.6.1'), 0x0020000d);
  put(e(0x0020000e, 'UI', '1.2.3.4.5.6.2'), 0x0020000e);
  put(e(0x00200010, 'SH', 'S1'), 0x00200010);
  put(e(0x00200011, 'IS', '1'), 0x00200011);
  put(u(0x00280002, 1), 0x00280002);
  put(e(0x00280004, 'CS', 'MONOCHROME2'), 0x00280004);
  put(u(0x00280010, 2), 0x00280010);
  put(u(0x00280011, 2), 0x00280011);
  put(u(0x00280100, 16), 0x00280100);
  put(u(0x00280101, 16), 0x00280101);
  put(u(0x00280102, 15), 0x00280102);
  put(u(0x00280103, 0), 0x00280103);
  put(el(ENC, 0x7fe00010, 'OW', Buffer.alloc(8, 7)), 0x7fe00010);
  return m;
}

/**
 * Writes the baseline with `changes` applied (tag → new encoded element(s), or null to remove) and
 * returns the path. Elements are written in tag order.
 */
export function writeObject(
  dir: string,
  name: string,
  changes: Record<number, Buffer | null> = {},
  sop = '1.2.3.4.5.6.7.1',
): string {
  const m = baseline(sop);
  for (const [k, v] of Object.entries(changes)) {
    if (v === null) m.delete(Number(k));
    else m.set(Number(k), v);
  }
  const body = Buffer.concat([...m.entries()].sort(([a], [b]) => a - b).map(([, v]) => v));
  // A File Meta cannot hold an invalid UID: the data set's own value is what is checked.
  const metaSop = /^[0-9.]{1,64}$/.test(sop) ? sop : '1.2.3.4.5.6.7.99';
  const meta = buildPart10Meta({
    sopClassUid: CT,
    sopInstanceUid: metaSop,
    transferSyntaxUid: TS,
    implementationClassUid: '1.2.3',
    implementationVersionName: 'TEST',
  });
  const path = join(dir, name);
  writeFileSync(path, Buffer.concat([meta, body]));
  return path;
}
