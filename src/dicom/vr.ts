/**
 * Value Representations (PS3.5 6.2) as a table: how each is encoded (explicit VR header form, padding,
 * word size for byte swapping) and the rules a value must follow (length, character repertoire), for
 * later validation and for decoding.
 */

export const VRS = [
  'AE',
  'AS',
  'AT',
  'CS',
  'DA',
  'DS',
  'DT',
  'FD',
  'FL',
  'IS',
  'LO',
  'LT',
  'OB',
  'OD',
  'OF',
  'OL',
  'OV',
  'OW',
  'PN',
  'SH',
  'SL',
  'SQ',
  'SS',
  'ST',
  'SV',
  'TM',
  'UC',
  'UI',
  'UL',
  'UN',
  'UR',
  'US',
  'UT',
  'UV',
] as const;
export type VR = (typeof VRS)[number];

export type VRKind =
  | 'string' // short strings in the default repertoire (AE, AS, CS, DA, DS, DT, IS, TM, UI)
  | 'text' // strings whose repertoire depends on Specific Character Set (LO, LT, PN, SH, ST, UC, UT)
  | 'uri' // UR
  | 'number' // binary numbers (FD, FL, SL, SS, SV, UL, US, UV)
  | 'tag' // AT
  | 'bulk' // OB, OD, OF, OL, OV, OW, UN
  | 'sequence'; // SQ

export interface VRInfo {
  readonly vr: VR;
  readonly name: string;
  readonly kind: VRKind;
  /** Explicit VR encodes a 2-byte reserved field and a 4-byte length (PS3.5 7.1.2). */
  readonly longLength: boolean;
  /** Byte size of one value unit for byte swapping (1 = never swapped). */
  readonly wordSize: 1 | 2 | 4 | 8;
  /** Padding byte to reach even length. */
  readonly pad: 0x20 | 0x00;
  /** Values separated by backslash (VM > 1 possible). */
  readonly multiValued: boolean;
  /** Max length of one value, in bytes for default-repertoire VRs, in characters for text VRs. */
  readonly maxLength?: number;
  /** Fixed length of one value (binary numbers, AS, AT). */
  readonly fixedLength?: number;
  /** Max length applies per component group (PN: alphabetic=ideographic=phonetic). */
  readonly perComponentGroup?: boolean;
  /** Characters allowed in one value (the default repertoire VRs); checked after removing padding. */
  readonly repertoire?: RegExp;
  /** Shape of one non-empty value, beyond the repertoire. */
  readonly format?: RegExp;
  /** Text VRs: control characters allowed besides ESC (LF, FF, CR, TAB for ST/LT/UT). */
  readonly allowsFormatControls?: boolean;
  /** Decoded through Specific Character Set (0008,0005). */
  readonly usesCharacterSet: boolean;
}

const s = (
  vr: VR,
  name: string,
  kind: VRKind,
  o: Partial<Omit<VRInfo, 'vr' | 'name' | 'kind'>> = {},
): VRInfo => ({
  vr,
  name,
  kind,
  longLength: false,
  wordSize: 1,
  pad: 0x20,
  multiValued: kind === 'string' || kind === 'number' || kind === 'tag',
  usesCharacterSet: kind === 'text',
  ...o,
});

/** Table of PS3.5 Table 6.2-1. */
export const VR_TABLE: Readonly<Record<VR, VRInfo>> = {
  AE: s('AE', 'Application Entity', 'string', { maxLength: 16, repertoire: /^[\x20-\x5b\x5d-\x7e]*$/ }),
  AS: s('AS', 'Age String', 'string', {
    fixedLength: 4,
    repertoire: /^[0-9DWMY]*$/,
    format: /^\d{3}[DWMY]$/,
  }),
  AT: s('AT', 'Attribute Tag', 'tag', { fixedLength: 4, wordSize: 2, pad: 0x00 }),
  CS: s('CS', 'Code String', 'string', { maxLength: 16, repertoire: /^[A-Z0-9 _]*$/ }),
  // ACR-NEMA's "YYYY.MM.DD" is not conformant; queries may use ranges ("-", 18 bytes).
  DA: s('DA', 'Date', 'string', { maxLength: 8, repertoire: /^[0-9]*$/, format: /^\d{8}$/ }),
  DS: s('DS', 'Decimal String', 'string', {
    maxLength: 16,
    repertoire: /^[0-9+\-Ee. ]*$/,
    format: /^ *[+-]?(\d+\.?\d*|\.\d+)([Ee][+-]?\d+)? *$/,
  }),
  DT: s('DT', 'Date Time', 'string', {
    maxLength: 26,
    repertoire: /^[0-9+\-. ]*$/,
    format: /^\d{4}(\d{2}(\d{2}(\d{2}(\d{2}(\d{2}(\.\d{1,6})?)?)?)?)?)?([+-]\d{4})? *$/,
  }),
  FD: s('FD', 'Floating Point Double', 'number', { fixedLength: 8, wordSize: 8, pad: 0x00 }),
  FL: s('FL', 'Floating Point Single', 'number', { fixedLength: 4, wordSize: 4, pad: 0x00 }),
  IS: s('IS', 'Integer String', 'string', {
    maxLength: 12,
    repertoire: /^[0-9+\- ]*$/,
    format: /^ *[+-]?\d+ *$/,
  }),
  LO: s('LO', 'Long String', 'text', { maxLength: 64, multiValued: true }),
  LT: s('LT', 'Long Text', 'text', { maxLength: 10240, multiValued: false, allowsFormatControls: true }),
  OB: s('OB', 'Other Byte', 'bulk', { longLength: true, pad: 0x00, multiValued: false }),
  OD: s('OD', 'Other Double', 'bulk', { longLength: true, wordSize: 8, pad: 0x00, multiValued: false }),
  OF: s('OF', 'Other Float', 'bulk', { longLength: true, wordSize: 4, pad: 0x00, multiValued: false }),
  OL: s('OL', 'Other Long', 'bulk', { longLength: true, wordSize: 4, pad: 0x00, multiValued: false }),
  OV: s('OV', 'Other 64-bit Very Long', 'bulk', {
    longLength: true,
    wordSize: 8,
    pad: 0x00,
    multiValued: false,
  }),
  OW: s('OW', 'Other Word', 'bulk', { longLength: true, wordSize: 2, pad: 0x00, multiValued: false }),
  PN: s('PN', 'Person Name', 'text', { maxLength: 64, perComponentGroup: true, multiValued: true }),
  SH: s('SH', 'Short String', 'text', { maxLength: 16, multiValued: true }),
  SL: s('SL', 'Signed Long', 'number', { fixedLength: 4, wordSize: 4, pad: 0x00 }),
  SQ: s('SQ', 'Sequence of Items', 'sequence', { longLength: true, pad: 0x00, multiValued: false }),
  SS: s('SS', 'Signed Short', 'number', { fixedLength: 2, wordSize: 2, pad: 0x00 }),
  ST: s('ST', 'Short Text', 'text', { maxLength: 1024, multiValued: false, allowsFormatControls: true }),
  SV: s('SV', 'Signed 64-bit Very Long', 'number', {
    longLength: true,
    fixedLength: 8,
    wordSize: 8,
    pad: 0x00,
  }),
  // PS3.5 now says 14 bytes; older editions (and DCMTK) allow 16. 16 avoids predicting rejections
  // that real peers do not make.
  TM: s('TM', 'Time', 'string', {
    maxLength: 16,
    repertoire: /^[0-9.: ]*$/,
    format: /^\d{2}(\d{2}(\d{2}(\.\d{1,6})?)?)? *$/,
  }),
  UC: s('UC', 'Unlimited Characters', 'text', { longLength: true, maxLength: 0xfffffffe, multiValued: true }),
  UI: s('UI', 'Unique Identifier', 'string', {
    maxLength: 64,
    pad: 0x00,
    repertoire: /^[0-9.]*$/,
    format: /^(0|[1-9]\d*)(\.(0|[1-9]\d*))+$/,
  }),
  UL: s('UL', 'Unsigned Long', 'number', { fixedLength: 4, wordSize: 4, pad: 0x00 }),
  UN: s('UN', 'Unknown', 'bulk', { longLength: true, pad: 0x00, multiValued: false }),
  UR: s('UR', 'Universal Resource Identifier', 'uri', {
    longLength: true,
    maxLength: 0xfffffffe,
    multiValued: false,
    repertoire: /^[\x21-\x7e]* *$/,
  }),
  US: s('US', 'Unsigned Short', 'number', { fixedLength: 2, wordSize: 2, pad: 0x00 }),
  UT: s('UT', 'Unlimited Text', 'text', {
    longLength: true,
    maxLength: 0xfffffffe,
    multiValued: false,
    allowsFormatControls: true,
  }),
  UV: s('UV', 'Unsigned 64-bit Very Long', 'number', {
    longLength: true,
    fixedLength: 8,
    wordSize: 8,
    pad: 0x00,
  }),
};

const vrCodes = new Map<number, VR>(VRS.map((v) => [v.charCodeAt(0) * 256 + v.charCodeAt(1), v]));

export const isVR = (s: string): s is VR => Object.prototype.hasOwnProperty.call(VR_TABLE, s);

/** The VR spelled by two bytes (as found in an explicit VR header), or undefined. */
export const vrFromBytes = (b0: number, b1: number): VR | undefined => vrCodes.get(b0 * 256 + b1);

/** Explicit VR: whether the header is 12 bytes (2-byte reserved + 4-byte length) rather than 8. */
export const hasLongLength = (vr: VR): boolean => VR_TABLE[vr].longLength;

export type ValueProblem = 'too-long' | 'bad-character' | 'bad-format' | 'bad-length';

/**
 * Checks one value (already decoded, padding included or not) against the VR rules.
 * Empty values are valid. For text VRs only length and control characters are checked.
 */
export function checkValue(vr: VR, value: string): ValueProblem | undefined {
  const info = VR_TABLE[vr];
  const v = info.pad === 0x00 ? value.replace(/\0+$/, '') : value;
  const core = vr === 'UI' ? v : v.replace(/ +$/, '');
  if (core.length === 0) return undefined;
  if (info.fixedLength !== undefined && info.kind === 'string' && v.length !== info.fixedLength)
    return 'bad-length';
  if (info.maxLength !== undefined) {
    if (info.perComponentGroup) {
      if (v.split('=').some((g) => [...g].length > info.maxLength!)) return 'too-long';
    } else if ([...v].length > info.maxLength) return 'too-long';
  }
  if (info.repertoire && !info.repertoire.test(v)) return 'bad-character';
  if (info.kind === 'text') {
    // ESC (0x1b) is allowed for ISO 2022 code extensions; formatting controls only in ST/LT/UT.
    // eslint-disable-next-line no-control-regex
    const bad = info.allowsFormatControls ? /[\x00-\x08\x0b\x0e-\x1a\x1c-\x1f]/ : /[\x00-\x1a\x1c-\x1f]/;
    if (bad.test(v)) return 'bad-character';
    if (info.multiValued && v.includes('\\')) return 'bad-character';
  }
  if (info.format && !info.format.test(core)) return 'bad-format';
  return undefined;
}
