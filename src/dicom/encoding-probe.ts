/**
 * Checks how the first elements of a data set are really encoded: explicit or implicit VR, little or
 * big endian. Used to catch a File Meta that lies about its transfer syntax, and to describe files that
 * have no meta. Reads only the given head buffer.
 */
import { describeEncoding, EXPLICIT_BE, EXPLICIT_LE, IMPLICIT_LE, type Encoding } from './transfer-syntax.js';
import { vrFromBytes, VR_TABLE } from './vr.js';

export interface ProbeResult {
  readonly ok: boolean;
  /** Elements that parsed plausibly. */
  readonly elements: number;
  readonly reason?: string;
}

const PROBE_ELEMENTS = 8;

/**
 * Parses up to 8 top-level elements of `head` (the data set's first bytes) with `enc`: tags must
 * ascend, explicit VRs must be valid, lengths must fit in `available` bytes (the rest of the file).
 */
export function probeEncoding(head: Buffer, enc: Encoding, available: number): ProbeResult {
  const le = enc.littleEndian;
  let pos = 0;
  let prev = -1;
  let n = 0;
  while (n < PROBE_ELEMENTS) {
    if (pos + 8 > head.length) return { ok: n > 0 || pos >= available, elements: n };
    const g = le ? head.readUInt16LE(pos) : head.readUInt16BE(pos);
    const e = le ? head.readUInt16LE(pos + 2) : head.readUInt16BE(pos + 2);
    const t = g * 0x10000 + e;
    if (t <= prev) return { ok: false, elements: n, reason: `tags not ascending at ${pos}` };
    if (g === 0xfffe) return { ok: false, elements: n, reason: `delimiter at ${pos} outside a sequence` };
    let len: number;
    let hl: number;
    if (enc.explicitVr) {
      const vr = vrFromBytes(head[pos + 4]!, head[pos + 5]!);
      if (!vr) return { ok: false, elements: n, reason: `invalid VR at ${pos}` };
      if (VR_TABLE[vr].longLength) {
        if (pos + 12 > head.length) return { ok: n > 0, elements: n };
        len = le ? head.readUInt32LE(pos + 8) : head.readUInt32BE(pos + 8);
        hl = 12;
        if (len === 0xffffffff) {
          return vr === 'SQ' || vr === 'UN' || vr === 'OB' || vr === 'OW'
            ? { ok: true, elements: n + 1 }
            : { ok: false, elements: n, reason: `undefined length with VR ${vr} at ${pos}` };
        }
      } else {
        len = le ? head.readUInt16LE(pos + 6) : head.readUInt16BE(pos + 6);
        hl = 8;
      }
    } else {
      len = le ? head.readUInt32LE(pos + 4) : head.readUInt32BE(pos + 4);
      hl = 8;
      if (len === 0xffffffff) return { ok: true, elements: n + 1 };
    }
    if (pos + hl + len > available)
      return { ok: false, elements: n, reason: `length ${len} at ${pos} beyond the end` };
    pos += hl + len;
    prev = t;
    n++;
  }
  return { ok: true, elements: n };
}

export const CANDIDATE_ENCODINGS: readonly Encoding[] = [EXPLICIT_LE, IMPLICIT_LE, EXPLICIT_BE];

/** The encodings (other than `except`) under which the head parses plausibly, best first. */
export function plausibleEncodings(head: Buffer, available: number, except?: Encoding): Encoding[] {
  return CANDIDATE_ENCODINGS.filter(
    (e) => !(except && e.explicitVr === except.explicitVr && e.littleEndian === except.littleEndian),
  )
    .map((e) => ({ e, r: probeEncoding(head, e, available) }))
    .filter((x) => x.r.ok && x.r.elements > 0)
    .sort((a, b) => b.r.elements - a.r.elements)
    .map((x) => x.e);
}

export { describeEncoding };

/** Tags nearly every composite instance carries early on: (0008,0005), (0008,0008), (0008,0016), (0008,0018). */
const SNIFF_TAGS = [0x0005, 0x0008, 0x0016, 0x0018].flatMap((e) => [
  Buffer.from([0x08, 0x00, e & 0xff, e >> 8]), // little endian
  Buffer.from([0x00, 0x08, e >> 8, e & 0xff]), // big endian
]);

/**
 * Whether a head that parses under no encoding still holds DICOM elements (e.g. a data set that does
 * not start at offset 0): one of the common group 0008 tags within the first KiB.
 */
export const containsDicomTags = (head: Buffer): boolean => {
  const h = head.subarray(0, 1024);
  return SNIFF_TAGS.some((t) => h.includes(t));
};
