/**
 * Keyword ↔ tag ↔ VR lookups from the standard's data dictionary (dcmjs ships it; we only read it).
 */
import dcmjs from 'dcmjs';

interface DictEntry {
  tag: string;
  vr: string;
  vm: string;
  name: string;
}

const meta = (
  dcmjs as unknown as {
    data: {
      DicomMetaDictionary: { dictionary: Record<string, DictEntry>; nameMap: Record<string, DictEntry> };
    };
  }
).data.DicomMetaDictionary;

const parseTag = (s: string): number | undefined => {
  const m = /^\(([0-9A-Fa-f]{4}),([0-9A-Fa-f]{4})\)$/.exec(s);
  return m ? parseInt(m[1]! + m[2]!, 16) >>> 0 : undefined;
};

export const formatTag = (tag: number): string =>
  `(${(tag >>> 16).toString(16).toUpperCase().padStart(4, '0')},${(tag & 0xffff).toString(16).toUpperCase().padStart(4, '0')})`;

const byTag = new Map<number, { keyword: string; vr: string }>();
for (const e of Object.values(meta.nameMap)) {
  const t = parseTag(e.tag);
  if (t !== undefined) byTag.set(t, { keyword: e.name, vr: e.vr });
}

/** Keyword (e.g. `PatientID`) or `GGGGEEEE` / `(GGGG,EEEE)` → tag number and VR. */
export function lookupKeyword(key: string): { tag: number; vr: string; keyword: string } | undefined {
  const e = meta.nameMap[key];
  if (e) {
    const tag = parseTag(e.tag);
    if (tag !== undefined) return { tag, vr: e.vr.split('|')[0] ?? e.vr, keyword: e.name };
  }
  const m = /^\(?([0-9A-Fa-f]{4}),?([0-9A-Fa-f]{4})\)?$/.exec(key);
  if (m) {
    const tag = parseInt(m[1]! + m[2]!, 16) >>> 0;
    const d = byTag.get(tag);
    return { tag, vr: d?.vr.split('|')[0] ?? 'UN', keyword: d?.keyword ?? formatTag(tag) };
  }
  return undefined;
}

/** The dictionary VR of a tag (for Implicit VR), 'UN' when unknown. Group lengths are UL. */
export function vrOf(tag: number): string {
  if ((tag & 0xffff) === 0) return 'UL';
  const d = byTag.get(tag);
  if (d) return d.vr.split('|')[0] ?? 'UN';
  // Repeating groups (50xx, 60xx) and private tags
  const masked = byTag.get((tag & 0xff00ffff) >>> 0);
  if (masked && (tag >>> 24 === 0x50 || tag >>> 24 === 0x60)) return masked.vr.split('|')[0] ?? 'UN';
  if ((tag >>> 16) % 2 === 1 && (tag & 0xffff) >= 0x10 && (tag & 0xffff) <= 0xff) return 'LO'; // private creator
  return 'UN';
}

export const keywordOf = (tag: number): string => byTag.get(tag)?.keyword ?? formatTag(tag);
