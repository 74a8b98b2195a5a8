/**
 * The built-in archive: a Query/Retrieve SCP (C-FIND, C-MOVE, C-GET; patient and study root) and
 * Storage SCP over a folder, indexed in SQLite. `startArchive` indexes the folder (incrementally),
 * then listens. Used by `pacshift serve`, the demo, and every test that needs a source or target
 * without Debian packages.
 */
import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { AllowedPeer } from '../net/association/server.js';
import type { AssociationTimeouts } from '../net/association/types.js';
import { startScp } from '../net/services/scp.js';
import type { TlsSettings } from '../net/transport/tls-options.js';
import { HEADER_ATTRIBUTES_KEY } from './attributes.js';
import type { ArchiveContext, ArchiveCounters, ArchiveEvent, MoveDestination } from './context.js';
import { Hierarchy } from './hierarchy.js';
import { ArchiveIndex, DEFAULT_INDEX_FILE, type ProblemRow } from './index-db.js';
import { type IndexReport, indexFolder } from './indexer.js';
import { archiveAcceptPolicy } from './policy.js';
import { archiveHandlers } from './scp.js';
import { ArchiveStoreTarget, type DuplicatePolicy } from './store.js';

export interface ArchiveOptions {
  /** The folder served (and where received instances go, under `storeSubdir`). Created if missing. */
  dir: string;
  /** 0 = any free port (see the returned `port`). */
  port: number;
  host?: string;
  aeTitle: string;
  /** C-MOVE destinations: AE title → address; a list, or a record `{ AE: { host, port } }`. */
  peers?: readonly MoveDestination[] | Readonly<Record<string, Omit<MoveDestination, 'aeTitle'>>>;
  /** Calling AE titles served (and optionally their hosts); empty = anyone. */
  allow?: readonly AllowedPeer[];
  /** Index file (default `<dir>/.pacshift-archive.sqlite`). */
  dbPath?: string;
  /** More than this many C-FIND matches: send this many, then end with `findLimitStatus`. */
  findLimit?: number;
  /** 'cancel' (FE00, like Orthanc's LimitFindResults; default) or 'warning' (B001). */
  findLimitStatus?: 'cancel' | 'warning';
  /** C-STORE of these SOP classes is answered 0122. */
  refuseSopClasses?: readonly string[];
  /** Storage contexts are accepted only in these transfer syntaxes (default: any). */
  acceptTransferSyntaxes?: readonly string[];
  onDuplicate?: DuplicatePolicy;
  /** Lenient queries: see QueryOptions.relational. */
  relational?: boolean;
  /** A pending C-MOVE/C-GET response every N sub-operations (default 1). */
  pendingEvery?: number;
  /**
   * Where received instances are written: absolute, or relative to `dir` (default `received`). When
   * it cannot be created (a read-only export), the archive serves the folder and refuses C-STOREs (A700).
   */
  storeDir?: string;
  dimseTimeoutMs?: number;
  tls?: TlsSettings;
  maxPduLength?: number;
  timeouts?: Partial<AssociationTimeouts>;
  log?: (e: ArchiveEvent) => void;
  /** Indexing progress at start-up and on reindex(): files done of files listed. */
  onIndexProgress?: (done: number, total: number) => void;
  onRefused?: (why: string, remote: string) => void;
}

export interface ArchiveStats {
  patients: number;
  studies: number;
  series: number;
  /** Instances served (one per SOP Instance UID). */
  instances: number;
  /** Files holding a SOP Instance UID another served file also holds. */
  duplicateCopies: number;
  /** Files that cannot be served (see `problems()`). */
  unreadable: number;
  stored: number;
  storeRefused: number;
  finds: number;
  moves: number;
  gets: number;
  subOperations: { completed: number; failed: number; warning: number };
}

export interface Archive {
  readonly port: number;
  readonly host: string;
  readonly aeTitle: string;
  readonly dir: string;
  /** Where received instances are written. */
  readonly storeDir: string;
  /** What the start-up indexing did. */
  readonly indexReport: IndexReport;
  /** Live counters. */
  readonly stats: ArchiveStats;
  /** Files that could not be indexed, with their typed error. */
  problems(): ProblemRow[];
  /** Re-index the folder (files added, changed or removed behind the archive's back). */
  reindex(): Promise<IndexReport>;
  close(): Promise<void>;
}

function destinationsOf(peers: ArchiveOptions['peers']): Map<string, MoveDestination> {
  const out = new Map<string, MoveDestination>();
  if (!peers) return out;
  if (Array.isArray(peers)) for (const p of peers as readonly MoveDestination[]) out.set(p.aeTitle, p);
  else
    for (const [aeTitle, p] of Object.entries(peers as Record<string, Omit<MoveDestination, 'aeTitle'>>))
      out.set(aeTitle, { aeTitle, ...p });
  return out;
}

export async function startArchive(opts: ArchiveOptions): Promise<Archive> {
  if (opts.findLimit !== undefined && (!Number.isInteger(opts.findLimit) || opts.findLimit < 0)) {
    throw new Error(`findLimit must be a non-negative integer, got ${opts.findLimit}`);
  }
  const dir = resolve(opts.dir);
  await mkdir(dir, { recursive: true });
  const storeDir = resolve(dir, opts.storeDir ?? 'received');
  const writable = await mkdir(storeDir, { recursive: true }).then(
    () => true,
    () => false,
  );
  const index = new ArchiveIndex(opts.dbPath ?? join(dir, DEFAULT_INDEX_FILE), HEADER_ATTRIBUTES_KEY);
  let indexReport: IndexReport;
  try {
    indexReport = await indexFolder(dir, index, {
      alsoUnder: writable ? [storeDir] : [],
      onProgress: opts.onIndexProgress,
    });
  } catch (e) {
    index.close();
    throw e;
  }
  const hierarchy = new Hierarchy(index);
  const counters: ArchiveCounters = {
    finds: 0,
    moves: 0,
    gets: 0,
    stored: 0,
    refused: 0,
    subOperations: { completed: 0, failed: 0, warning: 0 },
  };
  const ctx: ArchiveContext = {
    dir,
    aeTitle: opts.aeTitle,
    index,
    hierarchy,
    destinations: destinationsOf(opts.peers),
    query: { relational: opts.relational ?? false },
    findLimit: opts.findLimit,
    findLimitStatus: opts.findLimitStatus === 'warning' ? 0xb001 : 0xfe00,
    pendingEvery: Math.max(1, opts.pendingEvery ?? 1),
    dimseTimeoutMs: opts.dimseTimeoutMs ?? 120_000,
    counters,
    log: opts.log ?? (() => undefined),
  };
  const store = new ArchiveStoreTarget(
    {
      dir,
      storeDir,
      writable,
      refuseSopClasses: new Set(opts.refuseSopClasses ?? []),
      onDuplicate: opts.onDuplicate ?? 'replace',
    },
    index,
    hierarchy,
    counters,
  );
  let server;
  try {
    server = await startScp({
      aeTitle: opts.aeTitle,
      port: opts.port,
      host: opts.host,
      allow: opts.allow ? [...opts.allow] : undefined,
      tls: opts.tls,
      maxPduLength: opts.maxPduLength,
      timeouts: opts.timeouts,
      policy: archiveAcceptPolicy({ acceptTransferSyntaxes: opts.acceptTransferSyntaxes }),
      handlers: archiveHandlers(ctx, store),
      onRefused: opts.onRefused,
    });
  } catch (e) {
    index.close();
    throw e;
  }
  let closed = false;
  return {
    port: server.port,
    host: server.host,
    aeTitle: opts.aeTitle,
    dir,
    storeDir: store.storeDir,
    indexReport,
    get stats(): ArchiveStats {
      const c = hierarchy.counts();
      const ic = index.counts();
      return {
        ...c,
        duplicateCopies: ic.duplicateCopies,
        unreadable: ic.problems,
        stored: counters.stored,
        storeRefused: counters.refused,
        finds: counters.finds,
        moves: counters.moves,
        gets: counters.gets,
        subOperations: { ...counters.subOperations },
      };
    },
    problems: () => index.problems(),
    reindex: async () => {
      const r = await indexFolder(dir, index, {
        alsoUnder: writable ? [storeDir] : [],
        onProgress: opts.onIndexProgress,
      });
      hierarchy.invalidate(r.touchedStudies);
      return r;
    },
    close: async () => {
      if (closed) return;
      closed = true;
      await server.close();
      index.close();
    },
  };
}
