import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import dicomParser from 'dicom-parser';
import { afterAll, describe, expect, it } from 'vitest';
import { datasetDigest } from '../../../src/dicom/digest.js';
import {
  buildPart10Meta,
  IMPLEMENTATION_CLASS_UID,
  IMPLEMENTATION_VERSION_NAME,
} from '../../../src/dicom/meta.js';
import { readInstanceInfo } from '../../../src/dicom/part10.js';
import { Tags } from '../../../src/dicom/tag.js';
import { EXPLICIT_LE } from '../../../src/dicom/transfer-syntax.js';
import { hasCorpus } from '../../../src/util/corpus.js';
import { el } from './build.js';
import { readManifest } from './corpus-manifest.js';

const dir = mkdtempSync(join(tmpdir(), 'pacshift-meta-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const CT = '1.2.840.10008.5.1.4.1.1.2';
const SOP = '1.2.826.0.1.3680043.10.1444.99.1234'; // odd length: padded with NUL
const E = EXPLICIT_LE;

function dataSet(): Buffer {
  return Buffer.concat([
    el(E, Tags.SOPClassUID.tag, 'UI', CT + '\0'),
    el(E, Tags.SOPInstanceUID.tag, 'UI', SOP + '\0'),
    el(E, Tags.StudyInstanceUID.tag, 'UI', '1.2.3.4\0'),
    el(E, Tags.SeriesInstanceUID.tag, 'UI', '1.2.3.4.5\0'),
    el(E, Tags.PixelData.tag, 'OW', Buffer.alloc(16, 3)),
  ]);
}

describe('buildPart10Meta', () => {
  const meta = buildPart10Meta({
    sopClassUid: CT,
    sopInstanceUid: SOP,
    transferSyntaxUid: '1.2.840.10008.1.2.1',
    sourceAeTitle: 'PACSHIFT',
    implementationClassUid: IMPLEMENTATION_CLASS_UID,
    implementationVersionName: IMPLEMENTATION_VERSION_NAME,
  });

  it('writes a zero preamble, DICM, and a correct group length', () => {
    expect(SOP.length % 2).toBe(1);
    expect(meta.subarray(0, 128).every((b) => b === 0)).toBe(true);
    expect(meta.toString('latin1', 128, 132)).toBe('DICM');
    expect(meta.readUInt32LE(140)).toBe(meta.length - 144);
    expect(meta.length % 2).toBe(0);
    expect(IMPLEMENTATION_CLASS_UID.startsWith('1.2.826.0.1.3680043.10.1444.')).toBe(true);
  });

  it('parses back through readInstanceInfo', async () => {
    const path = join(dir, 'built.dcm');
    const ds = dataSet();
    writeFileSync(path, Buffer.concat([meta, ds]));
    const r = await readInstanceInfo(path);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    const i = r.value;
    expect(i.metaEnd).toBe(meta.length);
    expect(i.datasetLength).toBe(ds.length);
    expect(i.hasPreamble).toBe(true);
    expect(i.transferSyntax.name).toBe('Explicit VR Little Endian');
    expect(i.sopClassUid).toBe(CT);
    expect(i.sopInstanceUid).toBe(SOP);
    expect(i.studyInstanceUid).toBe('1.2.3.4');
    expect(i.meta).toEqual({
      version: '0001',
      groupLength: meta.length - 144,
      mediaStorageSopClassUid: CT,
      mediaStorageSopInstanceUid: SOP,
      implementationClassUid: IMPLEMENTATION_CLASS_UID,
      implementationVersionName: IMPLEMENTATION_VERSION_NAME,
      sourceAeTitle: 'PACSHIFT',
    });
    expect(i.metaDisagrees).toEqual({ sopClass: false, sopInstance: false });
    expect(i.issues).toEqual([]);
  });

  it('parses back through dicom-parser, with NUL-padded UIDs and a space-padded AE title', () => {
    const bytes = Buffer.concat([meta, dataSet()]);
    const ds = dicomParser.parseDicom(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length));
    expect(ds.uint32('x00020000')).toBe(meta.length - 144);
    expect(ds.string('x00020002')).toBe(CT);
    expect(ds.string('x00020003')).toBe(SOP);
    expect(ds.string('x00020010')).toBe('1.2.840.10008.1.2.1');
    expect(ds.string('x00020012')).toBe(IMPLEMENTATION_CLASS_UID);
    expect(ds.string('x00020013')).toBe(IMPLEMENTATION_VERSION_NAME);
    expect(ds.string('x00020016')).toBe('PACSHIFT');
    const sop = ds.elements['x00020003']!;
    expect(sop.length % 2).toBe(0);
    expect(bytes[sop.dataOffset + sop.length - 1]).toBe(0x00);
    const version = ds.elements['x00020001']!;
    expect([...bytes.subarray(version.dataOffset, version.dataOffset + 2)]).toEqual([0, 1]);
    expect(ds.string('x00080018')).toBe(SOP);
  });

  it('omits the AE title when none is given and refuses non-UIDs', () => {
    const m = buildPart10Meta({
      sopClassUid: CT,
      sopInstanceUid: SOP,
      transferSyntaxUid: '1.2.840.10008.1.2',
      implementationClassUid: IMPLEMENTATION_CLASS_UID,
      implementationVersionName: IMPLEMENTATION_VERSION_NAME,
    });
    expect(m.includes(Buffer.from([0x02, 0x00, 0x16, 0x00]))).toBe(false);
    expect(() =>
      buildPart10Meta({
        sopClassUid: CT,
        sopInstanceUid: 'not a uid',
        transferSyntaxUid: '1.2.840.10008.1.2',
        implementationClassUid: IMPLEMENTATION_CLASS_UID,
        implementationVersionName: IMPLEMENTATION_VERSION_NAME,
      }),
    ).toThrow();
  });
});

describe.skipIf(!hasCorpus())('re-wrapping a received data set', () => {
  it('keeps the data set bytes and digest when our meta replaces the original one', async () => {
    for (const p of [
      'dcm_qa/dcm_qa_ts/2.dcm',
      'dcm_qa/dcm_qa_ts/3.dcm',
      'dcm_qa/dcm_qa_ts/9.dcm',
      'dicomParser/deflate/image_dfl',
    ]) {
      const row = readManifest().find((r) => r.path === p)!;
      const orig = await readInstanceInfo(row.file);
      expect(orig.ok).toBe(true);
      if (!orig.ok) continue;
      const o = orig.value;
      const bytes = readFileSync(row.file);
      const meta = buildPart10Meta({
        sopClassUid: o.sopClassUid,
        sopInstanceUid: o.sopInstanceUid,
        transferSyntaxUid: o.transferSyntaxUid,
        sourceAeTitle: 'SRC',
        implementationClassUid: IMPLEMENTATION_CLASS_UID,
        implementationVersionName: IMPLEMENTATION_VERSION_NAME,
      });
      const path = join(dir, p.replace(/\W/g, '_'));
      writeFileSync(path, Buffer.concat([meta, bytes.subarray(o.datasetOffset)]));
      const copy = await readInstanceInfo(path);
      expect(copy.ok).toBe(true);
      if (!copy.ok) continue;
      expect(copy.value.sopInstanceUid).toBe(o.sopInstanceUid);
      expect(copy.value.studyInstanceUid).toBe(o.studyInstanceUid);
      expect(copy.value.transferSyntaxUid).toBe(o.transferSyntaxUid);
      expect(copy.value.datasetLength).toBe(o.datasetLength);
      const [a, b] = await Promise.all([datasetDigest(row.file, o), datasetDigest(path, copy.value)]);
      expect(a.ok && b.ok && a.value === b.value).toBe(true);
    }
  });
});
