/**
 * Where a migration stores instances: one interface for every kind of target (DIMSE C-STORE, a folder,
 * DICOMweb STOW-RS). Each instance gets one outcome in the shape the DIMSE path has always produced
 * (src/net/services/store-scu.ts StoreOutcome), so that src/transfer/store-outcome.ts decideStoreOutcome
 * (status table → none / retry / quarantine / stop) applies unchanged, whatever the target.
 *
 * A peer failure (refusal, dead peer, HTTP error) is an outcome, never a throw.
 */
import type { SendableInstance, StoreOutcome } from '../../net/services/store-scu.js';

export type TargetKind = 'dimse' | 'folder' | 'dicomweb';

/** A spooled instance as a target needs it (src/transfer/spool.ts SpooledInstance fits). */
export interface TargetInstance extends SendableInstance {
  /** For targets that file instances by study and series (folder); absent: "unknown". */
  readonly studyUid?: string | undefined;
  readonly seriesUid?: string | undefined;
}

export interface TargetStoreOptions {
  /** Parallel associations (DIMSE), writers (folder) or HTTP requests (DICOMweb). */
  readonly concurrency: number;
}

export interface Target {
  readonly kind: TargetKind;
  /** For messages: AE@host:port, the folder, or the base URL (no credentials). */
  readonly name: string;
  /** Store the instances; resolves with one outcome per instance, in no particular order. */
  store(instances: readonly TargetInstance[], opts: TargetStoreOptions): Promise<StoreOutcome[]>;
  close(): Promise<void>;
}
