import { describe, expect, it } from 'vitest';
import * as z from 'zod';
import {
  compilePattern,
  formatDuration,
  globToRegExp,
  parseDuration,
  parseSize,
} from '../../../src/plan/index.js';
import { aeTitle, date, timeOfDay } from '../../../src/plan/primitives.js';
import { MINIMAL, mustParse } from './helpers.js';

describe('durations', () => {
  it.each([
    ['30s', 30_000],
    ['5m', 300_000],
    ['2h', 7_200_000],
    ['1h30m', 5_400_000],
    ['1h 30m', 5_400_000],
    ['500ms', 500],
    ['1.5s', 1500],
    ['7d', 604_800_000],
    ['1w', 604_800_000],
    ['0s', 0],
  ])('%s = %i ms', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it.each(['30', '', '5 min', '5M', '-5s', '5x', 's', '1h30'])('rejects %j', (text) => {
    expect(parseDuration(text)).toBeUndefined();
  });

  it('formats back to the shortest text', () => {
    for (const t of ['30s', '5m', '1h30m', '2d', '500ms', '1w', '1w1d'])
      expect(formatDuration(parseDuration(t) as number)).toBe(t);
  });

  it('are parsed to milliseconds in the plan', () => {
    const p = mustParse(
      MINIMAL.replace('calledAe: OLDPACS', 'calledAe: OLDPACS\n  timeouts: { connect: 1500ms, dimse: 1h }'),
    );
    expect(p.source.type === 'dimse' && p.source.timeouts).toEqual({
      connect: 1500,
      artim: 30_000,
      dimse: 3_600_000,
    });
  });

  it('accept "off" where a feature can be switched off', () => {
    expect(mustParse(`${MINIMAL}verify:\n  rerunEvery: off\n`).verify.rerunEvery).toBeNull();
    expect(mustParse(`${MINIMAL}verify:\n  rerunEvery: 12h\n`).verify.rerunEvery).toBe(43_200_000);
  });
});

describe('sizes', () => {
  it.each([
    ['512MiB', 512 * 1024 ** 2],
    ['20GiB', 20 * 1024 ** 3],
    ['20gib', 20 * 1024 ** 3],
    ['1.5 TB', 1.5e12],
    ['1kB', 1000],
    ['64KiB', 65_536],
    ['100B', 100],
    ['4096', 4096],
    [4096, 4096],
  ] as const)('%j = %i bytes', (text, bytes) => {
    expect(parseSize(text)).toBe(bytes);
  });

  it.each(['20G', 'x', '-1', '20 GB B', '', '1e3', 1.5, -1])('rejects %j', (text) => {
    expect(parseSize(text)).toBeUndefined();
  });

  it('are parsed to bytes in the plan', () => {
    expect(mustParse(`${MINIMAL}spool:\n  maxBytes: 512MiB\n`).spool.maxBytes).toBe(536_870_912);
    expect(mustParse(`${MINIMAL}spool:\n  maxBytes: 1073741824\n`).spool.maxBytes).toBe(1_073_741_824);
  });
});

describe('patterns', () => {
  it('globs match the whole value, case-insensitively', () => {
    const re = globToRegExp('TEST*');
    expect(re.test('TEST^PATIENT')).toBe(true);
    expect(re.test('test^patient')).toBe(true);
    expect(re.test('ATEST')).toBe(false);
    expect(globToRegExp('DOE^J?HN').test('DOE^JOHN')).toBe(true);
    expect(globToRegExp('DOE^J?HN').test('DOE^JOOHN')).toBe(false);
  });

  it('globs treat regex characters literally and \\ escapes * and ?', () => {
    expect(globToRegExp('A.(B)+[C]').test('A.(B)+[C]')).toBe(true);
    expect(globToRegExp('A.(B)+[C]').test('AX(B)+[C]')).toBe(false);
    expect(globToRegExp('5\\*').test('5*')).toBe(true);
    expect(globToRegExp('5\\*').test('55')).toBe(false);
    expect(globToRegExp('').test('')).toBe(true);
    expect(globToRegExp('').test('x')).toBe(false);
  });

  it('/regex/flags are regular expressions as written', () => {
    const r = compilePattern('/^zz/i');
    expect(r.ok && r.pattern.kind).toBe('regex');
    expect(r.ok && r.pattern.regex.test('ZZTEST')).toBe(true);
    expect(r.ok && r.pattern.regex.test('AZZ')).toBe(false);
  });

  it('reject stateful flags and bad syntax without quoting the pattern', () => {
    for (const p of ['/SMITH/g', '/SMITH/y', '/SMITH/ii', '/SMITH(/', '/SMITH[/']) {
      const r = compilePattern(p);
      expect(r.ok).toBe(false);
      if (!r.ok) expect(r.message).not.toContain('SMITH');
    }
  });

  it('are normalised in scope rules to DICOM keywords', () => {
    const p = mustParse(`${MINIMAL}scope:
  rules:
    - id: r
      action: exclude
      match:
        patientId: ["ZZ*", "/^QA/"]
        modality: [ct, MR]
        studyDate: { from: 2010-01-01, to: 20151231 }
        StationName: "CT-ROOM-?"
`);
    const m = p.scope.rules[0]!.match;
    expect(Object.keys(m.attributes)).toEqual(['PatientID', 'StationName']);
    expect(m.attributes.PatientID?.map((x) => x.kind)).toEqual(['glob', 'regex']);
    expect(m.attributes.StationName?.[0]?.regex.test('ct-room-2')).toBe(true);
    expect(m.modality).toEqual(['CT', 'MR']);
    expect(m.studyDate).toEqual({ from: '20100101', to: '20151231' });
  });
});

describe('AE titles, dates, times, days', () => {
  const ae = (v: unknown) => aeTitle().safeParse(v);
  it('AE titles: trimmed, 1–16 characters, no backslash', () => {
    expect(ae(' OLDPACS ').data).toBe('OLDPACS');
    expect(ae('A'.repeat(16)).success).toBe(true);
    expect(ae('A'.repeat(17)).success).toBe(false);
    expect(ae('   ').success).toBe(false);
    expect(ae('A\\B').success).toBe(false);
    expect(ae('A\tB').success).toBe(false);
    expect(ae('MY PACS').success).toBe(true);
    expect(ae(104).success).toBe(false);
  });

  it('dates: real calendar dates only, normalised to YYYYMMDD', () => {
    const d = (v: unknown) => date().safeParse(v);
    expect(d('2024-02-29').data).toBe('20240229');
    expect(d(20240229).data).toBe('20240229');
    expect(d('2023-02-29').success).toBe(false);
    expect(d('2023-13-01').success).toBe(false);
    expect(d('01/02/2023').success).toBe(false);
  });

  it('times of day: minutes since midnight, 24:00 is the end of the day', () => {
    const t = (v: unknown) => timeOfDay().safeParse(v);
    expect(t('00:00').data).toBe(0);
    expect(t('7:05').data).toBe(425);
    expect(t('24:00').data).toBe(1440);
    expect(t('24:01').success).toBe(false);
    expect(t('12:60').success).toBe(false);
    expect(t(1900).success).toBe(false);
  });

  it('days: shorthands expand, order is normalised', () => {
    const p = mustParse(`${MINIMAL}transfer:
  windows:
    - { days: [sun, weekdays], from: "19:00", to: "07:00" }
    - { days: daily, from: "12:00", to: "13:00", paused: true }
`);
    expect(p.transfer.windows[0]?.days).toEqual(['mon', 'tue', 'wed', 'thu', 'fri', 'sun']);
    expect(p.transfer.windows[0]).toMatchObject({ from: 1140, to: 420, paused: false });
    expect(p.transfer.windows[1]?.days).toHaveLength(7);
  });

  it('are plain zod schemas usable elsewhere', () => {
    expect(z.object({ at: timeOfDay() }).parse({ at: '01:30' })).toEqual({ at: 90 });
  });
});
