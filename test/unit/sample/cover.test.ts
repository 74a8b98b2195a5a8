/**
 * greedyCover: covers everything, prefers small studies, drops studies made redundant, and stays
 * close to the optimum (checked by brute force on random small instances).
 */
import { describe, expect, it } from 'vitest';
import {
  greedyCover,
  normalise,
  yearOf,
  combinationKey,
  combinationOfKey,
  NONE,
  UNKNOWN,
  type CoverCandidate,
} from '../../../src/analyse/sample/index.js';

const cand = (id: string, combos: string[], instances = 1, bytes = 0): CoverCandidate => ({
  id,
  combinations: new Set(combos),
  instances,
  bytes,
});

/** A deterministic pseudo-random generator (mulberry32). */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function optimum(cands: CoverCandidate[]): number {
  const all = new Set(cands.flatMap((c) => [...c.combinations]));
  let best = cands.length;
  for (let mask = 1; mask < 1 << cands.length; mask++) {
    const n = mask.toString(2).replace(/0/g, '').length;
    if (n >= best) continue;
    const got = new Set<string>();
    cands.forEach((c, i) => mask & (1 << i) && c.combinations.forEach((k) => got.add(k)));
    if (got.size === all.size) best = n;
  }
  return best;
}

describe('greedyCover', () => {
  it('covers every combination, each by a chosen study', () => {
    const r = greedyCover([cand('a', ['1', '2']), cand('b', ['2', '3']), cand('c', ['4']), cand('d', [])]);
    expect(r.combinations).toBe(4);
    expect(new Set(r.coveredBy.keys())).toEqual(new Set(['1', '2', '3', '4']));
    for (const id of r.coveredBy.values()) expect(r.chosen).toContain(id);
    expect([...r.chosen].sort()).toEqual(['a', 'b', 'c']);
  });

  it('between equal gains, takes the study with fewer instances, then fewer bytes, then the lower UID', () => {
    expect(greedyCover([cand('big', ['x'], 50), cand('small', ['x'], 2)]).chosen).toEqual(['small']);
    expect(greedyCover([cand('heavy', ['x'], 2, 900), cand('light', ['x'], 2, 100)]).chosen).toEqual([
      'light',
    ]);
    expect(greedyCover([cand('2.2', ['x'], 2, 100), cand('1.9', ['x'], 2, 100)]).chosen).toEqual(['1.9']);
  });

  it('drops a chosen study whose combinations later choices cover', () => {
    // Greedy takes the 3-combination study first; the two others are needed anyway and cover it.
    const r = greedyCover([
      cand('wide', ['1', '2', '3'], 10),
      cand('left', ['1', '2', '4'], 1),
      cand('right', ['3', '5'], 1),
    ]);
    expect([...r.chosen].sort()).toEqual(['left', 'right']);
  });

  it('on 200 random instances: a complete cover, never more than the optimum + 2 (and usually the optimum)', () => {
    const random = rng(42);
    let atOptimum = 0;
    for (let t = 0; t < 200; t++) {
      const n = 3 + Math.floor(random() * 9);
      const universe = 4 + Math.floor(random() * 10);
      const cands = Array.from({ length: n }, (_, i) =>
        cand(
          `s${i}`,
          Array.from({ length: universe }, (_, k) => String(k)).filter(() => random() < 0.3),
          1 + Math.floor(random() * 20),
        ),
      );
      const r = greedyCover(cands);
      const all = new Set(cands.flatMap((c) => [...c.combinations]));
      const covered = new Set(r.chosen.flatMap((id) => [...cands.find((c) => c.id === id)!.combinations]));
      expect(covered).toEqual(all);
      const opt = optimum(cands);
      expect(r.chosen.length).toBeLessThanOrEqual(opt + 2);
      if (r.chosen.length === opt) atOptimum++;
    }
    expect(atOptimum).toBeGreaterThan(180);
  });

  it('scales: 20 000 studies, 2 000 combinations in well under a few seconds', () => {
    const random = rng(7);
    const cands = Array.from({ length: 20_000 }, (_, i) =>
      cand(
        `s${i}`,
        Array.from({ length: 1 + Math.floor(random() * 6) }, () =>
          String(Math.floor(random() * random() * 2000)),
        ),
        1 + Math.floor(random() * 300),
      ),
    );
    const t0 = Date.now();
    const r = greedyCover(cands);
    expect(Date.now() - t0).toBeLessThan(5000);
    expect(r.coveredBy.size).toBe(r.combinations);
  });
});

describe('sample dimensions', () => {
  it('normalises values: trimmed, inner spaces collapsed, empty is (none), unreported is (unknown)', () => {
    expect(normalise('  GE  MEDICAL   SYSTEMS ')).toBe('GE MEDICAL SYSTEMS');
    expect(normalise('V1\\ V2 ')).toBe('V1\\V2');
    expect(normalise('')).toBe(NONE);
    expect(normalise(null)).toBe(NONE);
    expect(normalise(undefined)).toBe(UNKNOWN);
  });
  it('takes the year of a study date (legacy dotted form too)', () => {
    expect(yearOf('20140228')).toBe('2014');
    expect(yearOf('1997.04.24')).toBe('1997');
    expect(yearOf('')).toBe(NONE);
    expect(yearOf('ABC')).toBe('invalid');
  });
  it('a combination survives its key', () => {
    const c = {
      sopClass: '1.2',
      modality: 'CT',
      manufacturer: 'X',
      model: NONE,
      softwareVersions: 'a\\b',
      year: '2001',
      transferSyntax: '1.2.840.10008.1.2',
      charset: 'ISO_IR 100',
    };
    expect(combinationOfKey(combinationKey(c))).toEqual(c);
  });
});
