/**
 * The standard data dictionary reduced to what an implicit VR reader needs: the VR of a tag.
 * Built lazily from dictionary-data.ts (generated).
 */
import { DICTIONARY_BY_VR } from './dictionary-data.js';
import { elementOf, groupOf, isPrivateCreator, isPrivateTag, type Tag } from './tag.js';
import { isVR, type VR } from './vr.js';

let table: Map<number, VR> | undefined;

function load(): Map<number, VR> {
  const m = new Map<number, VR>();
  for (const [vr, list] of Object.entries(DICTIONARY_BY_VR)) {
    if (!isVR(vr)) throw new Error(`dictionary-data: unknown VR ${vr}`);
    for (const hex of list.split(' ')) if (hex) m.set(parseInt(hex, 16), vr);
  }
  return m;
}

/** Repeating groups (PS3.5 7.6): curves 50xx, overlays 60xx, variable pixel data 7Fxx, listed at their base group. */
function baseOfRepeatingGroup(t: Tag): Tag | undefined {
  const g = groupOf(t);
  if ((g & 1) === 1) return undefined;
  if (g >= 0x5000 && g <= 0x50ff) return 0x50000000 + elementOf(t);
  if (g >= 0x6000 && g <= 0x60ff) return 0x60000000 + elementOf(t);
  if (g >= 0x7f00 && g <= 0x7fdf) return 0x7f000000 + elementOf(t);
  return undefined;
}

/** VR from the standard dictionary, or undefined for unknown and private tags. */
export function dictionaryVr(t: Tag): VR | undefined {
  table ??= load();
  const vr = table.get(t);
  if (vr) return vr;
  const base = baseOfRepeatingGroup(t);
  return base === undefined ? undefined : table.get(base);
}

/** The VR an implicit VR reader assigns: dictionary, group length → UL, private creator → LO, else UN. */
export function implicitVr(t: Tag): VR {
  const vr = dictionaryVr(t);
  if (vr) return vr;
  if (elementOf(t) === 0) return 'UL';
  if (isPrivateCreator(t)) return 'LO';
  if (isPrivateTag(t)) return 'UN';
  return 'UN';
}

/** Number of entries (for tests). */
export const dictionarySize = (): number => (table ??= load()).size;
