/**
 * Encoding a new text value into an instance's Specific Character Set (0008,0005): the inverse of
 * src/dicom/charset.ts `decodeText`. Never replaces a character silently: a value that the declared set
 * cannot represent is refused, and every encoding is checked by decoding it back.
 *
 * Supported: the default repertoire (no (0008,0005): ASCII), ISO_IR 192 (UTF-8), and the single-byte sets
 * (ISO_IR 100/101/109/110/126/127/138/144/148/166/203/13), also as the first term of an ISO 2022 value
 * ("ISO 2022 IR 100", or any value list) when the value needs no escape sequence: the initial
 * designations of the first term are used. Values that would need ISO 2022 escapes, GB18030 or GBK
 * outside ASCII are refused ('unsupported'): pacshift does not write those yet.
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
  // The proof: what a reader decodes is what was asked for.
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
