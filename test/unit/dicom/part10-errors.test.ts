import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deflateRawSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import {
  buildPart10Meta,
  IMPLEMENTATION_CLASS_UID,
  IMPLEMENTATION_VERSION_NAME,
} from '../../../src/dicom/meta.js';
import { readInstanceInfo } from '../../../src/dicom/part10.js';
import { Tags } from '../../../src/dicom/tag.js';
import { EXPLICIT_BE, EXPLICIT_LE, IMPLICIT_LE, type Encoding } from '../../../src/dicom/transfer-syntax.js';
import { el } from './build.js';

const dir = mkdtempSync(join(tmpdir(), 'pacshift-p10-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const CT = '1.2.840.10008.5.1.4.1.1.2';
const SOP = '1.2.3.4.5.6';
const meta = (ts: string): Buffer =>
  buildPart10Meta({
    sopClassUid: CT,
    sopInstanceUid: SOP,
    transferSyntaxUid: ts,
    implementationClassUid: IMPLEMENTATION_CLASS_UID,
    implementationVersionName: IMPLEMENTATION_VERSION_NAME,
  });
const dataSet = (e: Encoding, withSop = true): Buffer =>
  Buffer.concat([
    el(e, Tags.SpecificCharacterSet.tag, 'CS', 'ISO_IR 100'),
    el(e, Tags.SOPClassUID.tag, 'UI', CT + '\0'),
    ...(withSop ? [el(e, Tags.SOPInstanceUID.tag, 'UI', SOP)] : []),
    el(e, Tags.Modality.tag, 'CS', 'CT'),
    el(e, Tags.PatientName.tag, 'PN', 'Doe^Jane'),
    el(e, Tags.StudyInstanceUID.tag, 'UI', '1.2.3\0'),
    el(e, Tags.Rows.tag, 'US', Buffer.from([0, 2])),
    el(e, Tags.PixelData.tag, 'OW', Buffer.alloc(64, 1)),
  ]);

let n = 0;
async function codeOf(bytes: Buffer): Promise<string> {
  const p = join(dir, `f${n++}.dcm`);
  writeFileSync(p, bytes);
  const r = await readInstanceInfo(p);
  return r.ok ? 'ok' : r.error.code;
}

describe('readInstanceInfo on broken files', () => {
  it('reads well-formed files in all three encodings and deflated', async () => {
    expect(await codeOf(Buffer.concat([meta('1.2.840.10008.1.2'), dataSet(IMPLICIT_LE)]))).toBe('ok');
    expect(await codeOf(Buffer.concat([meta('1.2.840.10008.1.2.1'), dataSet(EXPLICIT_LE)]))).toBe('ok');
    expect(await codeOf(Buffer.concat([meta('1.2.840.10008.1.2.2'), dataSet(EXPLICIT_BE)]))).toBe('ok');
    expect(
      await codeOf(Buffer.concat([meta('1.2.840.10008.1.2.1.99'), deflateRawSync(dataSet(EXPLICIT_LE))])),
    ).toBe('ok');
  });

  it('catches a meta that lies about the encoding', async () => {
    expect(await codeOf(Buffer.concat([meta('1.2.840.10008.1.2.1'), dataSet(IMPLICIT_LE)]))).toBe(
      'lying-transfer-syntax',
    );
    expect(await codeOf(Buffer.concat([meta('1.2.840.10008.1.2'), dataSet(EXPLICIT_LE)]))).toBe(
      'lying-transfer-syntax',
    );
    expect(await codeOf(Buffer.concat([meta('1.2.840.10008.1.2.2'), dataSet(EXPLICIT_LE)]))).toBe(
      'lying-transfer-syntax',
    );
    expect(await codeOf(Buffer.concat([meta('1.2.840.10008.1.2.1'), dataSet(EXPLICIT_BE)]))).toBe(
      'lying-transfer-syntax',
    );
    expect(await codeOf(Buffer.concat([meta('1.2.840.10008.1.2.1.99'), dataSet(EXPLICIT_LE)]))).toBe(
      'lying-transfer-syntax',
    );
  });

  it('names every other failure', async () => {
    expect(await codeOf(Buffer.concat([meta('1.2.3.999'), dataSet(EXPLICIT_LE)]))).toBe(
      'unknown-transfer-syntax',
    );
    expect(await codeOf(Buffer.concat([meta('1.2.840.10008.1.2.1'), dataSet(EXPLICIT_LE, false)]))).toBe(
      'missing-uid',
    );
    const full = Buffer.concat([meta('1.2.840.10008.1.2.1'), dataSet(EXPLICIT_LE)]);
    expect(await codeOf(full.subarray(0, full.length - 10))).toBe('truncated');
    expect(await codeOf(dataSet(EXPLICIT_LE))).toBe('no-meta');
    expect(
      await codeOf(Buffer.from('%PDF-1.4 this is not DICOM at all, only some text to fill the buffer')),
    ).toBe('not-dicom');
    expect(await codeOf(Buffer.alloc(3))).toBe('not-dicom');
    const garbage = Buffer.alloc(200, 0x5a);
    expect(await codeOf(Buffer.concat([meta('1.2.840.10008.1.2.1.99'), garbage]))).toBe('deflate-error');
    const r = await readInstanceInfo(join(dir, 'does-not-exist.dcm'));
    expect(r.ok ? 'ok' : r.error.code).toBe('io');
  });

  it('keeps patient data out of messages', async () => {
    const p = join(dir, 'phi.dcm');
    const full = Buffer.concat([meta('1.2.840.10008.1.2.1'), dataSet(EXPLICIT_LE)]);
    writeFileSync(p, full.subarray(0, full.length - 10));
    const r = await readInstanceInfo(p);
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.error.message + JSON.stringify(r.error.detail)).not.toContain('Doe');
      expect(r.error.detail?.sopInstanceUid).toBe(SOP);
    }
  });
});
