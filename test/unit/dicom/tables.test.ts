import { describe, expect, it } from 'vitest';
import { decodeText, parseCharsetTerms } from '../../../src/dicom/charset.js';
import { DICTIONARY_BY_VR } from '../../../src/dicom/dictionary-data.js';
import { dictionarySize, dictionaryVr, implicitVr } from '../../../src/dicom/dictionary.js';
import {
  isStorageSopClass,
  lookupSopClass,
  SOP_CLASSES,
  sopClassByName,
  STUDY_ROOT_MOVE,
  PATIENT_ROOT_FIND,
  VERIFICATION,
  STORAGE_COMMITMENT_PUSH_MODEL,
} from '../../../src/dicom/sop-class.js';
import {
  describeTag,
  formatTag,
  parseTag,
  tag,
  Tags,
  groupOf,
  elementOf,
  isPrivateTag,
} from '../../../src/dicom/tag.js';
import {
  lookupTransferSyntax,
  TRANSFER_SYNTAXES,
  transferSyntaxByName,
} from '../../../src/dicom/transfer-syntax.js';
import { checkValue, VR_TABLE, VRS, vrFromBytes } from '../../../src/dicom/vr.js';
import { hasCorpus } from '../../../src/util/corpus.js';
import { lacksMeta, privateSopClassUid, readManifest } from './corpus-manifest.js';
import { dictionaryFromDcmjs } from './dcmjs-dictionary.js';

describe('tags', () => {
  it('builds, splits, formats and parses tags', () => {
    const t = tag(0x0010, 0x0010);
    expect(t).toBe(0x00100010);
    expect(formatTag(Tags.PixelData.tag)).toBe('(7FE0,0010)');
    expect(groupOf(0xfffee000)).toBe(0xfffe);
    expect(elementOf(0xfffee000)).toBe(0xe000);
    expect(parseTag('(0010,0010)')).toBe(t);
    expect(parseTag('0x7fe00010')).toBe(Tags.PixelData.tag);
    expect(parseTag('0010,00zz')).toBeUndefined();
    expect(describeTag(Tags.PatientName.tag)).toBe('PatientName (0010,0010)');
    expect(isPrivateTag(0x00291010)).toBe(true);
    expect(isPrivateTag(0x00080016)).toBe(false);
  });

  it('agrees with the standard dictionary on every VR it declares', () => {
    const ambiguous = new Set([
      Tags.PixelData.tag,
      Tags.FileMetaInformationVersion.tag,
      Tags.PrivateInformation.tag,
    ]);
    for (const [keyword, e] of Object.entries(Tags)) {
      if (ambiguous.has(e.tag)) continue;
      expect({ keyword, vr: dictionaryVr(e.tag) }).toEqual({ keyword, vr: e.vr });
    }
  });
});

describe('dictionary', () => {
  it('is the standard dictionary (regenerated from dcmjs, equal to the committed table)', () => {
    const fresh = dictionaryFromDcmjs();
    const committed = Object.fromEntries(
      Object.entries(DICTIONARY_BY_VR).map(([vr, s]) => [vr, s.split(' ').filter(Boolean).sort()]),
    );
    expect(committed).toEqual(
      Object.fromEntries(Object.entries(fresh).map(([vr, l]) => [vr, [...l].sort()])),
    );
    expect(dictionarySize()).toBeGreaterThan(5000);
  });

  it('resolves repeating groups, private tags and group lengths for implicit VR', () => {
    expect(implicitVr(0x60023000)).toBe('OW'); // Overlay Data in group 6002
    expect(implicitVr(0x60020010)).toBe('US');
    expect(implicitVr(0x00291010)).toBe('UN');
    expect(implicitVr(0x00290010)).toBe('LO'); // private creator
    expect(implicitVr(0x00180000)).toBe('UL');
    expect(implicitVr(Tags.ReferencedSeriesSequence.tag)).toBe('SQ');
  });
});

describe('VR table', () => {
  it('has the 34 VRs and the 4-byte-length set of PS3.5 7.1.2', () => {
    expect(VRS).toHaveLength(34);
    const long = VRS.filter((v) => VR_TABLE[v].longLength).sort();
    expect(long).toEqual(['OB', 'OD', 'OF', 'OL', 'OV', 'OW', 'SQ', 'SV', 'UC', 'UN', 'UR', 'UT', 'UV']);
    expect(vrFromBytes(0x53, 0x51)).toBe('SQ');
    expect(vrFromBytes(0x0a, 0x00)).toBeUndefined();
  });

  it('states maximum lengths', () => {
    const max = Object.fromEntries(
      VRS.filter((v) => VR_TABLE[v].maxLength !== undefined).map((v) => [v, VR_TABLE[v].maxLength]),
    );
    expect(max).toMatchObject({
      AE: 16,
      CS: 16,
      SH: 16,
      LO: 64,
      PN: 64,
      DA: 8,
      DS: 16,
      IS: 12,
      DT: 26,
      UI: 64,
      LT: 10240,
      ST: 1024,
    });
    expect(VR_TABLE.AS.fixedLength).toBe(4);
  });

  it('checks values against length and repertoire', () => {
    const cases: [Parameters<typeof checkValue>[0], string, string | undefined][] = [
      ['CS', 'ORIGINAL', undefined],
      ['CS', 'original', 'bad-character'],
      ['CS', 'A'.repeat(17), 'too-long'],
      ['CS', 'HEAD_NECK ', undefined],
      ['SH', 'x'.repeat(17), 'too-long'],
      ['LO', 'é'.repeat(64), undefined],
      ['LO', 'a\\b', 'bad-character'],
      ['PN', `${'A'.repeat(64)}=${'B'.repeat(64)}`, undefined],
      ['PN', 'A'.repeat(65), 'too-long'],
      ['DA', '20240131', undefined],
      ['DA', '1997.04.24', 'too-long'],
      ['DA', '1997.4.2', 'bad-character'],
      ['DA', '2024013', 'bad-format'],
      ['TM', '235959.123456', undefined],
      ['DT', '20240131235959.123456+0100', undefined],
      ['UI', '1.2.840.10008.1.2', undefined],
      ['UI', '1.2.840.10008.1.2\0', undefined],
      ['UI', '1.2.abc', 'bad-character'],
      ['UI', '1.02.3', 'bad-format'],
      ['UI', '1.' + '2'.repeat(63), 'too-long'],
      ['AE', 'PACSHIFT', undefined],
      ['AE', 'A'.repeat(17), 'too-long'],
      ['AS', '018M', undefined],
      ['AS', '18M', 'bad-length'],
      ['DS', ' -1.5e3 ', undefined],
      ['DS', 'abc', 'bad-character'],
      ['IS', '1234567890123', 'too-long'],
      ['IS', '+12', undefined],
      ['ST', 'line\r\nline', undefined],
      ['SH', 'tab\there', 'bad-character'],
    ];
    for (const [vr, v, want] of cases) expect({ vr, v, p: checkValue(vr, v) }).toEqual({ vr, v, p: want });
  });
});

describe('transfer syntaxes', () => {
  it('lists each UID once, with the standard ones present and their flags', () => {
    const uids = TRANSFER_SYNTAXES.map((t) => t.uid);
    expect(new Set(uids).size).toBe(uids.length);
    const P = '1.2.840.10008.1.2.';
    const must = [
      '1.2.840.10008.1.2',
      P + '1',
      P + '1.99',
      P + '2',
      P + '5',
      P + '8.1',
      P + '7.1',
      P + '7.2',
      P + '7.3',
      ...[
        '50',
        '51',
        '57',
        '70',
        '80',
        '81',
        '90',
        '91',
        '92',
        '93',
        '94',
        '95',
        '100',
        '100.1',
        '101',
        '101.1',
        '102',
        '102.1',
        '103',
        '104',
        '105',
        '106',
        '107',
        '108',
        '110',
        '111',
        '112',
        '201',
        '202',
        '203',
        '204',
        '205',
      ].map((s) => P + '4.' + s),
    ];
    for (const u of must)
      expect({ u, found: lookupTransferSyntax(u) !== undefined }).toEqual({ u, found: true });
    const implicit = lookupTransferSyntax('1.2.840.10008.1.2')!;
    expect([implicit.explicitVr, implicit.littleEndian, implicit.encapsulated]).toEqual([false, true, false]);
    const be = lookupTransferSyntax(P + '2')!;
    expect([be.explicitVr, be.littleEndian, be.retired]).toEqual([true, false, true]);
    expect(lookupTransferSyntax(P + '1.99')!.deflated).toBe(true);
    expect(lookupTransferSyntax(P + '4.50')!.lossy).toBe(true);
    expect(lookupTransferSyntax(P + '4.70')!.lossy).toBe(false);
    expect(lookupTransferSyntax(P + '4.90')!.lossy).toBe(false);
    expect(lookupTransferSyntax(P + '4.91')!.lossy).toBe(true);
    expect(lookupTransferSyntax(P + '5')!.encapsulated).toBe(true);
    expect(lookupTransferSyntax(P + '8.1')!.deflated).toBe(false); // frames are deflated, not the data set
    expect(lookupTransferSyntax(P + '4.94')!.encapsulated).toBe(false);
    expect(lookupTransferSyntax(P + '1\0')?.uid).toBe(P + '1');
  });

  it.skipIf(!hasCorpus())('names every transfer syntax of the corpus manifest', () => {
    const names = new Set(
      readManifest()
        .filter((r) => !lacksMeta(r))
        .map((r) => r.transferSyntax),
    );
    expect(names.size).toBe(17); // the README's 18 counts "no File Meta" as one
    for (const n of names)
      expect({ n, found: transferSyntaxByName(n) !== undefined }).toEqual({ n, found: true });
  });
});

describe('SOP classes', () => {
  it('lists each UID once, with the service classes pacshift speaks', () => {
    const uids = SOP_CLASSES.map((c) => c.uid);
    expect(new Set(uids).size).toBe(uids.length);
    expect(lookupSopClass(VERIFICATION)?.service).toBe('verification');
    expect(lookupSopClass(STORAGE_COMMITMENT_PUSH_MODEL)?.service).toBe('storage-commitment');
    expect(lookupSopClass(PATIENT_ROOT_FIND)?.service).toBe('find');
    expect(lookupSopClass(STUDY_ROOT_MOVE)?.service).toBe('move');
    expect(lookupSopClass('1.2.840.10008.5.1.4.1.2.2.3')?.service).toBe('get');
    expect(isStorageSopClass('1.2.840.10008.5.1.4.1.1.2')).toBe(true);
    expect(isStorageSopClass(VERIFICATION)).toBe(false);
  });

  it('categorises storage classes', () => {
    const cat = (uid: string): string | undefined => lookupSopClass(uid)?.category;
    const S = '1.2.840.10008.5.1.4.1.1.';
    expect(cat(S + '2')).toBe('image');
    expect(cat(S + '11.1')).toBe('presentation');
    expect(cat(S + '88.59')).toBe('kos');
    expect(cat(S + '88.22')).toBe('sr');
    expect(cat(S + '9.1.1')).toBe('waveform');
    expect(cat(S + '104.1')).toBe('document');
    expect(cat(S + '66')).toBe('raw');
    expect(cat(S + '481.5')).toBe('other');
    expect(lookupSopClass(S + '4')?.modality).toBe('MR');
    expect(lookupSopClass(S + '128')?.modality).toBe('PT');
  });

  it.skipIf(!hasCorpus())('maps every SOP class named in the corpus manifest', () => {
    const names = new Set(
      readManifest()
        .map((r) => r.sopClass)
        .filter((n) => n !== ''),
    );
    expect(names.size).toBe(42);
    for (const n of names) {
      const known = sopClassByName(n) !== undefined;
      const privateUid = privateSopClassUid(n);
      expect({
        n,
        mapped: known || (privateUid !== undefined && lookupSopClass(privateUid) === undefined),
      }).toEqual({ n, mapped: true });
    }
  });
});

describe('character sets', () => {
  it('decodes the PS3.5 Annex H Japanese example (ISO 2022 IR 87)', () => {
    const bytes = Buffer.from(
      'Yamada^Tarou=\x1b$B;3ED\x1b(B^\x1b$BB@O:\x1b(B=\x1b$B$d$^$@\x1b(B^\x1b$B$?$m$&\x1b(B',
      'latin1',
    );
    expect(decodeText(bytes, '\\ISO 2022 IR 87', true).text).toBe('Yamada^Tarou=山田^太郎=やまだ^たろう');
  });

  it('keeps bytes when unsure, and understands common misspellings', () => {
    expect(decodeText(Buffer.from('J\xf6rg', 'latin1'), undefined)).toEqual({
      text: undefined,
      problem: 'non-ascii-without-charset',
    });
    expect(decodeText(Buffer.from('J\xf6rg', 'latin1'), 'ISO_IR 192')).toEqual({
      text: undefined,
      problem: 'undecodable',
    });
    expect(decodeText(Buffer.from('J\xf6rg', 'latin1'), 'ISO-IR 100')).toEqual({
      text: 'Jörg',
      problem: 'nonstandard-term',
    });
    expect(decodeText(Buffer.from('Jörg', 'utf8'), 'ISO_IR 192').text).toBe('Jörg');
    expect(decodeText(Buffer.from('x', 'latin1'), 'KLINGON').problem).toBe('unknown-charset');
    expect(parseCharsetTerms('\\ISO 2022 IR 149').terms).toEqual(['', 'ISO 2022 IR 149']);
  });
});
