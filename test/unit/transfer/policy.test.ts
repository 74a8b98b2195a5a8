import { describe, expect, it } from 'vitest';
import { lookupStatus } from '../../../src/net/dimse/status.js';
import type { StoreOutcome } from '../../../src/net/services/store-scu.js';
import { CircuitBreaker, breakerGate } from '../../../src/transfer/breaker.js';
import { decideStoreOutcome } from '../../../src/transfer/store-outcome.js';
import { localTime, windowCovers } from '../../../src/transfer/windows.js';

const inst = {
  path: '/x.dcm',
  sopClassUid: '1.2',
  sopInstanceUid: '1.2.3',
  transferSyntaxUid: '1.2.840.10008.1.2.1',
  datasetOffset: 0,
  datasetLength: 10,
};
const answered = (status: number): StoreOutcome => {
  const entry = lookupStatus('C-STORE', status);
  return entry.category === 'success' || entry.category === 'warning'
    ? { ok: true, instance: inst, status, entry }
    : { ok: false, instance: inst, status, entry };
};

describe('C-STORE outcomes → what the migration does (domain.md status table)', () => {
  it.each([
    [0x0000, 'stored', 'none'],
    [0xb000, 'stored', 'none'],
    [0xb007, 'stored', 'none'],
    [0xa700, 'failed', 'retry'],
    [0xa7ff, 'failed', 'retry'],
    [0xa771, 'quarantined', 'quarantine'],
    [0xa900, 'quarantined', 'quarantine'],
    [0xc000, 'quarantined', 'quarantine'],
    [0x0122, 'quarantined', 'quarantine'],
    [0x0111, 'stored', 'none'],
    [0x0124, 'failed', 'stop'],
    [0x0211, 'failed', 'stop'],
  ] as const)('0x%s → %s / %s', (status, outcome, effect) => {
    const d = decideStoreOutcome(answered(status));
    expect(d.record.outcome).toBe(outcome);
    expect(d.effect).toBe(effect);
    expect(d.record.status).toBe(status);
  });

  it('a duplicate (0111) is stored for verification to compare, with its category', () => {
    expect(decideStoreOutcome(answered(0x0111)).record.category).toBe('duplicate');
  });

  it('no answer is a retry; no presentation context is a capability gap; a rejection stops the run', () => {
    expect(
      decideStoreOutcome({
        ok: false,
        instance: inst,
        failure: { kind: 'aborted', source: 2, reason: 0, message: 'x' },
      }).effect,
    ).toBe('retry');
    expect(
      decideStoreOutcome({
        ok: false,
        instance: inst,
        failure: { kind: 'timeout', phase: 'dimse', message: 'x' },
      }).effect,
    ).toBe('retry');
    const gap = decideStoreOutcome({
      ok: false,
      instance: inst,
      failure: { kind: 'no-presentation-context', message: 'x' },
    });
    expect(gap.effect).toBe('quarantine');
    expect(gap.record.category).toBe('no-presentation-context');
    expect(
      decideStoreOutcome({
        ok: false,
        instance: inst,
        failure: { kind: 'rejected', result: 1, source: 1, reason: 3, message: 'x' },
      }).effect,
    ).toBe('stop');
  });
});

describe('circuit breaker', () => {
  it('opens after N consecutive failures, half-opens after the cool-down for one trial, closes on success', () => {
    let now = 0;
    const b = new CircuitBreaker('target', 3, 1000, () => now);
    b.failure();
    b.failure();
    b.success();
    b.failure();
    b.failure();
    expect(b.state()).toBe('closed');
    expect(b.failure()).toBe(true); // this one opened it
    expect(b.state()).toBe('open');
    expect(b.allow()).toBe('wait');
    expect(b.admits()).toBe(0);
    expect(b.waitMs()).toBe(1000);
    expect([b.since(), b.nextTrialAt()]).toEqual([0, 1000]);
    now = 1000;
    expect(b.state()).toBe('half-open');
    expect(b.admits()).toBe(1);
    expect(b.allow()).toBe('trial');
    expect(b.allow()).toBe('wait'); // one trial at a time
    expect(b.admits()).toBe(0);
    expect(b.failure()).toBe(true); // the trial failed: open for another cool-down
    expect(b.state()).toBe('open');
    expect([b.since(), b.nextTrialAt()]).toEqual([0, 2000]);
    now = 2000;
    expect(b.allow()).toBe('trial');
    b.abandon(); // no verdict (a throw): the next job may try
    expect(b.allow()).toBe('trial');
    b.success();
    expect(b.state()).toBe('closed');
    expect(b.since()).toBeUndefined();
    expect(b.admits()).toBe(Number.POSITIVE_INFINITY);
  });

  it('breakerGate: every free slot while closed; one trial candidate when due; else wait until the next trial', () => {
    let now = 0;
    const source = new CircuitBreaker('source', 1, 30_000, () => now);
    const target = new CircuitBreaker('target', 1, 30_000, () => now);
    expect(breakerGate([source, target], 3, false)).toEqual({ slots: 3, waitMs: 1000 });
    target.failure();
    expect(breakerGate([source, target], 3, false)).toEqual({ slots: 0, waitMs: 30_000 });
    now = 10_000;
    expect(breakerGate([source, target], 3, false)).toEqual({ slots: 0, waitMs: 20_000 });
    now = 30_000;
    expect(breakerGate([source, target], 3, false)).toEqual({ slots: 1, waitMs: 1000 });
    expect(breakerGate([source, target], 3, true)).toEqual({ slots: 0, waitMs: 1000 });
    expect(breakerGate([source, target], 0, false)).toEqual({ slots: 0, waitMs: 1000 });
  });
});

describe('time windows', () => {
  const w = (days: string[], from: string, to: string) => {
    const m = (s: string) => Number(s.slice(0, 2)) * 60 + Number(s.slice(3));
    return { days, from: m(from), to: m(to), paused: false } as never;
  };
  it('covers same-day windows and windows that wrap midnight (belonging to the day they start)', () => {
    expect(windowCovers(w(['mon'], '07:00', '19:00'), 'mon', 7 * 60)).toBe(true);
    expect(windowCovers(w(['mon'], '07:00', '19:00'), 'mon', 19 * 60)).toBe(false);
    const night = w(['fri'], '18:00', '07:00');
    expect(windowCovers(night, 'fri', 23 * 60)).toBe(true);
    expect(windowCovers(night, 'sat', 6 * 60)).toBe(true);
    expect(windowCovers(night, 'sat', 8 * 60)).toBe(false);
    expect(windowCovers(night, 'fri', 6 * 60)).toBe(false);
  });
  it('reads local time in a named time zone', () => {
    // 2026-11-27 is a Friday; 23:30 UTC is 00:30 Saturday in Stockholm (UTC+1 in November)
    const t = Date.UTC(2026, 10, 27, 23, 30);
    expect(localTime(t, 'UTC')).toEqual({ day: 'fri', minutes: 23 * 60 + 30 });
    expect(localTime(t, 'Europe/Stockholm')).toEqual({ day: 'sat', minutes: 30 });
  });
});
