/**
 * The archive as a Storage SCP: received instances are written under the archive folder (Part 10,
 * data set bytes as received) and indexed before the response, so a C-FIND right after a C-STORE
 * sees them. A picky archive can be simulated: SOP classes answered with 0122, duplicates kept
 * first (Orthanc's default) or refused with 0111.
 */
import { rm } from 'node:fs/promises';
import { join, relative, resolve, sep } from 'node:path';
import type { DatasetSink } from '../net/dimse/channel.js';
import {
  FolderStoreTarget,
  metaRefusal,
  type StoreRequestInfo,
  type StoreResult,
  type StoreTarget,
} from '../net/services/store-target.js';
import type { Hierarchy } from './hierarchy.js';
import type { ArchiveIndex } from './index-db.js';
import { examineFile, record } from './indexer.js';

/** What happens when an instance arrives whose SOP Instance UID the archive already serves. */
export type DuplicatePolicy =
  /** The new copy is stored and served (default). */
  | 'replace'
  /** The new copy is discarded and Success answered (what Orthanc and dcm4chee do by default). */
  | 'keep-first'
  /** Answered with 0111 (duplicate SOP instance). */
  | 'refuse';

export interface ArchiveStoreOptions {
  dir: string;
  /** Where received files go: absolute, or relative to `dir` (default `received`). */
  storeDir?: string;
  /** False when the store folder could not be created (a read-only export): C-STOREs are refused with A700. */
  writable: boolean;
  refuseSopClasses?: ReadonlySet<string>;
  onDuplicate?: DuplicatePolicy;
}

export interface StoreCounters {
  stored: number;
  refused: number;
}

/** Consumes a data set and answers a decision made before it arrived. */
class DecidedSink implements DatasetSink<StoreResult> {
  constructor(private readonly result: StoreResult) {}
  write(): void {}
  end(): Promise<StoreResult> {
    return Promise.resolve(this.result);
  }
  abort(): void {}
}

const refusal = (status: number, comment: string): DecidedSink =>
  new DecidedSink({ ok: false, status, comment });

export class ArchiveStoreTarget implements StoreTarget {
  private folder: FolderStoreTarget | undefined;
  readonly storeDir: string;
  /** storeDir relative to dir (may start with `..`). */
  private readonly storeRel: string;

  constructor(
    private readonly opts: ArchiveStoreOptions,
    private readonly index: ArchiveIndex,
    private readonly hierarchy: Hierarchy,
    private readonly counters: StoreCounters,
  ) {
    this.storeDir = resolve(opts.dir, opts.storeDir ?? 'received');
    this.storeRel = relative(opts.dir, this.storeDir).split(sep).join('/');
  }

  open(req: StoreRequestInfo): DatasetSink<StoreResult> {
    const sink = this.decide(req);
    return {
      write: (chunk) => sink.write(chunk),
      abort: () => sink.abort(),
      end: async () => {
        const r = await sink.end();
        if (r.ok) this.counters.stored++;
        else this.counters.refused++;
        return r;
      },
    };
  }

  private decide(req: StoreRequestInfo): DatasetSink<StoreResult> {
    const bad = metaRefusal(req);
    if (bad) return refusal(bad.status, bad.comment);
    if (this.opts.refuseSopClasses?.has(req.sopClassUid))
      return refusal(0x0122, `SOP class ${req.sopClassUid} not supported`);
    const existing = this.index.primaryBySop(req.sopInstanceUid);
    if (existing && this.opts.onDuplicate === 'refuse')
      return refusal(0x0111, `duplicate SOP instance ${req.sopInstanceUid}`);
    if (existing && this.opts.onDuplicate === 'keep-first') {
      return new DecidedSink({
        ok: true,
        instance: {
          path: join(this.opts.dir, existing.path),
          sopClassUid: existing.sopClassUid,
          sopInstanceUid: existing.sopInstanceUid,
          transferSyntaxUid: existing.transferSyntaxUid,
          callingAeTitle: req.callingAeTitle,
          datasetLength: existing.datasetLength,
          moveOriginatorMessageId: req.moveOriginatorMessageId,
        },
      });
    }
    if (!this.opts.writable) return refusal(0xa700, 'the archive cannot write its store folder');
    // Made on first use (FolderStoreTarget starts a mkdir whose failure nobody would await).
    // A new copy never overwrites the served one before it is known to be good: keep-both, then remove the old.
    this.folder ??= new FolderStoreTarget(this.storeDir, 'keep-both');
    const inner = this.folder.open(req);
    return {
      write: (chunk) => inner.write(chunk),
      abort: () => inner.abort(),
      end: async () => {
        const r = await inner.end();
        if (!r.ok) return r;
        const checked = await this.indexReceived(req, r.instance.path);
        return checked.ok ? r : checked;
      },
    };
  }

  /** Index a received file; a file the archive could not serve is removed and the C-STORE refused. */
  private async indexReceived(req: StoreRequestInfo, path: string): Promise<StoreResult | { ok: true }> {
    const rel = relative(this.opts.dir, path).split(sep).join('/');
    const f = await examineFile(this.opts.dir, rel);
    let why: { status: number; comment: string } | undefined;
    if (!f.ok) {
      const structural = !['missing-uid', 'missing-study-uid', 'missing-series-uid'].includes(f.problem.code);
      why = {
        status: structural ? 0xc000 : 0xa900,
        comment: `${f.problem.code}: data set cannot be indexed`,
      };
    } else if (f.row.sopInstanceUid !== req.sopInstanceUid) {
      why = { status: 0xa900, comment: 'SOP Instance UID of the data set differs from the command' };
    } else if (f.row.sopClassUid !== req.sopClassUid) {
      why = { status: 0xa900, comment: 'SOP Class UID of the data set differs from the command' };
    }
    if (why) {
      await rm(path, { force: true });
      return { ok: false, ...why };
    }
    this.hierarchy.invalidate(record(this.index, f));
    // The new copy is served: older copies this archive received are removed (files of the served folder stay).
    for (const old of this.index.pathsOfSop(req.sopInstanceUid)) {
      if (old === rel || !old.startsWith(`${this.storeRel}/`)) continue;
      await rm(join(this.opts.dir, old), { force: true });
      this.hierarchy.invalidate(this.index.remove(old));
    }
    return { ok: true };
  }
}
