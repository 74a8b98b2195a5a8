import { describe, expect, it } from 'vitest';
import { sampleSize, StudySampler } from '../../../src/verify/sample.js';

const uids = (n: number) => Array.from({ length: n }, (_, i) => `1.2.3.${i}`);

describe('study sample', () => {
  it('is the larger of minStudies and percent, at most all', () => {
    expect(sampleSize(0, { percent: 5, minStudies: 500 })).toBe(0);
    expect(sampleSize(120, { percent: 5, minStudies: 500 })).toBe(120);
    expect(sampleSize(20_000, { percent: 5, minStudies: 500 })).toBe(1000);
    expect(sampleSize(5_000, { percent: 5, minStudies: 500 })).toBe(500);
    expect(sampleSize(1_000, { percent: 0, minStudies: 0 })).toBe(0);
    expect(sampleSize(1_001, { percent: 10, minStudies: 0 })).toBe(101);
    expect(() => sampleSize(10, { percent: 101, minStudies: 0 })).toThrow(RangeError);
  });

  it('picks exactly that many of the candidates, the same ones for the same seed', () => {
    const c = uids(2000);
    const a = new StudySampler(c, { percent: 5, minStudies: 50, seed: 42 });
    const b = new StudySampler([...c].reverse(), { percent: 5, minStudies: 50, seed: 42 });
    const other = new StudySampler(c, { percent: 5, minStudies: 50, seed: 43 });
    const pickedA = c.filter((u) => a.has(u));
    expect(pickedA).toHaveLength(100);
    expect(c.filter((u) => b.has(u))).toEqual(pickedA);
    expect(c.filter((u) => other.has(u))).not.toEqual(pickedA);
    expect(new StudySampler(c, { percent: 100, minStudies: 0 }).size).toBe(2000);
  });

  it('lets late candidates in at the same rate', () => {
    const s = new StudySampler(uids(1000), { percent: 10, minStudies: 0, seed: 1 });
    const late = Array.from({ length: 5000 }, (_, i) => `9.9.${i}`).filter((u) => s.has(u)).length;
    expect(late).toBeGreaterThan(350);
    expect(late).toBeLessThan(650);
    expect(s.has('9.9.1')).toBe(s.has('9.9.1'));
  });
});
