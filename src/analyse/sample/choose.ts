/**
 * `chooseSample`: the longitudinal test set. Every study the plan's scope migrates (its recorded
 * decision, else the scope rules evaluated now) is a candidate; the smallest set of candidates that
 * covers every combination present in them is chosen (cover.ts). Combinations present only in
 * excluded studies are listed apart: they will never reach the target.
 */
import { parseDA, daOf } from '../../inventory/dates.js';
import type { MigrationContext } from '../../run/context.js';
import { evaluateScope } from '../../scope/evaluate.js';
import { eachStudy } from '../preflight/source-view.js';
import { greedyCover, type CoverCandidate } from './cover.js';
import { combinationOfKey, type Combination } from './dimensions.js';
import { gatherHeaders, studyCombinations, type HeaderGathering } from './facts.js';

export interface CombinationRow {
  readonly key: string;
  readonly combination: Combination;
  /** In-scope studies and instances holding it. */
  readonly studies: number;
  readonly instances: number;
  /** The pilot study chosen to cover it. */
  readonly pilotStudy: string;
}

export interface PilotStudy {
  readonly studyUid: string;
  readonly instances: number;
  readonly bytes: number;
  /** Combinations this study holds. */
  readonly combinations: number;
}

export interface SampleResult {
  readonly combinations: readonly CombinationRow[];
  /** Combinations held only by studies the scope excludes. */
  readonly excludedOnly: readonly { key: string; combination: Combination; studies: number }[];
  readonly pilot: readonly PilotStudy[];
  readonly studies: { readonly total: number; readonly inScope: number; readonly outOfScope: number };
  readonly instances: { readonly inScope: number; readonly pilot: number };
  readonly bytes: { readonly pilot: number; readonly known: boolean };
  readonly headers: Omit<HeaderGathering, 'book'>;
}

export interface SampleOptions {
  /** Read one instance per series whose headers no record gives (default true). */
  readonly readHeaders?: boolean;
  readonly fetchDir?: string;
}

export async function chooseSample(ctx: MigrationContext, opts: SampleOptions = {}): Promise<SampleResult> {
  const { plan, store } = ctx;
  const gathering = await gatherHeaders(ctx, { read: opts.readHeaders, fetchDir: opts.fetchDir });
  const asOf = parseDA(plan.scope.retentionAsOf ?? daOf(new Date(store.clock.now())))!;
  const candidates: CoverCandidate[] = [];
  const perCombination = new Map<string, { studies: number; instances: number }>();
  const excluded = new Map<string, number>();
  const sizes = new Map<string, PilotStudy>();
  let total = 0;
  let outOfScope = 0;
  let instancesInScope = 0;
  let sizesKnown = true;
  for await (const v of eachStudy(store)) {
    total++;
    const decided = await store.getScopeDecision(v.study.studyUid);
    const inScope = decided ? decided.inScope : evaluateScope(v.study, plan.scope, asOf).inScope;
    const combos = studyCombinations(v, gathering.book);
    if (!inScope) {
      outOfScope++;
      for (const k of combos.keys()) excluded.set(k, (excluded.get(k) ?? 0) + 1);
      continue;
    }
    instancesInScope += v.instances.length;
    const bytes = v.instances.reduce((s, i) => s + (i.sizeBytes ?? 0), 0);
    if (v.instances.some((i) => i.sizeBytes === null)) sizesKnown = false;
    for (const [k, c] of combos) {
      const e = perCombination.get(k) ?? { studies: 0, instances: 0 };
      e.studies++;
      e.instances += c.instances.length;
      perCombination.set(k, e);
    }
    candidates.push({
      id: v.study.studyUid,
      combinations: new Set(combos.keys()),
      instances: v.instances.length,
      bytes,
    });
    sizes.set(v.study.studyUid, {
      studyUid: v.study.studyUid,
      instances: v.instances.length,
      bytes,
      combinations: combos.size,
    });
  }
  const cover = greedyCover(candidates);
  const combinations: CombinationRow[] = [...perCombination]
    .map(([key, e]) => ({
      key,
      combination: combinationOfKey(key),
      ...e,
      pilotStudy: cover.coveredBy.get(key)!,
    }))
    .sort((a, b) => (a.key < b.key ? -1 : 1));
  const pilot = cover.chosen.map((id) => sizes.get(id)!);
  const { book: _book, ...headers } = gathering;
  return {
    combinations,
    excludedOnly: [...excluded]
      .filter(([k]) => !perCombination.has(k))
      .map(([key, studies]) => ({ key, combination: combinationOfKey(key), studies })),
    pilot,
    studies: { total, inScope: total - outOfScope, outOfScope },
    instances: { inScope: instancesInScope, pilot: pilot.reduce((s, p) => s + p.instances, 0) },
    bytes: { pilot: pilot.reduce((s, p) => s + p.bytes, 0), known: sizesKnown },
    headers,
  };
}
