/**
 * The status table (src/net/dimse/status.ts) against the field notes' "Status codes and what each must
 * trigger" (shared/docs/domain.md), row by row, and against PS3.7 Annex C for the categories: every code of
 * every service is checked, so an unknown code can never pass for success.
 */
import { describe, expect, it } from 'vitest';
import {
  type DimseService,
  STATUS_TABLE,
  hex,
  isPending,
  isSuccess,
  lookupStatus,
} from '../../../src/net/dimse/status.js';

const SERVICES: DimseService[] = [
  'C-STORE',
  'C-FIND',
  'C-MOVE',
  'C-GET',
  'C-ECHO',
  'N-ACTION',
  'N-EVENT-REPORT',
  'STORAGE-COMMITMENT',
  'STOW-RS',
];
const range = (from: number, to: number): number[] =>
  Array.from({ length: to - from + 1 }, (_, i) => from + i);
const action = (service: DimseService, code: number) => lookupStatus(service, code).action;

/** domain.md, "Status codes and what each must trigger": [services, codes, action, category]. */
const DOMAIN_ROWS: [string, DimseService[], number[], string, string][] = [
  ['C-STORE 0000 stored: verify', ['C-STORE'], [0x0000], 'verify', 'success'],
  [
    'C-STORE B000/B006/B007 warnings: accept, record, verify content',
    ['C-STORE'],
    [0xb000, 0xb006, 0xb007],
    'accept-warning-verify',
    'warning',
  ],
  [
    'C-STORE A700 and other A7xx: retry with back-off',
    ['C-STORE'],
    [0xa700, 0xa701, 0xa702, 0xa710, 0xa76f, 0xa77c, 0xa7ff],
    'retry-backoff',
    'failure',
  ],
  [
    'C-STORE A770–A77B (dcm4chee data conflicts): quarantine',
    ['C-STORE'],
    range(0xa770, 0xa77b),
    'quarantine',
    'failure',
  ],
  ['C-STORE A9xx: quarantine', ['C-STORE'], [0xa900, 0xa901, 0xa950, 0xa9ff], 'quarantine', 'failure'],
  [
    'C-STORE Cxxx: one retry in another syntax, then quarantine',
    ['C-STORE'],
    [0xc000, 0xc001, 0xc122, 0xc211, 0xcfff],
    'retry-other-syntax-then-quarantine',
    'failure',
  ],
  ['C-STORE 0111 duplicate: compare content', ['C-STORE'], [0x0111], 'compare-content', 'failure'],
  [
    'C-STORE 0122 SOP class not supported: capability gap',
    ['C-STORE'],
    [0x0122],
    'quarantine-capability-gap',
    'failure',
  ],
  [
    'C-STORE 0124, 0210–0212: stop, configuration or bug',
    ['C-STORE'],
    [0x0124, 0x0210, 0x0211, 0x0212],
    'stop-configuration',
    'failure',
  ],
  ['C-MOVE/GET FF00 pending: progress', ['C-MOVE', 'C-GET'], [0xff00], 'progress', 'pending'],
  ['C-MOVE/GET 0000 done: reconcile per instance', ['C-MOVE', 'C-GET'], [0x0000], 'reconcile', 'success'],
  [
    'C-MOVE/GET B000 done with failures: reconcile per instance',
    ['C-MOVE', 'C-GET'],
    [0xb000],
    'reconcile',
    'warning',
  ],
  [
    'C-MOVE/GET A701/A702 out of resources: back off, retry smaller',
    ['C-MOVE', 'C-GET'],
    [0xa701, 0xa702],
    'backoff-retry-smaller',
    'failure',
  ],
  ['C-MOVE A801 destination unknown: stop the run', ['C-MOVE'], [0xa801], 'stop-run', 'failure'],
  [
    'C-MOVE/GET/FIND FE00 not requested: incomplete, reconcile or split',
    ['C-MOVE', 'C-GET', 'C-FIND'],
    [0xfe00],
    'incomplete-split',
    'cancel',
  ],
  [
    'C-FIND B001 response limit (note 4): incomplete, split',
    ['C-FIND'],
    [0xb001],
    'incomplete-split',
    'warning',
  ],
  [
    'Storage commitment 0112 no such instance: re-send then commit again',
    ['STORAGE-COMMITMENT'],
    [0x0112],
    'resend-commit',
    'failure',
  ],
  [
    'Storage commitment 0110 processing failure: re-send, bounded',
    ['STORAGE-COMMITMENT'],
    [0x0110],
    'resend-commit',
    'failure',
  ],
  [
    'Storage commitment 0119 class-instance conflict: conflict',
    ['STORAGE-COMMITMENT'],
    [0x0119],
    'conflict',
    'failure',
  ],
  [
    'Storage commitment 0213 resource limitation: later',
    ['STORAGE-COMMITMENT'],
    [0x0213],
    'later',
    'failure',
  ],
  ['STOW-RS: the C-STORE families, and C122', ['STOW-RS'], [0xa700, 0xa900, 0x0122, 0xc122], '', 'failure'],
];

describe('status table: the field notes, row by row', () => {
  it.each(DOMAIN_ROWS)('%s', (_row, services, codes, act, category) => {
    for (const s of services) {
      for (const c of codes) {
        const e = lookupStatus(s, c);
        if (act) expect([s, hex(c), e.action]).toEqual([s, hex(c), act]);
        expect([s, hex(c), e.category]).toEqual([s, hex(c), category]);
      }
    }
  });

  it('STOW-RS failure reasons take the C-STORE action of the same code', () => {
    for (const c of [0xa700, 0xa770, 0xa900, 0xc000, 0xc122, 0x0111, 0x0122, 0x0124, 0xb000]) {
      expect([hex(c), action('STOW-RS', c)]).toEqual([hex(c), action('C-STORE', c)]);
    }
  });

  it('C-FIND pending matches (FF00, FF01) are progress', () => {
    expect(action('C-FIND', 0xff00)).toBe('progress');
    expect(action('C-FIND', 0xff01)).toBe('progress');
    expect(isPending('C-FIND', 0xff01)).toBe(true);
  });

  it('C-GET A801 is not "stop the run" (a C-GET has no move destination)', () => {
    expect(action('C-GET', 0xa801)).not.toBe('stop-run');
    expect(lookupStatus('C-GET', 0xa801).category).toBe('failure');
  });
});

describe('status table: categories over every code (PS3.7 Annex C)', () => {
  it('over all 65536 codes: only 0000 is success, only FF00/FF01 pending (and only where a service has pending responses)', () => {
    for (const s of SERVICES) {
      const successes: string[] = [];
      const pending: string[] = [];
      for (let c = 0; c <= 0xffff; c++) {
        const cat = lookupStatus(s, c).category;
        if (cat === 'success') successes.push(hex(c));
        else if (cat === 'pending') pending.push(hex(c));
      }
      const expectedPending =
        s === 'C-FIND' ? ['FF00', 'FF01'] : s === 'C-MOVE' || s === 'C-GET' ? ['FF00'] : [];
      expect([s, successes, pending]).toEqual([s, ['0000'], expectedPending]);
      expect(isSuccess(s, 0)).toBe(true);
    }
  });

  it('an unknown code is a failure to quarantine, and says so', () => {
    for (const [s, c] of [
      ['C-STORE', 0x0002],
      ['C-STORE', 0xff00],
      ['C-ECHO', 0xd000],
      ['C-FIND', 0xeeee],
      ['C-MOVE', 0x9000],
    ] as const) {
      const e = lookupStatus(s, c);
      expect(e.category).toBe('failure');
      expect(e.action).toBe('quarantine');
    }
    expect(lookupStatus('C-STORE', 0x0002).meaning).toMatch(/unknown status 0x0002/);
  });

  it('failure families of PS3.7 C.4: Axxx, Cxxx, and 01xx/02xx are failures for every service', () => {
    for (const s of SERVICES) {
      for (const c of [0xa000, 0xa123, 0xafff, 0xc000, 0xc555, 0xcfff, 0x0105, 0x0117, 0x0212]) {
        expect([s, hex(c), lookupStatus(s, c).category]).toEqual([s, hex(c), 'failure']);
      }
    }
  });

  it('warning families: Bxxx and 0001/0107/0116 are warnings for every service', () => {
    for (const s of SERVICES) {
      for (const c of [0xb000, 0xb123, 0xbfff, 0x0001, 0x0107, 0x0116]) {
        expect([s, hex(c), lookupStatus(s, c).category]).toEqual([s, hex(c), 'warning']);
      }
    }
  });

  it('every entry is well formed: ranges ascend, specific entries come before the ranges that contain them', () => {
    STATUS_TABLE.forEach((e, i) => {
      if (typeof e.code !== 'number') expect(e.code[0]).toBeLessThanOrEqual(e.code[1]);
      // an entry never shadowed completely by an earlier one: it is reachable for some service and code
      const codes = typeof e.code === 'number' ? [e.code] : range(e.code[0], e.code[1]);
      const services = e.services === 'any' ? SERVICES : e.services;
      const reachable = services.some((s) =>
        codes.some((c) => STATUS_TABLE.findIndex((x) => x === lookupStatus(s, c)) === i),
      );
      expect([hex(codes[0]!), e.meaning, reachable]).toEqual([hex(codes[0]!), e.meaning, true]);
    });
  });

  it('hex() is four upper-case digits', () => {
    expect(hex(0xa7)).toBe('00A7');
    expect(hex(0xfe00)).toBe('FE00');
  });
});
