/** Build C-FIND / C-MOVE / C-GET identifiers from keywords (`PatientID=123`, `StudyDate=20200101-`). */
import { lookupKeyword } from '../../dicom/keyword.js';
import type { SmallDataset } from '../../dicom/small-dataset.js';
import type { QueryLevel } from './sop-classes.js';

export const QUERY_RETRIEVE_LEVEL = 0x00080052;

export class IdentifierError extends Error {}

/** VRs whose values are binary numbers: an empty key must stay zero-length (a value 0 would be a matching key). */
const BINARY_VRS = new Set(['US', 'SS', 'UL', 'SL', 'FL', 'FD', 'AT', 'SV', 'UV']);

export function buildIdentifier(level: QueryLevel, keys: Record<string, string | null>): SmallDataset {
  const ds: SmallDataset = new Map();
  ds.set(QUERY_RETRIEVE_LEVEL, { vr: 'CS', value: level });
  for (const [k, v] of Object.entries(keys)) {
    const d = lookupKeyword(k);
    if (!d) throw new IdentifierError(`unknown attribute keyword or tag: ${k}`);
    if (d.vr === 'SQ') ds.set(d.tag, { vr: 'SQ', value: [] });
    else if (BINARY_VRS.has(d.vr) && (v === null || v.trim() === ''))
      ds.set(d.tag, { vr: d.vr, value: null });
    else ds.set(d.tag, { vr: d.vr, value: v ?? '' });
  }
  return ds;
}

/** Parse `-k Key=Value` / `-k Key` arguments. */
export function parseKeyArgs(args: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const a of args) {
    const i = a.indexOf('=');
    if (i < 0) out[a] = '';
    else out[a.slice(0, i)] = a.slice(i + 1);
  }
  return out;
}
