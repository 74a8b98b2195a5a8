/**
 * Which studies are compared in depth: max(minStudies, percent of the candidates), at most all of
 * them, chosen at random (seeded when the plan fixes verify.sample.seed, to reproduce an audit).
 */

export interface SampleSpec {
  /** 0–100. */
  readonly percent: number;
  readonly minStudies: number;
  /** Fixed seed: the same candidates give the same sample. Default: a new sample each run. */
  readonly seed?: number;
}

/** Number of studies to sample out of `n`. */
export function sampleSize(n: number, spec: Pick<SampleSpec, 'percent' | 'minStudies'>): number {
  if (n <= 0) return 0;
  if (spec.percent < 0 || spec.percent > 100)
    throw new RangeError(`sample percent must be 0–100, got ${spec.percent}`);
  return Math.min(n, Math.max(spec.minStudies, Math.ceil((n * spec.percent) / 100)));
}

/** mulberry32: a small seeded PRNG in [0, 1). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * A sample over the candidates known when the run starts (exactly sampleSize of them); a study that
 * becomes a candidate later joins with the same probability.
 */
export class StudySampler {
  private readonly chosen: Set<string>;
  private readonly rate: number;
  private readonly random: () => number;
  private readonly decided = new Map<string, boolean>();

  constructor(candidates: readonly string[], spec: SampleSpec) {
    this.random = seededRandom(spec.seed ?? Math.floor(Math.random() * 2 ** 31));
    const unique = [...new Set(candidates)].sort();
    const k = sampleSize(unique.length, spec);
    // Partial Fisher–Yates: the first k of a seeded shuffle.
    for (let i = 0; i < k; i++) {
      const j = i + Math.floor(this.random() * (unique.length - i));
      [unique[i], unique[j]] = [unique[j]!, unique[i]!];
    }
    this.chosen = new Set(unique.slice(0, k));
    this.rate =
      unique.length === 0 ? (spec.percent >= 100 || spec.minStudies > 0 ? 1 : 0) : k / unique.length;
    for (const u of unique) this.decided.set(u, this.chosen.has(u));
  }

  /** Whether the study is compared in depth (stable for the life of the sampler). */
  has(studyUid: string): boolean {
    let d = this.decided.get(studyUid);
    if (d === undefined) {
      d = this.random() < this.rate;
      this.decided.set(studyUid, d);
    }
    return d;
  }

  get size(): number {
    return this.chosen.size;
  }
}
