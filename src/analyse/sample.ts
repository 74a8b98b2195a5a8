/**
 * Which instances the analysis reads itself: per series, up to `perSeries` instances (lowest
 * InstanceNumber first), not counting those read by an earlier run unless `resample`. A folder
 * source adds every copy of a SOP Instance UID its inventory found in more than one file (the only way
 * to tell a re-encoded copy from other content).
 */
import type { Instance } from '../state/types.js';

export interface SampleOptions {
  /** Instances per series (default 1); 'all' reads every instance. */
  readonly perSeries?: number | 'all';
  /** Read again instances an earlier run read (a copy the source replaced since shows as new content). */
  readonly resample?: boolean;
}

export interface SampleTarget {
  readonly studyUid: string;
  readonly seriesUid: string;
  readonly sopInstanceUid: string;
  readonly sopClassUid: string | null;
  readonly transferSyntaxUid: string | null;
  readonly modality?: string | null;
  /** Folder sources: the file, relative to source.path. */
  readonly path?: string;
}

const order = (a: Instance, b: Instance): number =>
  (a.instanceNumber ?? Number.MAX_SAFE_INTEGER) - (b.instanceNumber ?? Number.MAX_SAFE_INTEGER) ||
  a.sopInstanceUid.localeCompare(b.sopInstanceUid);

/** Built while the inventory's instances are paged through: keeps only what the quota needs. */
export class SampleSelector {
  private readonly perSeries: number;
  private readonly bySeries = new Map<string, Instance[]>();

  constructor(
    opts: SampleOptions,
    /** SOP Instance UIDs read before, by series. */
    private readonly readBefore: ReadonlyMap<string, ReadonlySet<string>>,
  ) {
    this.perSeries = opts.perSeries === 'all' ? Number.POSITIVE_INFINITY : Math.max(0, opts.perSeries ?? 1);
    this.resample = opts.resample ?? false;
  }

  private readonly resample: boolean;

  private quota(seriesUid: string): number {
    if (this.resample) return this.perSeries;
    return Math.max(0, this.perSeries - (this.readBefore.get(seriesUid)?.size ?? 0));
  }

  add(i: Instance): void {
    if (i.vanishedAt !== null || i.firstSeenAt === null) return;
    const q = this.quota(i.seriesUid);
    if (q <= 0) return;
    if (!this.resample && this.readBefore.get(i.seriesUid)?.has(i.sopInstanceUid)) return;
    const list = this.bySeries.get(i.seriesUid) ?? [];
    list.push(i);
    list.sort(order);
    if (list.length > q) list.length = q;
    this.bySeries.set(i.seriesUid, list);
  }

  targets(modalityOf: (seriesUid: string) => string | null = () => null): SampleTarget[] {
    const out: SampleTarget[] = [];
    for (const [seriesUid, list] of this.bySeries)
      for (const i of list)
        out.push({
          studyUid: i.studyUid,
          seriesUid,
          sopInstanceUid: i.sopInstanceUid,
          sopClassUid: i.sopClassUid,
          transferSyntaxUid: i.transferSyntaxUid,
          modality: modalityOf(seriesUid),
          ...(typeof i.attrs?.path === 'string' ? { path: i.attrs.path } : {}),
        });
    return out.sort((a, b) => a.studyUid.localeCompare(b.studyUid) || a.seriesUid.localeCompare(b.seriesUid));
  }
}
