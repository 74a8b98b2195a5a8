import { createHash } from 'node:crypto';
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readInstanceInfo } from '../../../src/dicom/part10.js';
import { hasCorpus } from '../../../src/util/corpus.js';
import { compareHeaders } from '../../../src/verify/compare.js';
import { PASS_THROUGH_KEYWORDS, recordPassThrough } from '../../../src/verify/pass-through.js';
import { compareValues } from '../../../src/verify/values.js';
import { manifest } from '../../harness/corpus.js';
import { makeTempDir, removeTempDir } from '../../harness/tmp.js';

const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

describe.skipIf(!hasCorpus())('recordPassThrough over the corpus', () => {
  const rows = manifest();
  const tmp = makeTempDir('passthrough');
  afterAll(() => removeTempDir(tmp));

  it('reads every file the Part 10 reader accepts, with the manifest identifiers, size and data set digest; refuses the others with a typed error', async () => {
    let ok = 0;
    let refused = 0;
    let namesCompared = 0;
    const nameDisagreements: string[] = [];
    for (const row of rows) {
      const info = await readInstanceInfo(row.absPath, { descendDefinedLength: false });
      const r = await recordPassThrough(row.absPath, ['StudyDescription', 'SeriesNumber']);
      if (!info.ok) {
        expect({ path: row.path, ok: r.ok }).toEqual({ path: row.path, ok: false });
        if (!r.ok) expect(r.error.code).toBe(info.error.code);
        refused++;
        continue;
      }
      expect({ path: row.path, ok: r.ok, error: r.ok ? undefined : r.error }).toEqual({
        path: row.path,
        ok: true,
        error: undefined,
      });
      if (!r.ok) continue;
      ok++;
      const rec = r.value;
      expect(Object.keys(rec.header)).toEqual(
        expect.arrayContaining([...PASS_THROUGH_KEYWORDS, 'StudyDescription', 'SeriesNumber']),
      );
      expect(rec.sizeBytes).toBe(row.size);
      expect(rec.transferSyntaxUid).toBe(info.value.transferSyntaxUid);
      expect(rec.header.TransferSyntaxUID).toBe(info.value.transferSyntaxUid);
      expect(rec.datasetSha256).toBe(sha256(readFileSync(row.absPath).subarray(info.value.datasetOffset)));
      expect(rec.header.SOPInstanceUID).toBe(info.value.sopInstanceUid);
      if (row.sopInstanceUid)
        expect({ path: row.path, uid: rec.sopInstanceUid }).toEqual({
          path: row.path,
          uid: row.sopInstanceUid,
        });
      if (row.studyInstanceUid)
        expect({ path: row.path, uid: rec.header.StudyInstanceUID }).toEqual({
          path: row.path,
          uid: row.studyInstanceUid,
        });
      if (row.patientId)
        expect({ path: row.path, id: rec.header.PatientID }).toEqual({ path: row.path, id: row.patientId });
      if (row.modality)
        expect({ path: row.path, m: rec.header.Modality }).toEqual({ path: row.path, m: row.modality });
      if (info.value.pixelData) {
        expect(rec.pixelDigest).toMatch(/^[0-9a-f]{64}$/);
        expect(rec.pixelDigestTs).toBe(info.value.transferSyntaxUid);
      } else {
        expect(rec.pixelDigest).toBeNull();
        expect(rec.pixelDigestTs).toBeNull();
      }
      if (row.patientName && typeof rec.header.PatientName === 'string') {
        namesCompared++;
        if (compareValues('PatientName', rec.header.PatientName, row.patientName, 'file') !== 'equal')
          nameDisagreements.push(row.path);
      }
    }
    console.log(
      `recordPassThrough: ${ok} read, ${refused} refused; patient names compared with pydicom: ${namesCompared}, disagreeing: ${nameDisagreements.join(', ') || 'none'}`,
    );
    expect(ok).toBeGreaterThan(330);
    expect(namesCompared).toBeGreaterThan(250);
    // pydicom 2.3 leaves the ISO 2022 IR 58 escape remnants "$)A" in this name; ours decodes it.
    expect(nameDisagreements).toEqual(['fo-dicom/charset/chrGB2312.dcm']);
    const gb = await recordPassThrough(
      rows.find((r) => r.path === 'fo-dicom/charset/chrGB2312.dcm')!.absPath,
      [],
    );
    expect(
      gb.ok && compareValues('PatientName', gb.value.header.PatientName, 'Zhang^XiaoDong=张^小东', 'file'),
    ).toBe('equal');
  }, 120_000);

  it('gives one pixel digest and equal attributes for one image stored explicit LE, implicit LE and explicit big endian', async () => {
    const recs = [];
    for (const n of [1, 2, 3]) {
      const row = rows.find((r) => r.path === `dcm_qa/dcm_qa_ts/${n}.dcm`)!;
      const r = await recordPassThrough(row.absPath, []);
      if (!r.ok) throw new Error(r.error.message);
      recs.push(r.value);
    }
    expect(recs.map((r) => r.transferSyntaxUid)).toEqual([
      '1.2.840.10008.1.2.1',
      '1.2.840.10008.1.2',
      '1.2.840.10008.1.2.2',
    ]);
    expect(new Set(recs.map((r) => r.pixelDigest)).size).toBe(1);
    expect(new Set(recs.map((r) => r.datasetSha256)).size).toBe(3);
    const keywords = Object.keys(recs[0]!.header).filter((k) => k !== 'SOPInstanceUID'); // three instances of one image
    for (const other of recs.slice(1)) {
      expect(
        compareHeaders(recs[0]!.header, other.header, keywords, 'file', 'retrieved').differences,
      ).toEqual([]);
      expect(other.header.Rows).toBe(recs[0]!.header.Rows);
    }
  });

  it('sees a changed pixel value and a changed attribute in a copy', async () => {
    const row = rows.find((r) => r.path === 'dcm_qa/dcm_qa_ts/1.dcm')!;
    const info = await readInstanceInfo(row.absPath);
    if (!info.ok) throw new Error(info.error.message);
    const px = info.value.pixelData!;
    const bytes = readFileSync(row.absPath);
    const changedPixel = Buffer.from(bytes);
    changedPixel[px.valueOffset + 10] = changedPixel[px.valueOffset + 10]! ^ 0xff;
    const a = join(tmp, 'pixel.dcm');
    writeFileSync(a, changedPixel);
    const same = join(tmp, 'same.dcm');
    copyFileSync(row.absPath, same);
    const orig = await recordPassThrough(row.absPath, []);
    const copy = await recordPassThrough(same, []);
    const changed = await recordPassThrough(a, []);
    if (!orig.ok || !copy.ok || !changed.ok) throw new Error('unreadable');
    expect(copy.value.pixelDigest).toBe(orig.value.pixelDigest);
    expect(changed.value.pixelDigest).not.toBe(orig.value.pixelDigest);
    expect(changed.value.header).toEqual(orig.value.header);
  });

  it('reports a truncated file as a typed error, and an unknown keyword as a programmer error', async () => {
    const row = rows.find((r) => r.path === 'dcm_qa/dcm_qa_ts/1.dcm')!;
    const cut = join(tmp, 'cut.dcm');
    writeFileSync(cut, readFileSync(row.absPath).subarray(0, 2000));
    const r = await recordPassThrough(cut, []);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error.code).toBe('truncated');
    await expect(recordPassThrough(row.absPath, ['NoSuchKeyword'])).rejects.toThrow(TypeError);
  });
});
