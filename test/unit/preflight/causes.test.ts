/** The causes table: complete, and its verdicts ordered as the report relies on. */
import { describe, expect, it } from 'vitest';
import {
  CAUSES,
  CAUSE_IDS,
  PROFILES,
  verdictOf,
  worstVerdict,
} from '../../../src/analyse/preflight/index.js';

describe('preflight causes', () => {
  it('every cause says what it is, why, and what each profile does', () => {
    for (const id of CAUSE_IDS) {
      const c = CAUSES[id];
      expect(c.what.length, id).toBeGreaterThan(10);
      expect(c.why.length, id).toBeGreaterThan(10);
      for (const p of PROFILES) expect(['refuse', 'alter', 'accept']).toContain(verdictOf(id, p));
    }
  });

  it('what negotiation refused is refused whatever the profile; a lenient target is never stricter than a strict one', () => {
    const rank = { accept: 0, alter: 1, refuse: 2 } as const;
    for (const id of CAUSE_IDS) {
      if (CAUSES[id].basis === 'probe') for (const p of PROFILES) expect(verdictOf(id, p), id).toBe('refuse');
      expect(rank[CAUSES[id].lenient], id).toBeLessThanOrEqual(rank[CAUSES[id].strict]);
    }
  });

  it('the worst verdict wins', () => {
    expect(worstVerdict([], 'strict')).toBe('accept');
    expect(worstVerdict(['missing-type2', 'value-too-long'], 'strict')).toBe('refuse');
    expect(worstVerdict(['missing-type2', 'value-too-long'], 'lenient')).toBe('accept');
    expect(worstVerdict(['value-too-long', 'duplicate-uid'], 'lenient')).toBe('alter');
    expect(worstVerdict(['duplicate-uid', 'transfer-syntax-refused'], 'lenient')).toBe('refuse');
  });
});
