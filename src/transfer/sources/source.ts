/**
 * Where a migration retrieves instances from: one interface for every kind of source (DIMSE C-MOVE/C-GET,
 * a folder of Part 10 files). Whatever the kind, what arrives lands in the spool and is accounted per
 * SOP Instance UID against what the inventory listed (RetrieveReport: arrived, missing, unlisted), never
 * by counts. A source that cannot deliver is a report, never a throw.
 */
import type { RetrieveReport, RetrieveRequest } from '../retrieve.js';
import type { Spool } from '../spool.js';

/** A RetrieveReport, with the cause of each missing instance when the source knows it (folder). */
export interface SourceRetrieveReport extends RetrieveReport {
  /** SOP Instance UID → why it was not delivered (UIDs, sizes and relative paths only). */
  readonly causes?: ReadonlyMap<string, string>;
  /**
   * Missing instances that asking again cannot bring (SOP Instance UID → ledger category): our own listener
   * refused them. They are quarantined with their cause; the study goes on without waiting for them.
   */
  readonly final?: ReadonlyMap<string, string>;
  /** The status our listener answered for each of them (0117 for a UID a File Meta cannot hold). */
  readonly finalStatus?: ReadonlyMap<string, number>;
}

export type SourceKind = 'dimse' | 'folder';

export interface Source {
  readonly kind: SourceKind;
  /** For messages: AE@host:port or the folder. */
  readonly name: string;
  /** Bring the requested instances of a study into the spool. */
  retrieveStudy(spool: Spool, req: RetrieveRequest): Promise<SourceRetrieveReport>;
  close(): Promise<void>;
}
