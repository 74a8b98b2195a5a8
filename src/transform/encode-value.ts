/**
 * Encoding a new text value into an instance's Specific Character Set (0008,0005): the inverse of
 * src/dicom/charset.ts `decodeText`. Never replaces a character silently: a value that the declared set
 * cannot represent is refused, and every encoding is checked by decoding it back.
 *
 * Supported: the default repertoire (no (0008,0005): ASCII), ISO_IR 192 (UTF-8), the single-byte sets
 * (ISO_IR 100/101/109/110/126/127/138/144/148/166/203/13), and ISO 2022 code extensions of the G1 sets
 * (ISO 8859 parts, KS X 1001 "ISO 2022 IR 149", GB 2312 "ISO 2022 IR 58", JIS X 0201 katakana): a character
 * outside the initial set is written after the escape sequence of the first listed term that holds it, and
 * the initial designations return after each delimiter (PS3.5 6.1.2.5.3), as the decoder expects.
 * Refused ('unsupported-charset') outside ASCII: GB18030, GBK and the G0 sets JIS X 0208/0212 (IR 87/159).
 */
import { TextDecoder } from 'node:util';
import { CHARSET_TERMS, decodeText, parseCharsetTerms } from '../dicom/charset.js';
import type { VR } from '../dicom/vr.js';
import { VR_TABLE } from '../dicom/vr.js';

export type EncodeProblem =
  /** The declared set cannot represent a character of the value. */
  | 'not-representable'
  /** The declared set is unknown, or pacshift cannot write non-ASCII text in it (ISO 2022 escapes, GB18030). */
  | 'unsupported-charset';

export type Encoded = { ok: true; bytes: Buffer } | { ok: false; problem: EncodeProblem; message: string };

/** Byte value of each character a single-byte set holds (built by decoding each byte; cached per label). */
const singleByteTables = new Map<string, Map<string, number>>();

function singleByteTable(label: string): Map<string, number> {
  let t = singleByteTables.get(label);
  if (t) return t;
  t = new Map<string, number>();
  if (label === 'latin1') {
    for (let b = 0; b < 256; b++) t.set(String.fromCharCode(b), b);
  } else {
    const d = new TextDecoder(label, { fatal: true });
    for (let b = 0; b < 256; b++) {
      try {
        const c = d.decode(Uint8Array.of(b));
        // Keep the first byte for a character (single-byte sets map each character once).
        if ([...c].length === 1 && !t.has(c)) t.set(c, b);
      } catch {
        // Not a character of the set.
      }
    }
  }
  singleByteTables.set(label, t);
  return t;
}

/** Single-byte sets usable without escapes: WHATWG label (or 'latin1') by first term. */
const SINGLE_BYTE_OF_G1: Readonly<Record<string, string>> = { latin1: 'latin1', 'jis-katakana': 'shift_jis' };

/** The single-byte set a first term designates initially, 'utf-8', 'ascii', or undefined (not writable). */
function writerFor(term: string): string | undefined {
  const info = CHARSET_TERMS[term];
  if (!info) return undefined;
  if (info.whole) {
    if (info.whole === 'gb18030' || info.whole === 'gbk') return undefined;
    return info.whole; // ascii, latin1, utf-8, iso-8859-x, windows-874, shift_jis (ISO_IR 13: single bytes)
  }
  const g1 = info.g1;
  if (info.g0 !== 'ascii' && info.g0 !== 'jis-roman') return undefined;
  if (!g1 || g1 === 'none') return 'ascii';
  if (g1.startsWith('iso:')) return g1.slice(4);
  return SINGLE_BYTE_OF_G1[g1];
}

/** G1 sets of ISO 2022 terms: escape sequence (after ESC) and how to build the character → bytes table. */
const G1_SETS: Readonly<Record<string, { escape: string; table: () => Map<string, Buffer> }>> = {
  latin1: { escape: '-A', table: () => highHalf('latin1') },
  'iso:iso-8859-2': { escape: '-B', table: () => highHalf('iso-8859-2') },
  'iso:iso-8859-3': { escape: '-C', table: () => highHalf('iso-8859-3') },
  'iso:iso-8859-4': { escape: '-D', table: () => highHalf('iso-8859-4') },
  'iso:iso-8859-5': { escape: '-L', table: () => highHalf('iso-8859-5') },
  'iso:iso-8859-6': { escape: '-G', table: () => highHalf('iso-8859-6') },
  'iso:iso-8859-7': { escape: '-F', table: () => highHalf('iso-8859-7') },
  'iso:iso-8859-8': { escape: '-H', table: () => highHalf('iso-8859-8') },
  'iso:iso-8859-9': { escape: '-M', table: () => highHalf('iso-8859-9') },
  'iso:iso-8859-15': { escape: '-b', table: () => highHalf('iso-8859-15') },
  'iso:windows-874': { escape: '-T', table: () => highHalf('windows-874') },
  'jis-katakana': { escape: ')I', table: () => highHalf('shift_jis') },
  'euc-kr': { escape: '$)C', table: () => doubleByte('euc-kr', 0xa1, 0xfe) },
  gb2312: { escape: '$)A', table: () => doubleByte('gbk', 0xa1, 0xf7) },
};

const g1Tables = new Map<string, Map<string, Buffer>>();
const g1Table = (g1: string): Map<string, Buffer> | undefined => {
  const set = G1_SETS[g1];
  if (!set) return undefined;
  let t = g1Tables.get(g1);
  if (!t) g1Tables.set(g1, (t = set.table()));
  return t;
};

/** Characters of a single-byte set's upper half (bytes ≥ 0xA0). */
function highHalf(label: string): Map<string, Buffer> {
  const m = new Map<string, Buffer>();
  for (const [c, b] of singleByteTable(label)) if (b >= 0xa0) m.set(c, Buffer.of(b));
  return m;
}

/** A 94×94 set in its 8-bit (EUC) form: both bytes in [lo, hi] for the lead, [0xA1, 0xFE] for the trail. */
function doubleByte(label: string, lo: number, hi: number): Map<string, Buffer> {
  const m = new Map<string, Buffer>();
  const d = new TextDecoder(label, { fatal: true });
  for (let a = lo; a <= hi; a++) {
    for (let b = 0xa1; b <= 0xfe; b++) {
      try {
        const c = d.decode(Uint8Array.of(a, b));
        if ([...c].length === 1 && !m.has(c)) m.set(c, Buffer.of(a, b));
      } catch {
        // Unassigned.
      }
    }
  }
  return m;
}

/** The G1 set a first term designates initially (as charset.ts's decoder assumes). */
function initialG1(term: string): string {
  const info = CHARSET_TERMS[term];
  if (!info) return 'none';
  if (info.g1) return info.g1;
  if (info.whole === 'latin1') return 'latin1';
  if (info.whole === 'shift_jis') return 'jis-katakana';
  if (info.whole && info.whole !== 'ascii' && info.whole !== 'utf-8') return `iso:${info.whole}`;
  return 'none';
}

const DELIMITERS = new Set(['\\', '\r', '\n', '\f', '\t']);

/**
 * ISO 2022 with code extensions: G0 stays ASCII; non-ASCII characters go in G1 sets designated by escape
 * sequences, the initial designation coming back after every delimiter (and ^ = in person names).
 */
function encodeIso2022(
  value: string,
  terms: readonly string[],
  isPersonName: boolean,
): Buffer | EncodeProblem {
  const first = CHARSET_TERMS[terms[0] ?? ''];
  if (
    !first ||
    (first.g0 !== undefined && first.g0 !== 'ascii') ||
    (first.whole !== undefined &&
      !['ascii', 'latin1'].includes(first.whole) &&
      !first.whole.startsWith('iso-8859') &&
      first.whole !== 'windows-874')
  )
    return 'unsupported-charset';
  const initial = initialG1(terms[0] ?? '');
  const candidates: string[] = [initial];
  for (const t of terms) {
    const g = CHARSET_TERMS[t]?.g1;
    if (g) candidates.push(g);
  }
  const out: number[] = [];
  let current = initial;
  for (const c of value) {
    const code = c.codePointAt(0)!;
    if (code < 0x80) {
      out.push(code);
      if (DELIMITERS.has(c) || (isPersonName && (c === '^' || c === '='))) current = initial;
      continue;
    }
    const inCurrent = g1Table(current)?.get(c);
    if (inCurrent) {
      out.push(...inCurrent);
      continue;
    }
    const g1 = candidates.find((g) => g1Table(g)?.has(c));
    if (g1 === undefined) return 'not-representable';
    out.push(0x1b, ...Buffer.from(G1_SETS[g1]!.escape, 'latin1'), ...g1Table(g1)!.get(c)!);
    current = g1;
  }
  return Buffer.from(out);
}

const isAscii = (s: string): boolean => [...s].every((c) => c.charCodeAt(0) < 0x80);

/**
 * The bytes of `value` (not padded) for an element of VR `vr` in a data set whose (0008,0005) is `charset`
 * (undefined when absent). Default-repertoire VRs (AE, AS, CS, DA, DS, DT, IS, TM, UR) take ASCII only.
 */
export function encodeValue(value: string, vr: VR, charset: string | undefined): Encoded {
  if (isAscii(value)) {
    // ASCII is G0 of every set pacshift writes; ISO 2022 IR 13 (JIS X 0201 Roman) differs only in
    // the meaning of 0x5C and 0x7E, which the decoder reads back as ASCII too.
    return { ok: true, bytes: Buffer.from(value, 'latin1') };
  }
  if (!VR_TABLE[vr].usesCharacterSet) {
    return {
      ok: false,
      problem: 'not-representable',
      message: `VR ${vr} holds the default repertoire (ASCII) only`,
    };
  }
  const { terms } = parseCharsetTerms(charset ?? '');
  const first = terms[0] ?? '';
  if (terms.length > 1 || first.startsWith('ISO 2022')) {
    const r = encodeIso2022(value, terms, vr === 'PN');
    if (typeof r === 'string')
      return {
        ok: false,
        problem: r,
        message:
          r === 'not-representable'
            ? `a character of the value is in none of the sets of Specific Character Set "${charset ?? ''}"`
            : `cannot write non-ASCII text with the code extensions of Specific Character Set "${charset ?? ''}"`,
      };
    return checked(r, value, vr, charset);
  }
  const label = writerFor(first);
  if (label === undefined) {
    return {
      ok: false,
      problem: 'unsupported-charset',
      message: `cannot write non-ASCII text in Specific Character Set "${charset ?? ''}" (first term not writable)`,
    };
  }
  let bytes: Buffer;
  if (label === 'ascii') {
    return {
      ok: false,
      problem: charset === undefined || terms.length === 1 ? 'not-representable' : 'unsupported-charset',
      message:
        charset === undefined
          ? 'no Specific Character Set (0008,0005): the default repertoire is ASCII only'
          : `Specific Character Set "${charset}" starts with ASCII: non-ASCII text would need ISO 2022 escapes`,
    };
  } else if (label === 'utf-8') {
    bytes = Buffer.from(value, 'utf8');
  } else {
    const table = singleByteTable(label);
    const out: number[] = [];
    for (const c of value) {
      const b = c.charCodeAt(0) < 0x80 && c.length === 1 ? c.charCodeAt(0) : table.get(c);
      if (b === undefined) {
        return {
          ok: false,
          problem: terms.length > 1 ? 'unsupported-charset' : 'not-representable',
          message: `a character of the value is not in Specific Character Set "${charset ?? ''}"`,
        };
      }
      out.push(b);
    }
    bytes = Buffer.from(out);
  }
  return checked(bytes, value, vr, charset);
}

/** The proof: what a reader decodes is what was asked for. */
function checked(bytes: Buffer, value: string, vr: VR, charset: string | undefined): Encoded {
  const back = decodeText(bytes, charset, vr === 'PN');
  if (back.text !== value) {
    return {
      ok: false,
      problem: 'not-representable',
      message: `the value does not read back unchanged under Specific Character Set "${charset ?? ''}"`,
    };
  }
  return { ok: true, bytes };
}
