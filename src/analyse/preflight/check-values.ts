/**
 * Values against their VR (PS3.5 6.2, src/dicom/vr.ts checkValue): length, repertoire and form of
 * every string and text value at every depth. Private elements are left alone (their VR is the
 * writer's business) except Private Creators; a value written as UN is judged by the dictionary VR.
 */
import { checkValue, VR_TABLE, type ValueProblem, type VR } from '../../dicom/vr.js';
import { isPrivateCreator } from '../../dicom/tag.js';
import type { ObjectElement } from './read-object.js';

export interface ValueFinding {
  readonly problem: ValueProblem;
  readonly element: ObjectElement;
  readonly vr: VR;
}

/** The VR a value is judged by: as written, or the dictionary's when written as UN. */
export function meaningVr(e: ObjectElement): VR {
  return e.vr === 'UN' && e.dictionaryVr && e.dictionaryVr !== 'SQ' ? e.dictionaryVr : e.vr;
}

/** The first problem of one element's values, if any. */
export function checkElement(e: ObjectElement): ValueFinding | undefined {
  if (e.content !== 'value' || e.text === undefined) return undefined;
  if (e.private && !isPrivateCreator(e.tag)) return undefined;
  const vr = meaningVr(e);
  const info = VR_TABLE[vr];
  if (info.kind !== 'string' && info.kind !== 'text' && info.kind !== 'uri') return undefined;
  const values = info.multiValued ? e.text.split('\\') : [e.text];
  for (const v of values) {
    const problem = checkValue(vr, v);
    if (problem) return { problem, element: e, vr };
  }
  return undefined;
}

export function checkValues(elements: readonly ObjectElement[]): ValueFinding[] {
  const out: ValueFinding[] = [];
  for (const e of elements) {
    const f = checkElement(e);
    if (f) out.push(f);
  }
  return out;
}
