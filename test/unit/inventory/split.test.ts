import { describe, expect, it } from 'vitest';
import { addYears, daysFromCivil, formatDA, parseDA } from '../../../src/inventory/dates.js';
import {
  DATED_DIMS,
  FULL_DAYS,
  MAX_DAY,
  MIN_DAY,
  type DayRange,
  type SplitContext,
  type StudyNode,
  dateKey,
  matchingKeys,
  needsUtf8,
  prefixAlphabet,
  splitDays,
  splitNode,
  splitPrefix,
  splitRoot,
  splitSeconds,
  timeKey,
} from '../../../src/inventory/split.js';

const day = (da: string): number => parseDA(da)!;
const TODAY = day('20260315');
const ctx = (over: Partial<SplitContext> = {}): SplitContext => ({
  today: TODAY,
  observed: { PatientName: [], PatientID: [], modalities: [] },
  modalities: ['CT', 'MR'],
  ...over,
});

/** Every day of `r` lies in exactly one part, and the parts are inside `r`. */
function expectPartition(r: DayRange, parts: DayRange[]): void {
  const sorted = [...parts].sort((a, b) => a.from - b.from);
  expect(sorted[0]!.from).toBe(r.from);
  expect(sorted.at(-1)!.to).toBe(r.to);
  for (let i = 1; i < sorted.length; i++) expect(sorted[i]!.from).toBe(sorted[i - 1]!.to + 1);
  for (const p of sorted) expect(p.from).toBeLessThanOrEqual(p.to);
}

/** Splits `r` recursively until single days; returns the leaves. */
function leaves(r: DayRange, depth = 0): DayRange[] {
  expect(depth).toBeLessThan(40);
  const parts = splitDays(r, TODAY);
  if (!parts) return [r];
  expectPartition(r, parts);
  return parts.flatMap((p) => leaves(p, depth + 1));
}

describe('dates', () => {
  it('round-trips day numbers for years 1 to 9999 and refuses non-dates', () => {
    for (const da of ['00010101', '16000229', '19000228', '19700101', '20000229', '20260315', '99991231']) {
      expect(formatDA(parseDA(da)!)).toBe(da);
    }
    expect(daysFromCivil(1970, 1, 1)).toBe(0);
    expect(parseDA('1997.04.24')).toBe(day('19970424'));
    for (const bad of [
      '',
      '2026',
      '20260230',
      '19000229',
      '20261301',
      '2026-03-15',
      'abcdefgh',
      '00000101',
    ]) {
      expect(parseDA(bad)).toBeUndefined();
    }
  });

  it('adds years, moving 29 February to 1 March in common years', () => {
    expect(formatDA(addYears(day('20100315'), 10))).toBe('20200315');
    expect(formatDA(addYears(day('20200229'), 1))).toBe('20210301');
    expect(formatDA(addYears(day('20200229'), 4))).toBe('20240229');
  });
});

describe('date ranges', () => {
  it('writes DICOM range matching values, open ends as "A-" and "-B"', () => {
    expect(dateKey(FULL_DAYS)).toBe('');
    expect(dateKey({ from: MIN_DAY, to: day('18991231') })).toBe('-18991231');
    expect(dateKey({ from: day('20270101'), to: MAX_DAY })).toBe('20270101-');
    expect(dateKey({ from: day('20200101'), to: day('20201231') })).toBe('20200101-20201231');
    expect(dateKey({ from: day('20200101'), to: day('20200101') })).toBe('20200101');
  });

  it('splits the open range into before 1900, 1900 to the end of this year, and later', () => {
    const parts = splitDays(FULL_DAYS, TODAY)!;
    expect(parts.map(dateKey)).toEqual(['-18991231', '19000101-20261231', '20270101-']);
    expectPartition(FULL_DAYS, parts);
  });

  it('bisects at a year boundary, then a month boundary, then the middle day', () => {
    expect(splitDays({ from: day('19000101'), to: day('20261231') }, TODAY)!.map(dateKey)).toEqual([
      '19000101-19631231',
      '19640101-20261231',
    ]);
    expect(splitDays({ from: day('20200101'), to: day('20201231') }, TODAY)!.map(dateKey)).toEqual([
      '20200101-20200630',
      '20200701-20201231',
    ]);
    expect(splitDays({ from: day('20200301'), to: day('20200310') }, TODAY)!.map(dateKey)).toEqual([
      '20200301-20200305',
      '20200306-20200310',
    ]);
    expect(splitDays({ from: day('20200228'), to: day('20200229') }, TODAY)!.map(dateKey)).toEqual([
      '20200228',
      '20200229',
    ]);
  });

  it('reaches single days from any range, partitioning at every step, and never splits a single day', () => {
    expect(splitDays({ from: day('20200101'), to: day('20200101') }, TODAY)).toBeUndefined();
    const r = { from: day('20191220'), to: day('20200115') };
    const ls = leaves(r);
    expect(ls).toHaveLength(27);
    expect(ls.every((l) => l.from === l.to)).toBe(true);
    // The open root, followed down one arbitrary path, also ends at one day.
    let cur: DayRange = FULL_DAYS;
    let steps = 0;
    for (let parts = splitDays(cur, TODAY); parts; parts = splitDays(cur, TODAY)) {
      expectPartition(cur, parts);
      cur = parts[steps % parts.length]!;
      steps++;
    }
    expect(cur.from).toBe(cur.to);
    expect(steps).toBeLessThan(40);
  });
});

describe('time ranges', () => {
  it('halves the day, then bisects at hours, then at minutes, down to one minute', () => {
    const halves = splitSeconds(undefined)!;
    expect(halves.map(timeKey)).toEqual(['000000-115959', '120000-235959']);
    expect(splitSeconds(halves[0])!.map(timeKey)).toEqual(['000000-055959', '060000-115959']);
    let r = halves[1]!;
    let n = 0;
    for (let p = splitSeconds(r); p; p = splitSeconds(r)) {
      expect(p[0]!.to + 1).toBe(p[1]!.from);
      expect(p[0]!.from).toBe(r.from);
      expect(p[1]!.to).toBe(r.to);
      r = p[0]!;
      n++;
    }
    expect(r.to - r.from + 1).toBeLessThanOrEqual(60);
    expect(n).toBeLessThan(20);
  });
});

describe('prefixes', () => {
  it('starts with the alphabet, then adds the exact prefix and one more character, up to the longest prefix', () => {
    const alpha = prefixAlphabet('PatientName');
    const first = splitPrefix(undefined, alpha)!;
    expect(first.map((p) => p.value)).toEqual([...'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789^ ']);
    const second = splitPrefix({ value: 'SM', exact: false }, ['I', 'Y'], 3)!;
    expect(second).toEqual([
      { value: 'SM', exact: true },
      { value: 'SMI', exact: false },
      { value: 'SMY', exact: false },
    ]);
    expect(splitPrefix({ value: 'SMI', exact: false }, ['T'], 3)).toBeUndefined();
    expect(splitPrefix({ value: 'SM', exact: true }, ['T'], 3)).toBeUndefined();
  });

  it('adds observed characters, case-folded for names, never wildcards or the value separator', () => {
    expect(prefixAlphabet('PatientName', ['é', 'É', 'a', '*', '?', '\\', 'Δ'])).toEqual([
      ...'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789^ ',
      'é',
      'Δ',
    ]);
    const ids = prefixAlphabet('PatientID', ['a', '.']);
    expect(ids).toContain('a');
    expect(ids.at(-1)).toBe('.');
  });
});

describe('nodes', () => {
  const dated = (from: string, to: string): StudyNode => ({
    pass: 'dated',
    constraints: { date: { from: day(from), to: day(to) } },
    dims: DATED_DIMS,
  });

  it('splits the capped root into the dated pass and one undated tree per key', () => {
    const parts = splitRoot(ctx({ observed: { PatientName: [], PatientID: ['x9'], modalities: ['ZZ'] } }), [
      'ModalitiesInStudy',
      'PatientID',
    ]);
    const keys = parts.map((p): Record<string, string> => ({ pass: p.pass, ...matchingKeys(p) }));
    expect(keys.filter((k) => k.pass === 'dated').map((k) => k.StudyDate)).toEqual([
      '-18991231',
      '19000101-20261231',
      '20270101-',
    ]);
    const undated = keys.filter((k) => k.pass === 'undated');
    expect(undated.filter((k) => k.ModalitiesInStudy).map((k) => k.ModalitiesInStudy)).toEqual([
      'CT',
      'MR',
      'ZZ',
    ]);
    const ids = undated.filter((k) => k.PatientID).map((k) => k.PatientID);
    expect(ids).toContain('A*');
    expect(ids).toContain('x*');
    expect(undated.every((k) => k.StudyDate === undefined)).toBe(true);
  });

  it('splits a dated part by date down to one day, then by time, then modality, then name', () => {
    let node = dated('20200301', '20200302');
    let s = splitNode(node, ctx())!;
    expect(s.dim).toBe('StudyDate');
    node = s.children[1]!;
    expect(matchingKeys(node)).toEqual({ StudyDate: '20200302' });
    s = splitNode(node, ctx())!;
    expect(s.dim).toBe('StudyTime');
    expect(s.children.map((c) => matchingKeys(c).StudyTime)).toEqual(['000000-115959', '120000-235959']);
    let t = s.children[0]!;
    for (let p = splitNode(t, ctx()); p && p.dim === 'StudyTime'; p = splitNode(t, ctx())) t = p.children[0]!;
    s = splitNode(t, ctx())!;
    expect(s.dim).toBe('ModalitiesInStudy');
    expect(s.children.map((c) => matchingKeys(c).ModalitiesInStudy)).toEqual(['CT', 'MR']);
    s = splitNode(
      s.children[0]!,
      ctx({ observed: { PatientName: ['ÖZ^A'], PatientID: [], modalities: [] } }),
    )!;
    expect(s.dim).toBe('PatientName');
    const names = s.children.map((c) => matchingKeys(c).PatientName);
    expect(names).toContain('A*');
    expect(names).toContain('Ö*');
    const k = matchingKeys(s.children[0]!);
    expect(k.StudyDate).toBe('20200302');
    expect(k.ModalitiesInStudy).toBe('CT');
    expect(k.StudyTime).toMatch(/^\d{6}-\d{6}$/);
    expect(needsUtf8(matchingKeys(s.children.find((c) => matchingKeys(c).PatientName === 'Ö*')!))).toBe(true);
    expect(needsUtf8(k)).toBe(false);
  });

  it('returns undefined when a node has nothing left to split', () => {
    const node: StudyNode = {
      pass: 'dated',
      constraints: {
        date: { from: day('20200302'), to: day('20200302') },
        time: { from: 0, to: 59 },
        modality: 'CT',
        prefix: { PatientName: { value: 'ABCDEFGH', exact: false } },
      },
      dims: DATED_DIMS,
    };
    expect(splitNode(node, ctx())).toBeUndefined();
  });
});
