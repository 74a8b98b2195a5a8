/** The small rule tables of the analysis: UID rules, name/date normalisation, placeholders, study dates, vendors. */
import { describe, expect, it } from 'vitest';
import { normaliseVendor } from '../../../src/analyse/device.js';
import { looksLikePlaceholder, nameWords, normaliseName, pseudonym } from '../../../src/analyse/normalise.js';
import { judgeStudyDate, tomorrowOf } from '../../../src/analyse/study-date.js';
import { checkUid } from '../../../src/analyse/uid.js';

describe('UID rules (PS3.5 9.1)', () => {
  it.each([
    ['1.2.840.10008.1.2', undefined],
    ['1.2.840.10008.1.2\0', undefined],
    ['2.25.329800735698586629295641978511506172918', undefined],
    ['0.1', undefined],
    ['1.2.0.3', undefined],
    ['1.02.3', 'leading-zero'],
    ['1..2', 'empty-component'],
    ['1.2.', 'empty-component'],
    ['1.2.a', 'bad-character'],
    ['1.2 .3', 'bad-character'],
    ['', 'empty'],
    [`1.${'2'.repeat(62)}`, undefined],
    [`1.${'2'.repeat(63)}`, 'too-long'],
  ])('%j → %s', (uid, problem) => {
    expect(checkUid(uid)).toBe(problem);
  });
});

describe('patient values are compared after normalising case, spaces and ^ padding', () => {
  it('equal forms', () => {
    const forms = ['Doe^John', 'DOE^JOHN', ' doe ^ john ', 'Doe^John^^^', 'Doe^John^^^=', 'DOE^JOHN  '];
    expect(new Set(forms.map(normaliseName)).size).toBe(1);
  });
  it('different people stay different', () => {
    expect(normaliseName('Doe^John')).not.toBe(normaliseName('Doe^Jane'));
    expect(normaliseName('Doe^John^A')).not.toBe(normaliseName('Doe^John'));
  });
  it('words of a name (any component), for telling a variant from another person', () => {
    expect([...nameWords(normaliseName('Müller-Lüdenscheidt^Hans Peter'))].sort()).toEqual([
      'HANS',
      'LÜDENSCHEIDT',
      'MÜLLER',
      'PETER',
    ]);
  });
  it('placeholders', () => {
    for (const id of ['123456', '0000', '99999999', 'UNKNOWN', 'anonymous', 'X', '1', 'N/A', 'TEST'])
      expect(looksLikePlaceholder(id), id).toBe(true);
    for (const id of ['DEV', 'A1234567', '20180918Si', '1235987'])
      expect(looksLikePlaceholder(id), id).toBe(false);
  });
  it('pseudonyms are keyed: stable for one secret, different for another, never the ID', () => {
    const a = pseudonym('s1', 'DEV\u0000');
    expect(a).toMatch(/^pid#[0-9a-f]{12}$/);
    expect(pseudonym('s1', 'DEV\u0000')).toBe(a);
    expect(pseudonym('s2', 'DEV\u0000')).not.toBe(a);
  });
});

describe('study dates', () => {
  const today = '20260102';
  it.each([
    [null, 'undated', 'missing'],
    ['', 'undated', 'missing'],
    ['20250230', 'undated', 'invalid'],
    ['2025', 'undated', 'invalid'],
    ['1997.04.24', '1997', undefined],
    ['20260102', '2026', undefined],
    ['20260103', '2026', 'future'],
    ['19000101', '1900', 'too-old'],
    ['19691231', '1969', 'too-old'],
    ['19700101', '1970', undefined],
    ['20000229', '2000', undefined],
    ['19000229', 'undated', 'invalid'],
  ])('%j → year %s, %s', (v, year, problem) => {
    const d = judgeStudyDate(v, today);
    expect(d.year).toBe(year);
    expect(d.problem).toBe(problem);
  });
  it('tomorrow (UTC) is the last day that is not in the future', () => {
    expect(tomorrowOf(Date.UTC(2025, 11, 31, 23, 0))).toBe('20260101');
  });
});

describe('vendor normalisation (the corpus README names these spellings)', () => {
  it.each([
    ['SIEMENS', 'Siemens'],
    ['Siemens HealthCare GmbH', 'Siemens'],
    ['Siemens Healthineers', 'Siemens'],
    ['GE MEDICAL SYSTEMS', 'GE'],
    ['GE Medical Systems', 'GE'],
    ['G.E. Medical Systems', 'GE'],
    ['GE HealthCare', 'GE'],
    ['TOSHIBA', 'Canon (Toshiba)'],
    ['CANON_MEC', 'Canon (Toshiba)'],
    ['Philips Medical Systems', 'Philips'],
    ['', '(none)'],
    ['Acme Medical Devices', 'Acme Medical Devices'],
  ])('%j → %s', (m, v) => {
    expect(normaliseVendor(m)).toBe(v);
  });
});
