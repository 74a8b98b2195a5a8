/** Storage contexts the C-GET sample proposes (PS3.4 C.5.3: one per class the source will send; at most 127 besides C-GET). */
import { describe, expect, it } from 'vitest';
import { neededContexts, sampleStorage } from '../../../src/analyse/retrieve.js';
import type { SampleTarget } from '../../../src/analyse/sample.js';
import { STORAGE_SOP_CLASSES } from '../../../src/dicom/sop-class.js';

const CT = '1.2.840.10008.5.1.4.1.1.2';
const MR = '1.2.840.10008.5.1.4.1.1.4';
const J2K = '1.2.840.10008.1.2.4.90';
const t = (
  sopClassUid: string | null,
  transferSyntaxUid: string | null,
  modality: string | null = null,
): SampleTarget => ({
  studyUid: '1',
  seriesUid: '1.1',
  sopInstanceUid: `1.1.${Math.random()}`,
  sopClassUid,
  transferSyntaxUid,
  modality,
});

describe('sample storage contexts', () => {
  it('fill: the recorded syntax and the native ones first, one syntax per context, then others up to 127', () => {
    const s = sampleStorage([t(CT, J2K), t(MR, '1.2.840.10008.1.2.1')], 'fill');
    expect(s.length).toBeLessThanOrEqual(127);
    expect(s.every((c) => c.transferSyntaxes.length === 1)).toBe(true);
    const ct = s.filter((c) => c.sopClassUid === CT).map((c) => c.transferSyntaxes[0]);
    expect(ct.slice(0, 3)).toEqual([J2K, '1.2.840.10008.1.2.1', '1.2.840.10008.1.2']);
    expect(new Set(ct).size).toBe(ct.length);
    expect(ct.length).toBeGreaterThan(10);
    expect(neededContexts([t(CT, J2K), t(MR, '1.2.840.10008.1.2.1')])).toBe(5);
  });

  it('compact: one context per class listing its syntaxes', () => {
    expect(sampleStorage([t(CT, J2K), t(CT, null)], 'compact')).toEqual([
      { sopClassUid: CT, transferSyntaxes: [J2K, '1.2.840.10008.1.2.1', '1.2.840.10008.1.2'] },
    ]);
  });

  it('a class the source did not report: the storage classes of the series modality, and Secondary Capture', () => {
    const s = sampleStorage([t(null, null, 'MR')], 'fill');
    const classes = s.map((c) => c.sopClassUid);
    expect(classes).toContain(MR);
    expect(classes).toContain('1.2.840.10008.5.1.4.1.1.7');
    expect(classes).not.toContain(CT);
    const mr = STORAGE_SOP_CLASSES.filter((c) => c.modality === 'MR' && !c.retired).length;
    expect(s).toHaveLength(mr + 1);
  });
});
