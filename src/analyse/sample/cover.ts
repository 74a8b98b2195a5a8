/**
 * The smallest set of studies covering every combination: greedy set cover (each step takes the
 * study covering the most combinations not yet covered; ties go to the smaller study: fewer instances,
 * then fewer bytes, then the lower UID, so the result is deterministic), evaluated lazily (a study's
 * gain only shrinks, so a stale gain is an upper bound), then pruned: a chosen study whose every
 * combination another chosen study also covers is dropped, largest first. Greedy is within a factor
 * ln(n) of the optimum; in practice close to it.
 */

export interface CoverCandidate {
  readonly id: string;
  readonly combinations: ReadonlySet<string>;
  readonly instances: number;
  readonly bytes: number;
}

export interface CoverResult {
  /** In the order chosen. */
  readonly chosen: readonly string[];
  /** Combination → the chosen study that covers it first. */
  readonly coveredBy: ReadonlyMap<string, string>;
  /** Combinations present in the candidates (all covered). */
  readonly combinations: number;
}

interface Entry {
  readonly c: CoverCandidate;
  gain: number;
}

/** a before b: more gain, then fewer instances, fewer bytes, lower id. */
function before(a: Entry, b: Entry): boolean {
  if (a.gain !== b.gain) return a.gain > b.gain;
  if (a.c.instances !== b.c.instances) return a.c.instances < b.c.instances;
  if (a.c.bytes !== b.c.bytes) return a.c.bytes < b.c.bytes;
  return a.c.id < b.c.id;
}

class Heap {
  private readonly h: Entry[] = [];
  get size(): number {
    return this.h.length;
  }
  peek(): Entry | undefined {
    return this.h[0];
  }
  push(e: Entry): void {
    const h = this.h;
    h.push(e);
    for (let i = h.length - 1; i > 0;) {
      const p = (i - 1) >> 1;
      if (!before(h[i]!, h[p]!)) break;
      [h[i], h[p]] = [h[p]!, h[i]!];
      i = p;
    }
  }
  pop(): Entry | undefined {
    const h = this.h;
    const top = h[0];
    const last = h.pop();
    if (h.length > 0 && last) {
      h[0] = last;
      for (let i = 0; ;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && before(h[l]!, h[m]!)) m = l;
        if (r < h.length && before(h[r]!, h[m]!)) m = r;
        if (m === i) break;
        [h[i], h[m]] = [h[m]!, h[i]!];
        i = m;
      }
    }
    return top;
  }
}

export function greedyCover(candidates: readonly CoverCandidate[]): CoverResult {
  const uncovered = new Set<string>();
  for (const c of candidates) for (const k of c.combinations) uncovered.add(k);
  const total = uncovered.size;
  const heap = new Heap();
  for (const c of candidates) if (c.combinations.size > 0) heap.push({ c, gain: c.combinations.size });
  const chosen: CoverCandidate[] = [];
  while (uncovered.size > 0 && heap.size > 0) {
    const top = heap.pop()!;
    let gain = 0;
    for (const k of top.c.combinations) if (uncovered.has(k)) gain++;
    if (gain === 0) continue;
    top.gain = gain;
    const next = heap.peek();
    if (next && before(next, top)) {
      heap.push(top); // stale: its real gain no longer leads
      continue;
    }
    chosen.push(top.c);
    for (const k of top.c.combinations) uncovered.delete(k);
  }
  // Prune studies made redundant by later choices, largest first.
  const count = new Map<string, number>();
  for (const c of chosen) for (const k of c.combinations) count.set(k, (count.get(k) ?? 0) + 1);
  const bySize = [...chosen].sort(
    (a, b) => b.instances - a.instances || b.bytes - a.bytes || (a.id < b.id ? 1 : -1),
  );
  const dropped = new Set<string>();
  for (const c of bySize) {
    if ([...c.combinations].every((k) => count.get(k)! > 1)) {
      dropped.add(c.id);
      for (const k of c.combinations) count.set(k, count.get(k)! - 1);
    }
  }
  const kept = chosen.filter((c) => !dropped.has(c.id));
  const coveredBy = new Map<string, string>();
  for (const c of kept) for (const k of c.combinations) if (!coveredBy.has(k)) coveredBy.set(k, c.id);
  return { chosen: kept.map((c) => c.id), coveredBy, combinations: total };
}
