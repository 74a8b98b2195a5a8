import { TextDecoder } from "node:util";
/**
 * Decode text values with the declared Specific Character Set (0008,0005). Bytes are never
 * re-encoded on the way through; this is for display, matching and reports.
 */
const SINGLE_BYTE: Record<string, string> = {
  '': 'latin1',
  ISO_IR_6: 'latin1',
  'ISO_IR 6': 'latin1',
  'ISO_IR 100': 'latin1',
  'ISO_IR 101': 'iso-8859-2',
  'ISO_IR 109': 'iso-8859-3',
  'ISO_IR 110': 'iso-8859-4',
  'ISO_IR 144': 'iso-8859-5',
  'ISO_IR 127': 'iso-8859-6',
  'ISO_IR 126': 'iso-8859-7',
  'ISO_IR 138': 'iso-8859-8',
  'ISO_IR 148': 'iso-8859-9',
  'ISO_IR 203': 'iso-8859-15',
  'ISO_IR 13': 'shift_jis',
  'ISO_IR 166': 'windows-874',
  'ISO_IR 192': 'utf-8',
  GB18030: 'gb18030',
  GBK: 'gbk',
};

const decoders = new Map<string, TextDecoder>();
function decoder(label: string): TextDecoder {
  let d = decoders.get(label);
  if (!d) {
    d = new TextDecoder(label === 'latin1' ? 'windows-1252' : label, { fatal: false });
    decoders.set(label, d);
  }
  return d;
}

/** The text encoding label for a declared character set, or undefined when unknown. */
export function encodingFor(charset: string | undefined): string | undefined {
  const first = (charset ?? '').split('\\')[0]!.trim();
  if (first in SINGLE_BYTE) return SINGLE_BYTE[first];
  if (first.startsWith('ISO 2022')) {
    const all = (charset ?? '').split('\\');
    if (all.some((c) => c.includes('IR 87') || c.includes('IR 159'))) return 'iso-2022-jp';
    if (all.some((c) => c.includes('IR 149'))) return 'euc-kr';
    if (all.some((c) => c.includes('IR 58'))) return 'gb18030';
    return SINGLE_BYTE[first.replace('ISO 2022 ', 'ISO_')] ?? 'latin1';
  }
  return undefined;
}

export function decodeText(raw: Buffer, charset: string | undefined): string {
  let ascii = true;
  for (let i = 0; i < raw.length; i++) if (raw[i]! > 0x7e || raw[i] === 0x1b) { ascii = false; break; }
  if (ascii) return raw.toString('latin1');
  const label = encodingFor(charset) ?? 'latin1';
  if (label === 'latin1') return raw.toString('latin1');
  try {
    return decoder(label).decode(raw);
  } catch {
    return raw.toString('latin1');
  }
}
