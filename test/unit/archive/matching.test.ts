import { describe, expect, it } from 'vitest';
import { compileMatcher, isSingleValue } from '../../../src/archive/matching.js';

const m = (vr: string, q: string) => compileMatcher(vr, q);

describe('C-FIND matching (PS3.4 C.2.2.2)', () => {
  it('universal matching: empty or only * matches everything, absent values included', () => {
    for (const q of ['', '*', '**']) {
      expect(m('LO', q).kind).toBe('universal');
      expect(m('LO', q).test(undefined)).toBe(true);
      expect(m('DA', q).test('20200101')).toBe(true);
    }
  });

  it('single value matching is exact; PN is case-insensitive, CS/LO are not', () => {
    expect(m('LO', 'ABC').test('ABC')).toBe(true);
    expect(m('LO', 'ABC').test('abc')).toBe(false);
    expect(m('LO', 'ABC').test('ABCD')).toBe(false);
    expect(m('LO', 'ABC').test(undefined)).toBe(false);
    expect(m('PN', 'doe^john').test('Doe^John')).toBe(true);
    expect(m('PN', 'doe').test('Doe^John')).toBe(false);
    expect(m('CS', 'mr').test('MR')).toBe(false);
  });

  it('wildcards * and ? on text VRs; literal elsewhere', () => {
    expect(m('PN', 'do*').test('Doe^John')).toBe(true);
    expect(m('PN', '*^jo?n').test('Doe^John')).toBe(true);
    expect(m('PN', '*^jo?n').test('Doe^Joan ')).toBe(true);
    expect(m('LO', 'A?C').test('ABC')).toBe(true);
    expect(m('LO', 'A?C').test('ABBC')).toBe(false);
    expect(m('LO', 'A.C*').test('ABC')).toBe(false); // regex characters are literal
    expect(m('SH', '1+1*').test('1+12')).toBe(true);
    expect(m('UI', '1.2.*').test('1.2.3')).toBe(false); // no wildcards on UIDs
  });

  it('a multi-valued attribute matches when any of its values does', () => {
    expect(m('CS', 'MR').test('CT\\MR')).toBe(true);
    expect(m('CS', 'PT').test('CT\\MR')).toBe(false);
    expect(m('LO', '*XA*').test('syngo MR XA30\\foo')).toBe(true);
  });

  it('a query value with backslashes matches any of its values', () => {
    expect(m('CS', 'CT\\MR').test('MR')).toBe(true);
    expect(m('CS', 'CT\\MR').test('US')).toBe(false);
  });

  it('UID list matching', () => {
    const u = m('UI', '1.2.3\\1.2.4');
    expect(u.kind).toBe('uid-list');
    expect(u.test('1.2.4')).toBe(true);
    expect(u.test('1.2.5')).toBe(false);
    expect(u.test('1.2.3.4')).toBe(false);
    expect(m('UI', '1.2.3').test('9.9\\1.2.3')).toBe(true);
  });

  it('date ranges: closed, open either side, single dates, legacy dotted dates', () => {
    const r = m('DA', '20200101-20201231');
    expect(r.kind).toBe('range');
    expect(r.test('20200101')).toBe(true);
    expect(r.test('20201231')).toBe(true);
    expect(r.test('20210101')).toBe(false);
    expect(r.test('20191231')).toBe(false);
    expect(r.test('')).toBe(false);
    expect(r.test(undefined)).toBe(false);
    expect(m('DA', '20200101-').test('20991231')).toBe(true);
    expect(m('DA', '20200101-').test('20191231')).toBe(false);
    expect(m('DA', '-20200101').test('19000101')).toBe(true);
    expect(m('DA', '-20200101').test('20200102')).toBe(false);
    expect(m('DA', '20200101').test('20200101')).toBe(true);
    expect(m('DA', '20200101').test('20200102')).toBe(false);
    expect(m('DA', '2020.01.01-2020.12.31').test('2020.06.15')).toBe(true);
    expect(m('DA', '20200101\\20200301').test('20200301')).toBe(true);
  });

  it('time ranges compare whole units: an upper bound of 11 includes 11:59', () => {
    expect(m('TM', '1000-11').test('115959.99')).toBe(true);
    expect(m('TM', '1000-11').test('120000')).toBe(false);
    expect(m('TM', '1000-11').test('095959')).toBe(false);
    expect(m('TM', '10:00-10:30').test('10:15:00')).toBe(true);
    expect(m('TM', '1012').test('101259.5')).toBe(true);
    expect(m('TM', '1012').test('101300')).toBe(false);
    expect(m('DT', '20200101-20200101120000').test('20200101115959')).toBe(true);
    expect(m('DT', '20200101-20200101120000').test('20200101120001')).toBe(false);
  });

  it('IS/DS compare numerically', () => {
    expect(m('IS', '1').test('01')).toBe(true);
    expect(m('IS', '1').test('10')).toBe(false);
  });

  it('isSingleValue tells a unique key above the level is one value', () => {
    expect(isSingleValue('UI', '1.2.3')).toBe(true);
    expect(isSingleValue('UI', '1.2.3\\1.2.4')).toBe(false);
    expect(isSingleValue('UI', '')).toBe(false);
    expect(isSingleValue('LO', 'ID*')).toBe(false);
    expect(isSingleValue('LO', 'ID1')).toBe(true);
  });
});
