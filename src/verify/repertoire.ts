/**
 * Can a peer's answer, in the character set it declares, hold a value at all? Orthanc 1.10 answers
 * C-FIND in its DefaultEncoding (Latin-1 unless configured), whatever the query asks, and drops the
 * characters Latin-1 lacks: a Greek or Japanese name comes back empty or mangled although the stored
 * instance is intact. Such keys are not compared in the listing (the retrieved copies compare them).
 */
import { TextDecoder } from 'node:util';
import { CHARSET_TERMS, parseCharsetTerms } from '../dicom/charset.js';

type Repertoire = ReadonlySet<string> | 'any';

const ASCII: ReadonlySet<string> = new Set(Array.from({ length: 128 }, (_, i) => String.fromCharCode(i)));
const LATIN1: ReadonlySet<string> = new Set(Array.from({ length: 256 }, (_, i) => String.fromCharCode(i)));
/** Multi-byte sets: not enumerated, assumed able to hold any name. */
const WIDE = new Set([
  'utf-8',
  'gb18030',
  'gbk',
  'shift_jis',
  'euc-kr',
  'gb2312',
  'jisx0208',
  'jisx0212',
  'jis-katakana',
]);
const cache = new Map<string, Repertoire>();

function ofLabel(label: string): Repertoire {
  const l = label.replace(/^iso:/, '');
  if (l === 'ascii' || l === 'jis-roman' || l === 'none') return ASCII;
  if (l === 'latin1') return LATIN1;
  if (WIDE.has(l)) return 'any';
  let r = cache.get(l);
  if (r === undefined) {
    try {
      const d = new TextDecoder(l, { fatal: false });
      const set = new Set(ASCII);
      for (let b = 0x80; b <= 0xff; b++) {
        const c = d.decode(Uint8Array.of(b));
        if (c !== '\ufffd') set.add(c);
      }
      r = set;
    } catch {
      r = 'any'; // an encoding Node lacks: do not claim the peer cannot hold the value
    }
    cache.set(l, r);
  }
  return r;
}

/** Whether every character of `text` exists in the declared Specific Character Set (empty: the default repertoire). */
export function canRepresent(text: string, charset: string | undefined): boolean {
  const { terms } = parseCharsetTerms(charset ?? '');
  const parts: Repertoire[] = [];
  for (const t of terms) {
    const info = CHARSET_TERMS[t];
    if (!info) return true;
    if (info.whole) parts.push(ofLabel(info.whole));
    else {
      if (info.g0) parts.push(ofLabel(info.g0));
      if (info.g1) parts.push(ofLabel(info.g1));
    }
  }
  if (parts.includes('any')) return true;
  const sets = parts as ReadonlySet<string>[];
  for (const c of text) if (!sets.some((s) => s.has(c))) return false;
  return true;
}
