import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import dicomParser from 'dicom-parser';
import { describe, expect, it } from 'vitest';
import { readInstanceInfo } from '../../../src/dicom/part10.js';
import { pixelDigest, swapUnitFor } from '../../../src/dicom/pixel-digest.js';
import { Tags } from '../../../src/dicom/tag.js';
import { hasCorpus } from '../../../src/util/corpus.js';
import { readManifest } from './corpus-manifest.js';

const sha = (...parts: Buffer[]): string => {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return h.digest('hex');
};

describe.skipIf(!hasCorpus())('pixelDigest over the corpus', () => {
  const rows = readManifest();

  it('matches an independent computation (raw bytes; dicom-parser fragments) for every readable file', async () => {
    const counts = {
      native: 0,
      encapsulated: 0,
      checkedByDicomParser: 0,
      none: 0,
      bigEndian: 0,
      deflated: 0,
    };
    for (const row of rows) {
      const info = await readInstanceInfo(row.file);
      if (!info.ok) continue;
      const r = await pixelDigest(row.file);
      expect({ path: row.path, ok: r.ok }).toEqual({ path: row.path, ok: true });
      if (!r.ok) continue;
      const px = info.value.pixelData;
      if (!px) {
        expect(r.value).toBeUndefined();
        counts.none++;
        continue;
      }
      const d = r.value!;
      expect(d.transferSyntaxUid).toBe(info.value.transferSyntaxUid);
      expect(d.encapsulated).toBe(px.encapsulated);
      if (info.value.transferSyntax.deflated) {
        counts.deflated++;
        continue;
      }
      const bytes = readFileSync(row.file);
      if (!px.encapsulated) {
        counts.native++;
        if (!info.value.transferSyntax.littleEndian) {
          counts.bigEndian++;
          continue; // compared across encodings below
        }
        const v = bytes.subarray(px.valueOffset, px.valueOffset + px.valueLength!);
        expect({ path: row.path, digest: d.digest }).toEqual({ path: row.path, digest: sha(v) });
        expect(d.bytes).toBe(px.valueLength);
        continue;
      }
      counts.encapsulated++;
      let fragments: { position: number; length: number }[] | undefined;
      try {
        const ds = dicomParser.parseDicom(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length));
        fragments = ds.elements[px.tag === Tags.PixelData.tag ? 'x7fe00010' : '']?.fragments;
      } catch {
        fragments = undefined; // dicom-parser refuses a few odd files (missing delimiter...)
      }
      if (!fragments) continue;
      const expected = sha(...fragments.map((f) => bytes.subarray(f.position, f.position + f.length)));
      expect({ path: row.path, digest: d.digest, fragments: d.fragments }).toEqual({
        path: row.path,
        digest: expected,
        fragments: fragments.length,
      });
      counts.checkedByDicomParser++;
    }
    console.log('pixel digests:', JSON.stringify(counts));
    expect(counts.native).toBeGreaterThan(250);
    expect(counts.checkedByDicomParser).toBeGreaterThan(40);
  });

  it('gives one digest for one image stored explicit LE, implicit LE and explicit big endian', async () => {
    const digests = [];
    for (const n of [1, 2, 3]) {
      const row = rows.find((r) => r.path === `dcm_qa/dcm_qa_ts/${n}.dcm`)!;
      const r = await pixelDigest(row.file);
      expect(r.ok).toBe(true);
      if (r.ok) digests.push(r.value!);
    }
    expect(digests[2]!.swapUnit).toBe(2);
    expect(new Set(digests.map((d) => d.digest)).size).toBe(1);
  });

  it('digests the Pixel Data it has, without trusting Rows and Columns', async () => {
    const row = rows.find((r) => r.path === 'orthanc-tests/2026-05-26-oob-monochrome-65535.dcm')!;
    const r = await pixelDigest(row.file);
    expect(r.ok && r.value?.bytes).toBe(256);
  });

  it('reports a truncated file as such', async () => {
    const row = rows.find((r) => r.path === 'dcm4che/3gb-bulk-data-truncated')!;
    const r = await pixelDigest(row.file);
    expect(r.ok ? 'ok' : r.error.code).toBe('truncated');
  });
});

describe('swapUnitFor', () => {
  it('swaps by pixel size, OW words, and float size', () => {
    expect(swapUnitFor(Tags.PixelData.tag, 'OW', 16)).toBe(2);
    expect(swapUnitFor(Tags.PixelData.tag, 'OW', 32)).toBe(4);
    expect(swapUnitFor(Tags.PixelData.tag, 'OW', 8)).toBe(2);
    expect(swapUnitFor(Tags.PixelData.tag, 'OB', 8)).toBe(1);
    expect(swapUnitFor(Tags.FloatPixelData.tag, 'OF', 32)).toBe(4);
    expect(swapUnitFor(Tags.DoubleFloatPixelData.tag, 'OD', 64)).toBe(8);
  });
});
