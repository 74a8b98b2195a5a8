import { describe, expect, it } from 'vitest';
import {
  backoffDelay,
  checkAdvance,
  compareStates,
  FAILURE_STATES,
  isTerminal,
  JOB_STATES,
  MIGRATIONS,
  PROGRESS_STATES,
  RUNNABLE_STATES,
} from '../../../src/state/index.js';
import { toPgPlaceholders } from '../../../src/state/db.js';
import { checkMigrationList } from '../../../src/state/migrate.js';
import { render } from '../../../src/state/migrations/types.js';
import { formatErrorCode } from '../../../src/state/ops/_rows.js';

describe('job states: an ordered enum defined as data', () => {
  it('orders the progress line and puts failure states after it', () => {
    expect(PROGRESS_STATES).toEqual([
      'pending',
      'retrieving',
      'retrieved',
      'storing',
      'stored',
      'verifying',
      'verified',
    ]);
    for (let i = 1; i < PROGRESS_STATES.length; i++) {
      expect(compareStates(PROGRESS_STATES[i - 1]!, PROGRESS_STATES[i]!)).toBeLessThan(0);
    }
    for (const f of FAILURE_STATES) expect(compareStates('verified', f)).toBeLessThan(0);
    expect(JOB_STATES).toHaveLength(10);
    expect(() => compareStates('nope' as never, 'pending')).toThrow(TypeError);
  });

  it('knows which states are terminal and which are runnable', () => {
    expect(JOB_STATES.filter(isTerminal)).toEqual(['verified', 'failed', 'dead', 'excluded']);
    expect(RUNNABLE_STATES).toEqual(['pending', 'retrieving', 'retrieved', 'storing', 'stored', 'verifying']);
  });

  it('allows forward moves and the same state, refuses backwards, out of terminal, and into failure states', () => {
    expect(checkAdvance('pending', 'retrieving')).toEqual({ ok: true, changed: true });
    expect(checkAdvance('pending', 'stored')).toEqual({ ok: true, changed: true });
    expect(checkAdvance('storing', 'storing')).toEqual({ ok: true, changed: false });
    expect(checkAdvance('storing', 'retrieved')).toEqual({ ok: false, reason: 'backwards' });
    expect(checkAdvance('dead', 'verified')).toEqual({ ok: false, reason: 'terminal' });
    expect(checkAdvance('failed', 'pending')).toEqual({ ok: false, reason: 'terminal' });
    expect(checkAdvance('storing', 'failed')).toEqual({ ok: false, reason: 'not-a-progress-state' });
    // every pair, against the ranks
    for (const from of JOB_STATES) {
      for (const to of PROGRESS_STATES) {
        const c = checkAdvance(from, to);
        if (from === to) expect(c).toEqual({ ok: true, changed: false });
        else if (isTerminal(from)) expect(c.ok).toBe(false);
        else expect(c.ok).toBe(compareStates(from, to) < 0);
      }
    }
  });
});

describe('back-off', () => {
  const p = { baseMs: 30_000, factor: 2, capMs: 3_600_000 };
  it('grows exponentially from the base and stops at the cap', () => {
    expect([1, 2, 3, 4, 5, 6, 7, 8].map((n) => backoffDelay(p, n))).toEqual([
      30_000, 60_000, 120_000, 240_000, 480_000, 960_000, 1_920_000, 3_600_000,
    ]);
    expect(backoffDelay(p, 10_000)).toBe(3_600_000); // no overflow
    expect(backoffDelay(p, 0)).toBe(30_000);
  });
  it('applies jitter downwards only, from the injected random source', () => {
    expect(backoffDelay({ ...p, jitter: 0.5 }, 1, () => 0)).toBe(30_000);
    expect(backoffDelay({ ...p, jitter: 0.5 }, 1, () => 1)).toBe(15_000);
  });
  it('refuses a nonsensical policy', () => {
    expect(() => backoffDelay({ baseMs: -1, factor: 2, capMs: 1 }, 1)).toThrow(RangeError);
    expect(() => backoffDelay({ baseMs: 1, factor: 0.5, capMs: 1 }, 1)).toThrow(RangeError);
  });
});

describe('SQL plumbing', () => {
  it('rewrites ? placeholders for PostgreSQL, not inside strings, identifiers or comments', () => {
    expect(toPgPlaceholders('SELECT ? , \'?\' AS q, "a?" FROM t WHERE a = ? -- what?\nAND b IN (?, ?)')).toBe(
      'SELECT $1 , \'?\' AS q, "a?" FROM t WHERE a = $2 -- what?\nAND b IN ($3, $4)',
    );
  });

  it('numbers migrations 1..n and renders every substitution for both dialects', () => {
    expect(() => checkMigrationList(MIGRATIONS)).not.toThrow();
    expect(() => checkMigrationList([MIGRATIONS[1]!])).toThrow(/numbered/);
    for (const m of MIGRATIONS) {
      for (const d of ['sqlite', 'postgres'] as const) expect(render(m, d)).not.toMatch(/\{\{/);
    }
    expect(() => render({ id: 9, name: 'x', sql: '{{nope}}' }, 'sqlite')).toThrow(/unknown substitution/);
  });

  it('formats DICOM statuses as 0xHHHH and keeps our codes', () => {
    expect(formatErrorCode(0xa700)).toBe('0xA700');
    expect(formatErrorCode(0x0111)).toBe('0x0111');
    expect(formatErrorCode('TIMEOUT')).toBe('TIMEOUT');
    expect(() => formatErrorCode(0x10000)).toThrow(RangeError);
  });
});
