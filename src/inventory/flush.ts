/**
 * Writes inventoried rows to the state database in batches (one transaction per level and batch, not
 * per study: SQLite with synchronous FULL pays an fsync per transaction), one batch at a time.
 */
import type { InstanceInput, SeriesInput, Store, StudyInput, UpsertResult } from '../state/index.js';

export interface UpsertTotals {
  inserted: number;
  reappeared: number;
  countsChanged: number;
  attributesChanged: number;
  unchanged: number;
}

export interface FlushTotals {
  studies: UpsertTotals;
  series: UpsertTotals;
  instances: UpsertTotals;
}

const zero = (): UpsertTotals => ({
  inserted: 0,
  reappeared: 0,
  countsChanged: 0,
  attributesChanged: 0,
  unchanged: 0,
});

function add(t: UpsertTotals, r: UpsertResult): void {
  t.inserted += r.inserted.length;
  t.reappeared += r.reappeared.length;
  t.countsChanged += r.countsChanged.length;
  t.attributesChanged += r.attributesChanged.length;
  t.unchanged += r.unchanged;
}

export interface FlushLimits {
  readonly studies: number;
  readonly instances: number;
}

export class Flusher {
  readonly totals: FlushTotals = { studies: zero(), series: zero(), instances: zero() };
  private studies: StudyInput[] = [];
  private series: SeriesInput[] = [];
  private instances: InstanceInput[] = [];
  private chain: Promise<void> = Promise.resolve();

  constructor(
    private readonly store: Store,
    private readonly runId: number,
    private readonly limits: FlushLimits = { studies: 200, instances: 5000 },
  ) {}

  /** Queue one study with its series and instances; writes when a batch is full. */
  add(
    study: StudyInput | undefined,
    series: readonly SeriesInput[],
    instances: readonly InstanceInput[],
  ): Promise<void> {
    if (study) this.studies.push(study);
    this.series.push(...series);
    this.instances.push(...instances);
    if (this.studies.length >= this.limits.studies || this.instances.length >= this.limits.instances)
      return this.flush();
    return Promise.resolve();
  }

  /** Write everything queued (after the writes already under way). */
  flush(): Promise<void> {
    const studies = this.studies;
    const series = this.series;
    const instances = this.instances;
    this.studies = [];
    this.series = [];
    this.instances = [];
    this.chain = this.chain.then(async () => {
      if (studies.length) add(this.totals.studies, await this.store.upsertStudies(this.runId, studies));
      if (series.length) add(this.totals.series, await this.store.upsertSeries(this.runId, series));
      for (let i = 0; i < instances.length; i += 5000)
        add(
          this.totals.instances,
          await this.store.upsertInstances(this.runId, instances.slice(i, i + 5000)),
        );
    });
    return this.chain;
  }
}
