/**
 * checkObject: a clean synthetic CT image shows nothing; each defect planted in it shows exactly its
 * cause; real corpus files show the causes their README documents.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkObject, type ObjectCheck } from '../../../src/analyse/preflight/index.js';
import { hasCorpus } from '../../../src/util/corpus.js';
import { corpusDir } from '../../harness/corpus.js';
import { makeTempDir, removeTempDir } from '../../harness/tmp.js';
import { el, item, sq } from '../dicom/build.js';
import { ENC, e, writeObject } from './synthetic.js';

const causes = (c: ObjectCheck) => c.findings.map((f) => f.cause).sort();

describe('checkObject on planted defects', () => {
  let dir: string;
  beforeAll(() => {
    dir = makeTempDir('preflight-check');
  });
  afterAll(() => removeTempDir(dir));

  const check = (name: string, changes: Record<number, Buffer | null>, sop?: string) =>
    checkObject(writeObject(dir, name, changes, sop), { profile: 'strict' });

  it('a clean CT image shows no finding and is accepted by a strict target', async () => {
    const c = await check('clean.dcm', {});
    expect(c.findings).toEqual([]);
    expect(c.verdict).toBe('accept');
    expect(c.facts).toMatchObject({
      modality: 'CT',
      manufacturer: 'ACME',
      charset: 'ISO_IR 100',
      studyDate: '20200102',
    });
  });

  it.each([
    [
      'over-long CS (BodyPartExamined of 20 characters)',
      'value-too-long',
      { [0x00180015]: e(0x00180015, 'CS', 'ABDOMEN AND PELVIS X') },
    ],
    ['lower case in a CS', 'value-bad-character', { [0x00180015]: e(0x00180015, 'CS', 'Chest') }],
    ['ACR-NEMA date', 'value-too-long', { [0x00080020]: e(0x00080020, 'DA', '2020.01.02') }],
    ['date of 8 letters', 'value-bad-character', { [0x00080020]: e(0x00080020, 'DA', '2020AB02') }],
    [
      'date of 8 digits that is no date form',
      'value-bad-character',
      { [0x00080021]: e(0x00080021, 'DA', '2020-1-2') },
    ],
    ['DS that is no number', 'value-bad-format', { [0x00180050]: e(0x00180050, 'DS', '1.5.5') }],
    ['LO with a control character', 'value-bad-character', { [0x00081030]: e(0x00081030, 'LO', 'HEAD\x07') }],
    ['LO of 70 characters', 'value-too-long', { [0x00081030]: e(0x00081030, 'LO', 'X'.repeat(70)) }],
    ['no Modality (Type 1)', 'missing-type1', { [0x00080060]: null }],
    ['empty Modality (Type 1)', 'missing-type1', { [0x00080060]: e(0x00080060, 'CS', '') }],
    ['no Rows (Type 1 of Image Pixel)', 'missing-type1', { [0x00280010]: null }],
    ['no PatientSex (Type 2)', 'missing-type2', { [0x00100040]: null }],
    ['no Pixel Data in an image', 'missing-type1', { [0x7fe00010]: null }],
    [
      'pixel data short of Rows × Columns × Bits',
      'pixel-data-short',
      { [0x7fe00010]: el(ENC, 0x7fe00010, 'OW', Buffer.alloc(6)) },
    ],
    [
      'pixel data longer than the image',
      'pixel-data-long',
      { [0x7fe00010]: el(ENC, 0x7fe00010, 'OW', Buffer.alloc(64)) },
    ],
    ['unknown SOP class', 'sop-class-unknown', { [0x00080016]: e(0x00080016, 'UI', '1.2.3.999') }],
    [
      'a private element without its Private Creator',
      'private-without-creator',
      { [0x00091010]: e(0x00091010, 'LO', 'X') },
    ],
    [
      'a standard attribute written as UN',
      'standard-as-un',
      { [0x00181030]: e(0x00181030, 'UN', 'PROTOCOL') },
    ],
    ['an unknown character set term', 'charset-problem', { [0x00080005]: e(0x00080005, 'CS', 'ISO_IR 999') }],
    [
      'non-ASCII text without a character set',
      'charset-problem',
      {
        [0x00080005]: null,
        [0x00081030]: e(0x00081030, 'LO', Buffer.from('T\u00e9te', 'latin1').toString('latin1')),
      },
    ],
  ] as const)('%s → %s', async (name, cause, changes) => {
    const c = await check(`${name.replace(/\W+/g, '_')}.dcm`, changes as Record<number, Buffer | null>);
    expect(causes(c)).toEqual([cause]);
    expect(c.verdict).not.toBe('accept');
  });

  it('a missing Series Instance UID is missing-identifier (refused by every target, lenient ones too)', async () => {
    const c = await checkObject(writeObject(dir, 'no-series.dcm', { [0x0020000e]: null }), {
      profile: 'lenient',
    });
    expect(causes(c)).toEqual(['missing-identifier']);
    expect(c.verdict).toBe('refuse');
    expect(c.findings[0]!.examples).toEqual(['(0020,000E) SeriesInstanceUID']);
  });

  it('a Study Instance UID written as UN is identifier-as-un, not a value problem', async () => {
    const c = await checkObject(
      writeObject(dir, 'un-study.dcm', { [0x0020000d]: e(0x0020000d, 'UN', '1.2.3.4.5.6.1') }),
      { profile: 'lenient' },
    );
    expect(causes(c)).toEqual(['identifier-as-un']);
    expect(c.verdict).toBe('refuse');
  });

  it('a SOP Instance UID of 65 characters cannot travel in a C-STORE command', async () => {
    const sop = `1.2.${'3'.repeat(61)}`;
    expect(sop).toHaveLength(65);
    const c = await checkObject(writeObject(dir, 'long-uid.dcm', {}, sop), { profile: 'lenient' });
    expect(causes(c)).toContain('command-uid-too-long');
    expect(c.verdict).toBe('refuse');
  });

  it('private sequences: undefined length, and UN holding items, are found at any depth', async () => {
    const creator = e(0x00290010, 'LO', 'ACME 1.0');
    const inner = Buffer.concat([e(0x00080100, 'SH', 'C1')]);
    const priv = sq(ENC, 0x00291010, [item(ENC, inner)], true);
    const un = Buffer.concat([
      el(ENC, 0x00291020, 'UN', Buffer.alloc(0), 0xffffffff),
      item(
        { explicitVr: false, littleEndian: true },
        el({ explicitVr: false, littleEndian: true }, 0x00080100, 'SH', 'C2'),
        true,
      ),
      Buffer.from([0xfe, 0xff, 0xdd, 0xe0, 0, 0, 0, 0]),
    ]);
    const c = await check('private-seq.dcm', { [0x00290010]: creator, [0x00291010]: priv, [0x00291020]: un });
    expect(causes(c)).toEqual(['private-sequence-as-un', 'private-sequence-undefined-length']);
  });

  it('group 0002 inside the data set is meta-in-data-set, altered even by a lenient target', async () => {
    const c = await checkObject(
      writeObject(dir, 'meta-in-ds.dcm', { [0x00020013]: e(0x00020013, 'SH', 'X') }),
      { profile: 'lenient' },
    );
    expect(causes(c)).toContain('meta-in-data-set');
    expect(c.verdict).toBe('alter');
  });

  it('a file that is not DICOM is unreadable, with its code', async () => {
    const { writeFileSync } = await import('node:fs');
    writeFileSync(join(dir, 'note.txt'), 'not an image at all');
    const c = await checkObject(join(dir, 'note.txt'), { profile: 'lenient' });
    expect(c.findings).toEqual([{ cause: 'unreadable', count: 1, examples: ['not-dicom'] }]);
    expect(c.facts).toBeUndefined();
  });

  it('counts every occurrence and keeps at most 5 examples, never values', async () => {
    const changes: Record<number, Buffer> = {};
    for (let k = 0; k < 8; k++)
      changes[0x00181000 + k * 2] = e(0x00181000 + k * 2, 'LO', `V${'x'.repeat(70)}`);
    const c = await check('many.dcm', changes);
    const f = c.findings.find((x) => x.cause === 'value-too-long')!;
    expect(f.count).toBe(8);
    expect(f.examples).toHaveLength(5);
    expect(f.examples.join(' ')).not.toContain('xxx');
  });
});

describe.skipIf(!hasCorpus())('checkObject on corpus files', () => {
  const at = (p: string) => join(corpusDir(), p);
  it.each([
    ['fo-dicom/GH220.dcm', 'missing-identifier'],
    ['orthanc-tests/2022-03-08-RicSmi.dcm', 'identifier-as-un'],
    ['weasis-dicom-tools/dcm4che3/img/jpeg2000-multiframe-multifragments.dcm', 'command-uid-too-long'],
    ['fo-dicom/GH1339.dcm', 'unterminated'],
    ['dcm4che/Tag-0040-A170-VR-CS.dcm', 'unparsable-sequence'],
    ['pydicom/debian_test_files/no_meta.dcm', 'unreadable'],
    ['orthanc-tests/2026-05-26-oob-monochrome-65535.dcm', 'pixel-data-short'],
    ['fo-dicom/GH1376.dcm', 'meta-in-data-set'],
    ['fo-dicom/GH1376.dcm', 'value-too-long'],
    ['orthanc-tests/UnknownSopClassUid.dcm', 'sop-class-unknown'],
    [
      'dicomParser/encapsulated/multi-frame/IM00001.fragmented_no_bot_jpeg_baseline.50.dcm',
      'charset-problem',
    ],
  ])('%s shows %s', async (path, cause) => {
    const c = await checkObject(at(path), { profile: 'strict' });
    expect(causes(c)).toContain(cause);
  });

  it('a well-formed Siemens MR shows no reason for refusal', async () => {
    const c = await checkObject(at('dcm4che/MR-JPEGLosslessSV1.dcm'), { profile: 'strict' });
    expect(c.verdict).not.toBe('refuse');
    expect(c.sopInstanceUid).toMatch(/^[0-9.]+$/);
  });
});
