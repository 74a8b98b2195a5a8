/**
 * Which elements a transform may read and change, and how their values are compared and checked: a
 * keyword from the data dictionary whose VR holds text (string, text or URI kinds; never a UID —
 * the plan refuses those — a binary number, a bulk value or a sequence).
 */
import { lookupKeyword } from '../dicom/keyword.js';
import { checkValue, isVR, VR_TABLE, type ValueProblem, type VR } from '../dicom/vr.js';
import { normaliseName } from '../analyse/normalise.js';

export interface ElementRef {
  readonly keyword: string;
  readonly tag: number;
  readonly vr: VR;
}

/** VR kinds a rule may write: values that are text in the data set. */
const WRITABLE_KINDS = new Set(['string', 'text', 'uri']);

/** A VR whose values pacshift may write: text, never a UID (identifiers are not edited). */
export const isWritableVr = (vr: VR): boolean => WRITABLE_KINDS.has(VR_TABLE[vr].kind) && vr !== 'UI';

export type ElementLookup = { ok: true; element: ElementRef } | { ok: false; message: string };

/** A keyword the transform may set (or match on, with `forMatch`). */
export function element(keyword: string, forMatch = false): ElementLookup {
  const e = lookupKeyword(keyword);
  if (!e || e.keyword !== keyword)
    return { ok: false, message: `${keyword} is not a keyword of the DICOM data dictionary` };
  if (!isVR(e.vr)) return { ok: false, message: `${keyword} has no single VR (${e.vr})` };
  const info = VR_TABLE[e.vr];
  if (!WRITABLE_KINDS.has(info.kind) && !(forMatch && e.vr === 'UI'))
    return {
      ok: false,
      message: `${keyword} has VR ${e.vr} (${info.name}): only text elements can be ${forMatch ? 'matched' : 'changed'}`,
    };
  return { ok: true, element: { keyword, tag: e.tag, vr: e.vr } };
}

const PROBLEM_TEXT: Readonly<Record<ValueProblem, (vr: VR) => string>> = {
  'too-long': (vr) => `is longer than ${vr} allows (${VR_TABLE[vr].maxLength ?? VR_TABLE[vr].fixedLength})`,
  'bad-character': (vr) => `has characters ${vr} does not allow`,
  'bad-format': (vr) =>
    vr === 'DA'
      ? 'is not a DICOM date YYYYMMDD'
      : vr === 'TM'
        ? 'is not a DICOM time HHMMSS'
        : `is not a valid ${vr} value`,
  'bad-length': (vr) => `does not have the fixed length of ${vr} (${VR_TABLE[vr].fixedLength})`,
};

/** Why a value is not valid for the element's VR (the text never contains the value), or undefined. */
export function valueProblem(el: ElementRef, value: string): string | undefined {
  const p = checkValue(el.vr, value);
  return p ? PROBLEM_TEXT[p](el.vr) : undefined;
}

/** How a value is compared when matching: PN after normalising case, spaces and trailing `^`; others trimmed. */
export function matchForm(vr: VR, value: string | null | undefined): string {
  if (value === null || value === undefined) return '';
  return vr === 'PN' ? normaliseName(value) : value.trim();
}

/** A value as it is compared for "does this change anything": trailing padding (spaces, NULs) is not content. */
export const valueForm = (value: string | null | undefined): string => (value ?? '').replace(/[ \0]+$/, '');
