/** What the archive's services share: the folder, the index and hierarchy, configuration, counters. */
import type { Peer } from '../net/peer.js';
import type { Hierarchy } from './hierarchy.js';
import type { ArchiveIndex } from './index-db.js';
import type { QueryOptions } from './query.js';

/** A C-MOVE destination. */
export interface MoveDestination {
  aeTitle: string;
  host: string;
  port: number;
  tls?: Peer['tls'];
}

export interface ArchiveCounters {
  finds: number;
  moves: number;
  gets: number;
  stored: number;
  refused: number;
  subOperations: { completed: number; failed: number; warning: number };
}

/** Archive events for logs: AE titles, UIDs, counts and statuses only, never patient data. */
export type ArchiveEvent =
  | {
      type: 'find';
      callingAe: string;
      model: string;
      level?: string;
      matches: number;
      status: number;
      comment?: string;
    }
  | {
      type: 'move' | 'get';
      callingAe: string;
      destination?: string;
      instances: number;
      completed: number;
      failed: number;
      warning: number;
      status: number;
      comment?: string;
    }
  | { type: 'error'; message: string };

export interface ArchiveContext {
  dir: string;
  aeTitle: string;
  index: ArchiveIndex;
  hierarchy: Hierarchy;
  destinations: ReadonlyMap<string, MoveDestination>;
  query: QueryOptions;
  /** Cap on C-FIND matches; beyond it the answer ends with `findLimitStatus`. */
  findLimit?: number;
  findLimitStatus: number;
  /** A pending C-MOVE/C-GET response every N sub-operations. */
  pendingEvery: number;
  /** DIMSE timeout for sub-operation C-STOREs. */
  dimseTimeoutMs: number;
  counters: ArchiveCounters;
  log(e: ArchiveEvent): void;
}
