/**
 * Decoding text with the declared Specific Character Set (0008,0005), PS3.5 6.1 and PS3.3 C.12.1.1.2:
 * single-byte sets, UTF-8, GB18030/GBK, and ISO 2022 code extensions (Japanese, Korean, Chinese, and
 * the ISO 8859 parts). When a value cannot be decoded with confidence, the caller keeps the bytes.
 */
import { TextDecoder } from 'node:util';

export type CharsetProblem =
  | 'unknown-charset' // a term we do not know
  | 'nonstandard-term' // e.g. "ISO-IR 100": understood, but not a defined term
  | 'non-ascii-without-charset' // bytes ≥ 0x80 with no (0008,0005)
  | 'undecodable'; // bytes invalid in the declared set

export interface DecodedText {
  /** Undefined when the bytes could not be decoded with confidence. */
  readonly text: string | undefined;
  readonly problem?: CharsetProblem;
}

/** A G0 (7-bit) or G1 (8-bit) character set. */
type G0 = 'ascii' | 'jis-roman' | 'jisx0208' | 'jisx0212';
type G1 = 'none' | 'latin1' | 'jis-katakana' | 'euc-kr' | 'gb2312' | `iso:${string}`;

interface TermInfo {
  /** Whole-value decoder for sets without code extensions. */
  readonly whole?: string;
  /** Initial G0/G1 designations for ISO 2022 terms. */
  readonly g0?: G0;
  readonly g1?: G1;
}

/** Defined terms of PS3.3 Tables C.12-2 to C.12-5. `whole` is a WHATWG encoding label or 'latin1'. */
export const CHARSET_TERMS: Readonly<Record<string, TermInfo>> = {
  '': { whole: 'ascii' },
  ISO_IR_6: { whole: 'ascii' },
  'ISO_IR 6': { whole: 'ascii' },
  'ISO_IR 100': { whole: 'latin1' },
  'ISO_IR 101': { whole: 'iso-8859-2' },
  'ISO_IR 109': { whole: 'iso-8859-3' },
  'ISO_IR 110': { whole: 'iso-8859-4' },
  'ISO_IR 144': { whole: 'iso-8859-5' },
  'ISO_IR 127': { whole: 'iso-8859-6' },
  'ISO_IR 126': { whole: 'iso-8859-7' },
  'ISO_IR 138': { whole: 'iso-8859-8' },
  'ISO_IR 148': { whole: 'iso-8859-9' },
  'ISO_IR 203': { whole: 'iso-8859-15' },
  'ISO_IR 13': { whole: 'shift_jis' },
  'ISO_IR 166': { whole: 'windows-874' },
  'ISO_IR 192': { whole: 'utf-8' },
  GB18030: { whole: 'gb18030' },
  GBK: { whole: 'gbk' },
  'ISO 2022 IR 6': { g0: 'ascii', g1: 'none' },
  'ISO 2022 IR 100': { g0: 'ascii', g1: 'latin1' },
  'ISO 2022 IR 101': { g0: 'ascii', g1: 'iso:iso-8859-2' },
  'ISO 2022 IR 109': { g0: 'ascii', g1: 'iso:iso-8859-3' },
  'ISO 2022 IR 110': { g0: 'ascii', g1: 'iso:iso-8859-4' },
  'ISO 2022 IR 144': { g0: 'ascii', g1: 'iso:iso-8859-5' },
  'ISO 2022 IR 127': { g0: 'ascii', g1: 'iso:iso-8859-6' },
  'ISO 2022 IR 126': { g0: 'ascii', g1: 'iso:iso-8859-7' },
  'ISO 2022 IR 138': { g0: 'ascii', g1: 'iso:iso-8859-8' },
  'ISO 2022 IR 148': { g0: 'ascii', g1: 'iso:iso-8859-9' },
  'ISO 2022 IR 203': { g0: 'ascii', g1: 'iso:iso-8859-15' },
  'ISO 2022 IR 166': { g0: 'ascii', g1: 'iso:windows-874' },
  'ISO 2022 IR 13': { g0: 'jis-roman', g1: 'jis-katakana' },
  'ISO 2022 IR 87': { g0: 'jisx0208', g1: 'none' },
  'ISO 2022 IR 159': { g0: 'jisx0212', g1: 'none' },
  'ISO 2022 IR 149': { g0: 'ascii', g1: 'euc-kr' },
  'ISO 2022 IR 58': { g0: 'ascii', g1: 'gb2312' },
};

/** Escape sequences (without ESC) → designation. */
const ESCAPES: ReadonlyArray<readonly [string, { g0?: G0; g1?: G1 }]> = [
  ['(B', { g0: 'ascii' }],
  ['(J', { g0: 'jis-roman' }],
  [')I', { g1: 'jis-katakana' }],
  ['$B', { g0: 'jisx0208' }],
  ['$@', { g0: 'jisx0208' }],
  ['$(D', { g0: 'jisx0212' }],
  ['$)C', { g1: 'euc-kr' }],
  ['$)A', { g1: 'gb2312' }],
  ['-A', { g1: 'latin1' }],
  ['-B', { g1: 'iso:iso-8859-2' }],
  ['-C', { g1: 'iso:iso-8859-3' }],
  ['-D', { g1: 'iso:iso-8859-4' }],
  ['-L', { g1: 'iso:iso-8859-5' }],
  ['-G', { g1: 'iso:iso-8859-6' }],
  ['-F', { g1: 'iso:iso-8859-7' }],
  ['-H', { g1: 'iso:iso-8859-8' }],
  ['-M', { g1: 'iso:iso-8859-9' }],
  ['-b', { g1: 'iso:iso-8859-15' }],
  ['-T', { g1: 'iso:windows-874' }],
];

const decoders = new Map<string, TextDecoder>();
function decodeWith(label: string, bytes: Uint8Array): string {
  if (label === 'latin1' || label === 'ascii')
    return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('latin1');
  let d = decoders.get(label);
  if (!d) decoders.set(label, (d = new TextDecoder(label, { fatal: true })));
  return d.decode(bytes);
}

/**
 * Normalises a (0008,0005) value into its terms. The first value may be empty (default repertoire)
 * when code extensions follow. Common misspellings ("ISO-IR 100", "ISO_IR100") are understood.
 */
export function parseCharsetTerms(value: string): { terms: string[]; nonstandard: boolean } {
  let nonstandard = false;
  const terms = value.split('\\').map((raw) => {
    const t = raw.trim();
    if (t in CHARSET_TERMS) return t;
    const fixed = t
      .toUpperCase()
      .replace(/^ISO[-_ ]?IR[-_ ]?(\d+)$/, 'ISO_IR $1')
      .replace(/^ISO[-_ ]?2022[-_ ]?IR[-_ ]?(\d+)$/, 'ISO 2022 IR $1');
    if (fixed !== t) nonstandard = true;
    return fixed;
  });
  return { terms, nonstandard };
}

const DELIMITERS = new Set([0x5c, 0x0d, 0x0a, 0x0c, 0x09]); // \ CR LF FF TAB
const PN_DELIMITERS = new Set([0x5e, 0x3d]); // ^ =

/**
 * Decodes a text value (SH, LO, ST, LT, UT, PN, UC) with the Specific Character Set terms.
 * Trailing padding is not removed here.
 */
export function decodeText(bytes: Buffer, charset: string | undefined, isPersonName = false): DecodedText {
  const { terms, nonstandard } = parseCharsetTerms(charset ?? '');
  const problem = nonstandard ? ({ problem: 'nonstandard-term' } as const) : {};
  const first = terms[0] ?? '';
  const info = CHARSET_TERMS[first];
  if (!info || terms.slice(1).some((t) => !(t in CHARSET_TERMS)))
    return { text: undefined, problem: 'unknown-charset' };
  const ascii = bytes.every((b) => b < 0x80 && b !== 0x1b);
  if (ascii) return { text: bytes.toString('latin1'), ...problem };
  const extended = terms.length > 1 || first.startsWith('ISO 2022') || bytes.includes(0x1b);
  try {
    if (!extended) {
      if (info.whole === 'ascii') return { text: undefined, problem: 'non-ascii-without-charset' };
      return { text: decodeWith(info.whole!, bytes), ...problem };
    }
    return { text: decodeIso2022(bytes, info, isPersonName), ...problem };
  } catch {
    return { text: undefined, problem: 'undecodable' };
  }
}

function decodeIso2022(bytes: Buffer, initial: TermInfo, isPersonName: boolean): string {
  // A first term without code extensions ("ISO_IR 100") is its ISO 2022 equivalent.
  const g0Init: G0 = initial.g0 ?? (initial.whole === 'shift_jis' ? 'jis-roman' : 'ascii');
  const g1Init: G1 =
    initial.g1 ??
    (initial.whole === 'latin1'
      ? 'latin1'
      : initial.whole === 'shift_jis'
        ? 'jis-katakana'
        : initial.whole && initial.whole !== 'ascii'
          ? `iso:${initial.whole}`
          : 'none');
  let g0 = g0Init;
  let g1 = g1Init;
  let out = '';
  let i = 0;
  while (i < bytes.length) {
    const b = bytes[i]!;
    if (b === 0x1b) {
      const esc = ESCAPES.find(([seq]) => bytes.toString('latin1', i + 1, i + 1 + seq.length) === seq);
      if (!esc) throw new Error(`unknown escape at ${i}`);
      if (esc[1].g0) g0 = esc[1].g0;
      if (esc[1].g1) g1 = esc[1].g1;
      i += 1 + esc[0].length;
      continue;
    }
    // A run of bytes decoded under the current designations.
    let j = i;
    const twoByteG0 = g0 === 'jisx0208' || g0 === 'jisx0212';
    while (j < bytes.length && bytes[j] !== 0x1b) {
      const c = bytes[j]!;
      if (!twoByteG0 && c < 0x80 && (DELIMITERS.has(c) || (isPersonName && PN_DELIMITERS.has(c)))) break;
      j++;
    }
    if (j > i) {
      out += decodeRun(bytes.subarray(i, j), g0, g1);
      i = j;
    }
    if (i < bytes.length && bytes[i] !== 0x1b) {
      // A delimiter: emit it and return to the initial designations (PS3.5 6.1.2.5.3).
      out += String.fromCharCode(bytes[i]!);
      g0 = g0Init;
      g1 = g1Init;
      i++;
    }
  }
  return out;
}

function decodeRun(run: Buffer, g0: G0, g1: G1): string {
  if (g0 === 'jisx0208' || g0 === 'jisx0212') {
    // 7-bit two-byte codes → EUC-JP (JIS X 0212 with the SS3 prefix).
    const euc: number[] = [];
    for (let k = 0; k + 1 < run.length; k += 2) {
      if (g0 === 'jisx0212') euc.push(0x8f);
      euc.push(run[k]! | 0x80, run[k + 1]! | 0x80);
    }
    if (run.length % 2) throw new Error('odd JIS X 0208 run');
    return decodeWith('euc-jp', Uint8Array.from(euc));
  }
  const high = run.some((c) => c >= 0x80);
  if (!high) return run.toString('latin1'); // ASCII or JIS X 0201 romaji (backslash kept as the delimiter)
  switch (g1) {
    case 'none':
      throw new Error('8-bit byte with no G1 set');
    case 'latin1':
      return run.toString('latin1');
    case 'jis-katakana':
      return decodeWith('shift_jis', run);
    case 'euc-kr':
      return decodeWith('euc-kr', run);
    case 'gb2312':
      return decodeWith('gbk', run);
    default:
      return decodeWith(g1.slice(4), run);
  }
}
