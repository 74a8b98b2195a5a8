/**
 * `runInventory(ctx)`: one inventory run of the plan's source into the state database.
 *
 * 1. store.startInventoryRun; 2. the source is listed (dimse.ts or folder.ts), every query recorded;
 * 3. what this run did not see is marked vanished, level by level, but only at levels the run covered
 *    completely (a partial run never declares anything vanished); 4. store.finishInventoryRun proves
 *    coverage (every capped query split into covered parts); 5. the summary counts the deltas
 *    (store.listChanges: new, counts/attributes changed, vanished, reappeared) and the findings.
 *
 * Re-running is a delta: rows are upserted with this run's id and the time they were seen.
 */
import type { Plan } from '../plan/index.js';
import type { MigrationContext } from '../run/context.js';
import type { ChangeKind, InventoryLevel, Json, LockHeld } from '../state/index.js';
import { daysFromCivil } from './dates.js';
import { inventoryDimse } from './dimse.js';
import { Findings } from './findings.js';
import { Flusher, type UpsertTotals } from './flush.js';
import { inventoryFolder } from './folder.js';
import { extraStudyKeywords } from './keys.js';
import { withInventoryLock } from './lock.js';
import { uncoveredExceptions } from './uncovered.js';
import { DEFAULT_UNDATED_KEYS, type UndatedKey } from './split.js';

export interface InventoryOptions {
  /** Keys the undated pass splits the root by, each an independent tree (default ModalitiesInStudy, PatientID, PatientName). */
  readonly undatedKeys?: readonly UndatedKey[];
  /** Longest PatientName/PatientID prefix a split goes to (default 3). */
  readonly maxPrefix?: number;
  /** Most InstanceNumber queries for one capped instance list (default 10000). */
  readonly maxEnumeration?: number;
  /** Free text recorded with the run. */
  readonly note?: string;
  /** Stops the run: it finishes as incomplete. */
  readonly signal?: AbortSignal;
  readonly onProgress?: (p: InventoryProgress) => void;
  /** Another process's inventory holds the lock: this one waits for it (lock.ts). */
  readonly onWait?: (held: LockHeld) => void;
}

export interface InventoryProgress {
  readonly studiesFound: number;
  readonly studiesListed: number;
  readonly series: number;
  readonly instances: number;
  readonly queries: number;
  readonly capped: number;
  /** Folder sources. */
  readonly files?: number;
  readonly totalFiles?: number;
}

export type ChangeCounts = Record<ChangeKind, number>;

export interface InventorySummary {
  readonly runId: number;
  readonly source: 'dimse' | 'folder';
  /** Every query complete or covered by complete parts, at every level (store.finishInventoryRun). */
  readonly complete: boolean;
  /** Recorded queries neither complete nor covered by their parts. */
  readonly uncoveredQueries: readonly number[];
  readonly stopped: boolean;
  readonly studies: number;
  readonly series: number;
  readonly instances: number;
  /** Studies whose StudyDate is empty or not a calendar date. */
  readonly undatedStudies: number;
  readonly queries?: {
    readonly issued: number;
    readonly complete: number;
    readonly capped: number;
    readonly failed: number;
    /** Residual checks recorded under capped queries whose parts missed something. */
    readonly residual: number;
    /** Complete series/image queries counted, not recorded one by one. */
    readonly unrecorded: number;
    readonly studyLevel: { readonly all: number; readonly dated: number; readonly undated: number };
    readonly associations: number;
    /** Study-level keys the source refused (A900), asked without: their values come from the series. */
    readonly droppedKeys: readonly string[];
  };
  readonly files?: {
    readonly read: number;
    readonly skipped: number;
    readonly unreadable: number;
    readonly duplicates: number;
  };
  /** Deltas against the state before this run, by level (as store.listChanges(runId) records them; instances get no `new` rows there). */
  readonly changes: Readonly<Record<InventoryLevel, ChangeCounts>>;
  /** Which levels were covered completely, hence checked for vanished rows. */
  readonly vanishChecked: Readonly<Record<InventoryLevel, boolean>>;
  readonly findings: Readonly<Record<string, number>>;
  /** The ledger's exceptions this run recorded (unreadable files, parts not covered) and resolved (gone). */
  readonly exceptions: { readonly recorded: number; readonly resolved: number };
  readonly durationMs: number;
}

/** Study-level keywords that scope and transform rules match on, to be asked for (kept in attrs). */
export function matchKeywordsOf(plan: Plan): string[] {
  const kws: string[] = [];
  for (const r of plan.scope.rules) kws.push(...Object.keys(r.match.attributes));
  for (const r of plan.scope.retention) kws.push(...Object.keys(r.match?.attributes ?? {}));
  for (const r of plan.transform.rules) kws.push(...Object.keys(r.when?.attributes ?? {}));
  return extraStudyKeywords(kws);
}

function todayOf(ms: number): number {
  const d = new Date(ms);
  return daysFromCivil(d.getUTCFullYear(), d.getUTCMonth() + 1, d.getUTCDate());
}

/**
 * One inventory run, holding the migration's inventory lock (another process's run is waited for
 * first: two runs at once would each mark the other's rows vanished).
 */
export async function runInventory(
  ctx: MigrationContext,
  opts: InventoryOptions = {},
): Promise<InventorySummary> {
  const held = await withInventoryLock(ctx.store, (signal) => inventoryRun(ctx, { ...opts, signal }), {
    signal: opts.signal,
    onWait: opts.onWait,
  });
  return held ? held.value : stoppedWhileWaiting(ctx, opts);
}

export type EnsureInventoryResult =
  | { readonly kind: 'ran'; readonly summary: InventorySummary }
  /** An earlier run (maybe another process's, just waited for) is the inventory: not run again. */
  | { readonly kind: 'up-to-date'; readonly runId: number }
  | { readonly kind: 'stopped' };

/**
 * What `migrate` calls: under the inventory lock, an inventory run only when the state has no
 * usable one (usableInventoryRun) — so processes started together run one inventory, and the others
 * use its result.
 */
export async function ensureInventory(
  ctx: MigrationContext,
  opts: InventoryOptions = {},
): Promise<EnsureInventoryResult> {
  const held = await withInventoryLock(
    ctx.store,
    async (signal): Promise<EnsureInventoryResult> => {
      const usable = await usableInventoryRun(ctx);
      if (usable !== undefined) return { kind: 'up-to-date', runId: usable };
      return { kind: 'ran', summary: await inventoryRun(ctx, { ...opts, signal }) };
    },
    { signal: opts.signal, onWait: opts.onWait },
  );
  return held ? held.value : { kind: 'stopped' };
}

/**
 * The id of the run that is the inventory, if there is one: the newest finished run that was not
 * stopped, when it is complete or its uncovered parts are recorded as exceptions (the source allows
 * no better: running it again would cover no more), else the newest complete one.
 */
export async function usableInventoryRun(ctx: MigrationContext): Promise<number | undefined> {
  return (await ctx.store.inventoryStanding()).runId ?? undefined;
}

/** Stopped before the lock was free: an empty run, finished incomplete, says so. */
async function stoppedWhileWaiting(ctx: MigrationContext, opts: InventoryOptions): Promise<InventorySummary> {
  const { store } = ctx;
  const started = store.clock.now();
  const runId = await store.startInventoryRun(
    { source: ctx.plan.source.type },
    opts.note ?? 'stopped while waiting for another inventory',
  );
  const fin = await store.finishInventoryRun(runId, { complete: false, stopped: true });
  const none: ChangeCounts = {
    new: 0,
    'counts-changed': 0,
    'attributes-changed': 0,
    vanished: 0,
    reappeared: 0,
  };
  return {
    runId,
    source: ctx.plan.source.type,
    complete: false,
    uncoveredQueries: fin.uncovered,
    stopped: true,
    studies: 0,
    series: 0,
    instances: 0,
    undatedStudies: 0,
    changes: { study: none, series: none, instance: none },
    vanishChecked: { study: false, series: false, instance: false },
    findings: {},
    exceptions: { recorded: 0, resolved: 0 },
    durationMs: store.clock.now() - started,
  };
}

async function inventoryRun(ctx: MigrationContext, opts: InventoryOptions): Promise<InventorySummary> {
  const { plan, store } = ctx;
  const clock = store.clock;
  const started = clock.now();
  const extraKeys = matchKeywordsOf(plan);
  const src = plan.source;
  const undatedKeys = opts.undatedKeys ?? DEFAULT_UNDATED_KEYS;
  const params: { [k: string]: Json } =
    src.type === 'dimse'
      ? {
          source: 'dimse',
          calledAe: src.calledAe,
          findLimit: src.findLimit ?? null,
          associations: src.maxAssociations,
          undatedKeys: [...undatedKeys],
          extraKeys,
        }
      : { source: 'folder', extraKeys };
  const runId = await store.startInventoryRun(params, opts.note ?? null);
  const findings = new Findings(store);
  const flusher = new Flusher(store, runId);
  const vanishChecked: Record<InventoryLevel, boolean> = { study: false, series: false, instance: false };
  let result: Pick<
    InventorySummary,
    'studies' | 'series' | 'instances' | 'undatedStudies' | 'stopped' | 'queries' | 'files'
  >;
  const exceptions = { recorded: 0, resolved: 0 };

  if (src.type === 'dimse') {
    if (!ctx.source) throw new Error('runInventory: the migration context has no source peer');
    const o = await inventoryDimse({
      store,
      runId,
      clock,
      peer: ctx.source,
      model: src.queryModel === 'patient-root' ? 'patient' : 'study',
      associations: src.maxAssociations,
      findLimit: src.findLimit,
      extraKeys,
      undatedKeys,
      maxPrefix: opts.maxPrefix,
      maxEnumeration: opts.maxEnumeration ?? 10_000,
      today: todayOf(clock.now()),
      findings,
      flusher,
      signal: opts.signal,
      onProgress: opts.onProgress,
    });
    await flusher.flush();
    vanishChecked.study = o.studiesCovered;
    vanishChecked.series = o.seriesCovered;
    vanishChecked.instance = o.instancesCovered;
    const t = o.tree.stats;
    result = {
      studies: o.studies,
      series: o.series,
      instances: o.instances,
      undatedStudies: o.undatedStudies,
      stopped: o.stopped,
      queries: {
        issued: t.issued,
        complete: t.complete,
        capped: t.capped,
        failed: t.failed,
        residual: t.residual,
        unrecorded: t.unrecorded,
        studyLevel: o.studyQueries,
        associations: o.associations,
        droppedKeys: o.droppedKeys,
      },
    };
  } else {
    const o = await inventoryFolder({
      dir: src.path,
      extraKeys,
      findings,
      flusher,
      signal: opts.signal,
      onProgress: (p) =>
        opts.onProgress?.({
          studiesFound: 0,
          studiesListed: 0,
          series: 0,
          instances: p.instances,
          queries: 0,
          capped: 0,
          files: p.files,
          totalFiles: p.total,
        }),
    });
    vanishChecked.study = vanishChecked.series = vanishChecked.instance = !o.stopped;
    // Each unreadable file is an exception of the ledger; after a walk to the end, those not seen
    // again are gone from the folder.
    exceptions.recorded += (await store.recordExceptions(runId, o.exceptions)).length;
    if (!o.stopped) exceptions.resolved += await store.resolveExceptions(runId, ['unreadable-source-file']);
    result = {
      studies: o.studies,
      series: o.series,
      instances: o.instances,
      undatedStudies: o.undatedStudies,
      stopped: o.stopped,
      files: { read: o.files, skipped: o.skipped, unreadable: o.unreadable, duplicates: o.duplicates },
    };
  }
  await findings.flush();

  const vanished: Record<InventoryLevel, number> = { study: 0, series: 0, instance: 0 };
  for (const level of ['study', 'series', 'instance'] as const)
    if (vanishChecked[level]) vanished[level] = (await store.markVanished(runId, { level })).length;
  // An answer without the UID of its level is something the source holds that cannot be listed.
  const unlisted = findings.counts.get('inventory.match-without-uid') ?? 0;
  const fin = await store.finishInventoryRun(runId, { complete: unlisted === 0, stopped: result.stopped });
  if (!result.stopped) {
    // What could not be listed is an exception of the ledger (the run is the inventory all the same:
    // migrate does not run it again); what a previous run could not list and this one did is resolved.
    const parts = fin.uncoveredLeaves.length
      ? uncoveredExceptions(fin.uncoveredLeaves, await store.listQueries(runId))
      : [];
    exceptions.recorded += (await store.recordExceptions(runId, parts)).length;
    exceptions.resolved += await store.resolveExceptions(runId, ['inventory-part-uncovered']);
  }

  // The same counts store.listChanges(runId) gives, without reading every change row back.
  const changesOf = (t: UpsertTotals, level: InventoryLevel): ChangeCounts => ({
    new: t.inserted,
    'counts-changed': t.countsChanged,
    'attributes-changed': t.attributesChanged,
    vanished: vanished[level],
    reappeared: t.reappeared,
  });
  const changes: Record<InventoryLevel, ChangeCounts> = {
    study: changesOf(flusher.totals.studies, 'study'),
    series: changesOf(flusher.totals.series, 'series'),
    instance: changesOf(flusher.totals.instances, 'instance'),
  };

  return {
    runId,
    source: src.type,
    complete: fin.complete,
    uncoveredQueries: fin.uncovered,
    ...result,
    changes,
    vanishChecked,
    findings: findings.summary(),
    exceptions,
    durationMs: clock.now() - started,
  };
}
