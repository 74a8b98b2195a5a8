/** Reads dcmjs's data dictionary as tag lists per VR (the source of src/dicom/dictionary-data.ts). */
import { createRequire } from 'node:module';

interface DcmjsEntry {
  tag: string;
  vr: string;
}

const AMBIGUOUS: Record<string, string | null> = { up: 'UL', ox: 'OW', xs: 'US', lt: 'OW', na: null };

export function dictionaryFromDcmjs(): Record<string, string[]> {
  const require = createRequire(import.meta.url);
  const dcmjs = require('dcmjs') as {
    data: { DicomMetaDictionary: { nameMap: Record<string, DcmjsEntry> } };
  };
  const out: Record<string, string[]> = {};
  for (const e of Object.values(dcmjs.data.DicomMetaDictionary.nameMap)) {
    const vr = e.vr in AMBIGUOUS ? AMBIGUOUS[e.vr] : e.vr;
    if (!vr) continue;
    const hex = e.tag.replace(/[(),]/g, '').toUpperCase();
    if (!/^[0-9A-F]{8}$/.test(hex)) continue;
    (out[vr] ??= []).push(hex);
  }
  return out;
}
