import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { datasetDigest, readHeaderAttributes } from '../../../src/dicom/digest.js';
import { readInstanceInfo } from '../../../src/dicom/part10.js';
import { Tags } from '../../../src/dicom/tag.js';
import { hasCorpus } from '../../../src/util/corpus.js';
import { readManifest, readManifestColumn } from './corpus-manifest.js';

describe.skipIf(!hasCorpus())('datasetDigest', () => {
  const rows = readManifest();

  it('equals the SHA-256 of the file bytes from the end of the meta to the end of the file', async () => {
    let n = 0;
    for (const row of rows) {
      const info = await readInstanceInfo(row.file);
      if (!info.ok) continue;
      const d = await datasetDigest(row.file, info.value);
      const bytes = readFileSync(row.file);
      const expected = createHash('sha256').update(bytes.subarray(info.value.metaEnd)).digest('hex');
      expect({ path: row.path, d: d.ok ? d.value : d.error.code }).toEqual({ path: row.path, d: expected });
      // And the whole file is the one the manifest describes.
      expect(createHash('sha256').update(bytes).digest('hex')).toBe(row.sha256);
      n++;
    }
    expect(n).toBe(350);
  });

  it('refuses a file whose size changed since it was read', async () => {
    const row = rows.find((r) => r.path === 'dcm_qa/dcm_qa_ts/1.dcm')!;
    const d = await datasetDigest(row.file, { datasetOffset: 132, fileSize: row.size + 1 });
    expect(d.ok ? 'ok' : d.error.code).toBe('io');
  });
});

describe.skipIf(!hasCorpus())('readHeaderAttributes', () => {
  const rows = readManifest();

  it('decodes Patient Name with the declared character set as pydicom does, over the corpus', async () => {
    const names = readManifestColumn('patient_name');
    const charsets = readManifestColumn('specific_character_set');
    // pydicom drops empty trailing PN groups and leaves ISO 2022 IR 58 escapes in its text: normalise both.
    const norm = (s: string): string =>
      s
        .split('\x1b$)A')
        .join('')
        .replace(/[=^]+$/, '');
    let compared = 0;
    const mismatches: string[] = [];
    const nonAscii = new Set<string>();
    for (const row of rows) {
      const r = await readHeaderAttributes(row.file, [
        Tags.PatientName.tag,
        Tags.SOPInstanceUID.tag,
        Tags.Rows.tag,
      ]);
      if (!r.ok) continue;
      const pn = r.value.get(Tags.PatientName.tag);
      const got = norm(pn?.text ?? '');
      if (got !== norm(names.get(row.path) ?? ''))
        mismatches.push(row.path); // names themselves are not printed
      else if ([...got].some((c) => c.charCodeAt(0) > 0x7f)) nonAscii.add(charsets.get(row.path) ?? '');
      const uid = r.value.get(Tags.SOPInstanceUID.tag);
      if (row.sopInstanceUid) expect(uid?.text).toBe(row.sopInstanceUid);
      compared++;
    }
    console.log(
      `patient names compared: ${compared}; decoded non-ASCII under: ${[...nonAscii].sort().join(' | ')}`,
    );
    expect(mismatches).toEqual([]);
    expect(compared).toBeGreaterThan(350);
    // The Japanese, Korean and Chinese ISO 2022 samples were among the decoded ones.
    expect([...nonAscii]).toEqual(
      expect.arrayContaining([
        'ISO 2022 IR 13\\ISO 2022 IR 87',
        '\\ISO 2022 IR 149',
        '\\ISO 2022 IR 58',
        'GB18030',
        'ISO_IR 192',
      ]),
    );
  });

  it('decodes numbers in the byte order of the file', async () => {
    for (const p of ['dcm_qa/dcm_qa_ts/1.dcm', 'dcm_qa/dcm_qa_ts/2.dcm', 'dcm_qa/dcm_qa_ts/3.dcm']) {
      const row = rows.find((r) => r.path === p)!;
      const r = await readHeaderAttributes(row.file, [
        Tags.Rows.tag,
        Tags.Columns.tag,
        Tags.BitsAllocated.tag,
        Tags.ImageType.tag,
      ]);
      expect(r.ok).toBe(true);
      if (!r.ok) continue;
      expect(r.value.get(Tags.BitsAllocated.tag)?.numbers).toEqual([16]);
      expect(r.value.get(Tags.Rows.tag)?.numbers?.length).toBe(1);
      expect(r.value.get(Tags.ImageType.tag)?.text).toMatch(/^[A-Z_]+(\\[A-Z_0-9 ]*)*$/);
    }
  });
});
