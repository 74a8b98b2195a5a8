import type { JobState } from './job-state.js';

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** Fields left undefined were not reported and are left unchanged; null means reported empty. */
export interface StudyInput {
  readonly studyUid: string;
  readonly patientId?: string | null;
  readonly patientName?: string | null;
  readonly patientBirthDate?: string | null;
  readonly patientSex?: string | null;
  readonly accessionNumber?: string | null;
  readonly studyDate?: string | null;
  readonly studyTime?: string | null;
  readonly studyDescription?: string | null;
  /** Multi-valued: an array, or a backslash-separated string as on the wire. */
  readonly modalitiesInStudy?: string | readonly string[] | null;
  readonly institutionName?: string | null;
  readonly referringPhysician?: string | null;
  readonly numSeries?: number | null;
  readonly numInstances?: number | null;
  /** Any other inventoried attribute, by DICOM keyword. */
  readonly attrs?: { readonly [keyword: string]: Json } | null;
}

interface Seen {
  readonly firstSeenAt: number | null;
  readonly lastSeenAt: number | null;
  readonly firstRunId: number | null;
  readonly lastRunId: number | null;
  readonly vanishedAt: number | null;
  readonly changedAt: number | null;
}

type Stored<T> = { readonly [K in keyof T]-?: Exclude<T[K], undefined> };

export interface Study extends Omit<Stored<StudyInput>, 'modalitiesInStudy'>, Seen {
  /** Backslash-separated. */
  readonly modalitiesInStudy: string | null;
  readonly firstSeenAt: number;
  readonly lastSeenAt: number;
}

export interface SeriesInput {
  readonly seriesUid: string;
  readonly studyUid: string;
  readonly modality?: string | null;
  readonly seriesNumber?: number | null;
  readonly seriesDescription?: string | null;
  readonly bodyPart?: string | null;
  readonly manufacturer?: string | null;
  readonly model?: string | null;
  readonly stationName?: string | null;
  readonly softwareVersions?: string | readonly string[] | null;
  readonly numInstances?: number | null;
  readonly attrs?: { readonly [keyword: string]: Json } | null;
}

export interface Series extends Omit<Stored<SeriesInput>, 'softwareVersions'>, Seen {
  readonly softwareVersions: string | null;
  readonly firstSeenAt: number;
  readonly lastSeenAt: number;
}

export interface InstanceInput {
  readonly sopInstanceUid: string;
  readonly seriesUid: string;
  readonly studyUid: string;
  readonly sopClassUid?: string | null;
  readonly instanceNumber?: number | null;
  readonly transferSyntaxUid?: string | null;
  readonly sizeBytes?: number | null;
  readonly attrs?: { readonly [keyword: string]: Json } | null;
}

export const VERIFY_OUTCOMES = [
  'verified',
  'missing',
  'attribute-mismatch',
  'pixel-mismatch',
  'duplicate-conflict',
] as const;
export type VerifyOutcome = (typeof VERIFY_OUTCOMES)[number];

export interface Instance extends Stored<InstanceInput>, Seen {
  readonly receivedAt: number | null;
  readonly spoolPath: string | null;
  readonly datasetSha256: string | null;
  readonly pixelDigest: string | null;
  readonly pixelDigestTs: string | null;
  readonly header: { [keyword: string]: Json } | null;
  readonly storedAt: number | null;
  readonly storeStatus: number | null;
  readonly verifiedAt: number | null;
  readonly verifyOutcome: VerifyOutcome | null;
  readonly verifyDetail: Json;
}

export type InventoryLevel = 'study' | 'series' | 'instance';
export type ChangeKind = 'new' | 'counts-changed' | 'attributes-changed' | 'vanished' | 'reappeared';

/** What an upsert batch found, by UID. Instances are listed as new without a `new` change row. */
export interface UpsertResult {
  readonly inserted: readonly string[];
  readonly reappeared: readonly string[];
  readonly countsChanged: readonly string[];
  readonly attributesChanged: readonly string[];
  readonly unchanged: number;
}

export interface InventoryChange {
  readonly id: number;
  readonly runId: number;
  readonly level: InventoryLevel;
  readonly uid: string;
  readonly studyUid: string;
  readonly kind: ChangeKind;
  readonly oldValue: Json;
  readonly newValue: Json;
  readonly seenAt: number;
}

export interface MarkVanishedOptions {
  readonly level?: InventoryLevel;
  /**
   * UIDs the run saw. Default: those upserted with this run id (a full inventory run).
   */
  readonly seen?: Iterable<string>;
  /** Only these UIDs are candidates (e.g. the studies of a date range the run covered). Default: all. */
  readonly among?: Iterable<string>;
}

export type QueryLevel = 'PATIENT' | 'STUDY' | 'SERIES' | 'IMAGE';

export interface InventoryQueryInput {
  readonly runId?: number | null;
  /** The capped query this one splits. */
  readonly parentId?: number | null;
  readonly level: QueryLevel;
  readonly params: { readonly [key: string]: Json };
  /** Default: now. */
  readonly issuedAt?: number;
  /** Default: now. */
  readonly finishedAt?: number | null;
  readonly complete: boolean;
  readonly status?: number | null;
  readonly resultCount: number;
  readonly error?: string | null;
}

export interface InventoryQuery extends Stored<Omit<InventoryQueryInput, 'runId' | 'parentId'>> {
  readonly id: number;
  readonly runId: number | null;
  readonly parentId: number | null;
}

export interface InventoryRun {
  readonly id: number;
  readonly startedAt: number;
  readonly finishedAt: number | null;
  readonly complete: boolean | null;
  /** Stopped before it listed everything (signal, lost lock): proves nothing. NULL before migration 007. */
  readonly stopped: boolean | null;
  readonly params: Json;
  readonly note: string | null;
}

export interface FinishRunResult {
  readonly complete: boolean;
  /** Queries neither complete nor fully split into complete children. */
  readonly uncovered: readonly number[];
  /** The uncovered queries with no part below them (capped and unsplit, failed, residual): what is not listed. */
  readonly uncoveredLeaves: readonly number[];
}

export interface ScopeDecisionInput {
  readonly studyUid: string;
  readonly inScope: boolean;
  /** Required when excluded. */
  readonly ruleId?: string | null;
  readonly ruleDescription?: string | null;
}

export interface ScopeDecision {
  readonly studyUid: string;
  readonly inScope: boolean;
  readonly ruleId: string | null;
  readonly ruleDescription: string | null;
  readonly decidedAt: number;
}

export interface ScopeResult {
  readonly decided: number;
  /** Decisions that differ from the previous one (or are the first). */
  readonly changed: number;
  /** Pending, unleased jobs moved to `excluded`. */
  readonly jobsExcluded: number;
  /** `excluded` jobs of studies now in scope, back to `pending`. */
  readonly jobsReopened: number;
}

export interface Job {
  readonly id: number;
  readonly kind: string;
  readonly studyUid: string;
  readonly state: JobState;
  readonly priority: number;
  readonly bumpedPriority: number;
  readonly bumpedAt: number | null;
  readonly studyDate: string | null;
  readonly attempts: number;
  readonly maxAttempts: number;
  readonly nextRunAt: number;
  readonly leaseOwner: string | null;
  readonly leaseExpiresAt: number | null;
  readonly lastErrorCode: string | null;
  readonly lastError: string | null;
  readonly createdAt: number;
  readonly updatedAt: number;
}

export interface EnqueueInput {
  readonly studyUid: string;
  readonly priority?: number;
  readonly maxAttempts?: number;
}

export interface EnqueueOptions {
  readonly kind?: string;
  /** Defaults for items that do not say. */
  readonly priority?: number;
  readonly maxAttempts?: number;
}

export interface EnqueueResult {
  readonly created: readonly string[];
  /** Already had a job of this kind (left as it was). */
  readonly existing: readonly string[];
  /** Not in the inventory: no job created (inventory first, so the ledger accounts for every job). */
  readonly unknown: readonly string[];
}

export type LeaseError =
  | { readonly kind: 'not-found'; readonly jobId: number }
  /** Someone else holds the lease, or no one does (released, finished, failed). */
  | { readonly kind: 'not-lease-holder'; readonly jobId: number; readonly holder: string | null }
  /** Still ours on paper, but expired: another worker may have claimed it. Stop working on it. */
  | { readonly kind: 'lease-expired'; readonly jobId: number; readonly expiredAt: number };

export type AdvanceError =
  | LeaseError
  | { readonly kind: 'backwards'; readonly jobId: number; readonly from: JobState; readonly to: JobState }
  | { readonly kind: 'terminal'; readonly jobId: number; readonly from: JobState; readonly to: JobState }
  | {
      readonly kind: 'not-a-progress-state';
      readonly jobId: number;
      readonly from: JobState;
      readonly to: JobState;
    };

/** A DICOM status (stored as 0xHHHH) or one of our codes (e.g. 'TIMEOUT', 'ASSOC_REJECTED'). */
export type ErrorCode = number | string;

export interface FailOptions {
  /** Overrides the back-off delay for this failure (e.g. a peer's own retry hint). */
  readonly delayMs?: number;
}

export interface FailOutcome {
  readonly job: Job;
  /** retry: back to its state, runnable at nextRunAt; failed: non-retryable; dead: attempts exhausted. */
  readonly outcome: 'retry' | 'failed' | 'dead';
  readonly nextRunAt: number | null;
}

export interface ClaimOptions {
  /** Pick only jobs in these (non-terminal) states. Default: every runnable state. */
  readonly states?: readonly JobState[];
}

export type PrioritizeTarget = { readonly patientId: string } | { readonly studyUids: readonly string[] };

/** A worker holding live leases (listLeaseOwners). Owner ids read `prefix@host:pid:random` (newOwnerId). */
export interface LeaseOwner {
  readonly owner: string;
  readonly jobs: number;
}

export interface PauseState {
  readonly paused: boolean;
  readonly reason: string | null;
  readonly since: number | null;
}

export interface ReceivedInput {
  readonly sopInstanceUid: string;
  readonly seriesUid: string;
  readonly studyUid: string;
  readonly sopClassUid?: string | null;
  readonly transferSyntaxUid?: string | null;
  readonly sizeBytes?: number | null;
  readonly datasetSha256?: string | null;
  readonly pixelDigest?: string | null;
  readonly pixelDigestTs?: string | null;
  readonly header?: { readonly [keyword: string]: Json } | null;
  readonly spoolPath?: string | null;
}

/**
 * received: an instance the inventory listed (IMAGE level) arrived; unlisted: it had no row yet
 * (the inventory stopped at series level, or a UID no query listed: new UIDs on retrieve?);
 * again: arrived before with the same content; conflict: arrived before with different content under
 * the same SOP Instance UID, or in another study (the first copy's record is kept, the conflict logged).
 */
export type ReceivedOutcome = 'received' | 'unlisted' | 'again' | 'conflict';

export interface RecordContext {
  readonly jobId?: number | null;
}

export interface StoredInput {
  readonly sopInstanceUid: string;
  /** DIMSE status of the C-STORE. */
  readonly status: number;
  /** The caller's reading of the status (src/net/dimse status table). */
  readonly outcome: 'stored' | 'failed' | 'quarantined';
  /** e.g. out-of-resources, data-conflict, sop-class-not-supported. Required unless stored. */
  readonly category?: string | null;
  readonly cause?: string | null;
  /** Bytes sent (defaults to the instance's size_bytes) for throughput. */
  readonly sizeBytes?: number | null;
  /** Quarantine: where the refused object is kept. */
  readonly path?: string | null;
}

export interface StoredResult {
  readonly stored: number;
  /** Confirmed before: left as they were, not counted again. */
  readonly alreadyStored: readonly string[];
  readonly failed: number;
  readonly quarantined: number;
}

export interface VerifiedInput {
  readonly sopInstanceUid: string;
  readonly outcome: VerifyOutcome;
  readonly detail?: Json;
}

export interface InstanceFailureInput {
  readonly sopInstanceUid: string;
  readonly studyUid: string;
  readonly phase: 'retrieve' | 'store' | 'verify';
  readonly status?: number | null;
  readonly category: string;
  readonly cause?: string | null;
}

export interface InstanceOutcome {
  readonly id: number;
  readonly jobId: number | null;
  readonly sopInstanceUid: string;
  readonly studyUid: string;
  readonly phase: 'retrieve' | 'store' | 'verify';
  readonly status: number | null;
  readonly category: string;
  readonly cause: string | null;
  readonly at: number;
}

export interface QuarantineEntry {
  readonly sopInstanceUid: string;
  readonly studyUid: string;
  readonly seriesUid: string | null;
  readonly status: number | null;
  readonly category: string;
  readonly cause: string | null;
  readonly path: string | null;
  readonly quarantinedAt: number;
}

export type InstanceFilter = 'all' | 'unreceived' | 'unstored' | 'unverified';

export interface EventInput {
  readonly jobId?: number | null;
  readonly studyUid?: string | null;
  readonly sopInstanceUid?: string | null;
  readonly kind: string;
  readonly detail?: Json;
}

export interface AuditEvent {
  readonly id: number;
  readonly jobId: number | null;
  readonly studyUid: string | null;
  readonly sopInstanceUid: string | null;
  readonly kind: string;
  readonly detail: Json;
  readonly at: number;
}

export interface EventFilter {
  readonly jobId?: number;
  readonly studyUid?: string;
  readonly kind?: string;
  /** Events with id greater than this (tailing). */
  readonly afterId?: number;
  readonly limit?: number;
}

export interface Throughput {
  readonly phase: 'retrieve' | 'store';
  readonly windowMs: number;
  readonly instances: number;
  readonly bytes: number;
  readonly instancesPerSec: number;
  readonly bytesPerSec: number;
  readonly mbPerSec: number;
  /** Instances of in-scope studies whose jobs are before `stored`, less those already stored. */
  readonly remainingInstances: number;
  /** Estimated from the window's bytes per instance; null without samples. */
  readonly remainingBytes: number | null;
  /** null when nothing moved in the window. */
  readonly etaMs: number | null;
}

export type LedgerStatus = 'excluded' | 'pending' | 'failed' | 'migrated-not-verified' | 'verified';
export const LEDGER_STATUSES: readonly LedgerStatus[] = [
  'excluded',
  'pending',
  'failed',
  'migrated-not-verified',
  'verified',
];

/** One row per inventoried study: the definition of done. */
export interface LedgerRow {
  readonly studyUid: string;
  readonly status: LedgerStatus;
  /** Excluded: the rule; otherwise the including rule, if any. */
  readonly ruleId: string | null;
  readonly ruleDescription: string | null;
  readonly jobId: number | null;
  readonly jobState: JobState | null;
  readonly attempts: number;
  /** Failed: the code (DICOM status 0xHHHH, our code, or VANISHED). */
  readonly errorCode: string | null;
  readonly error: string | null;
  readonly vanished: boolean;
  readonly instancesReported: number | null;
  readonly instancesReceived: number;
  readonly instancesStored: number;
  readonly instancesVerified: number;
  /** Instances whose verification found a problem (missing, mismatch, conflict). */
  readonly instancesWithProblems: number;
  readonly instancesQuarantined: number;
}

export interface LedgerOptions {
  /** Keyset pagination: rows with study_uid greater than this. */
  readonly after?: string;
  readonly limit?: number;
  readonly status?: LedgerStatus;
}

export type LedgerSummary = Readonly<Record<LedgerStatus, number>> & { readonly total: number };

/** What the ledger holds apart from its studies: a thing at the source that cannot be migrated or proven. */
export type ExceptionKind = 'unreadable-source-file' | 'inventory-part-uncovered';
/** open: keeps the migration from DONE; accepted: someone decided it is fine; resolved: a later inventory no longer found it. */
export type ExceptionStatus = 'open' | 'accepted' | 'resolved';

export interface ExceptionInput {
  readonly kind: ExceptionKind;
  /** What it is about: a file's path relative to the folder source, or a C-FIND part's level and keys. */
  readonly subject: string;
  /** Typed cause: a reader error code, ENOENT, capped, failed… */
  readonly code: string;
  /** The cause in words (UIDs and paths only, never patient data). */
  readonly cause: string;
  readonly studyUid?: string | null;
  readonly sopInstanceUid?: string | null;
  readonly detail?: Json;
}

export interface LedgerException {
  readonly id: number;
  readonly kind: ExceptionKind;
  readonly subject: string;
  readonly code: string;
  readonly cause: string;
  readonly studyUid: string | null;
  readonly sopInstanceUid: string | null;
  readonly detail: Json;
  readonly firstSeenAt: number;
  readonly lastSeenAt: number;
  readonly firstRunId: number | null;
  readonly lastRunId: number | null;
  readonly status: ExceptionStatus;
  /** When the status last changed. */
  readonly statusAt: number;
  readonly acceptedBy: string | null;
  readonly acceptNote: string | null;
}

export interface ExceptionFilter {
  readonly status?: ExceptionStatus;
  readonly kind?: ExceptionKind;
  readonly limit?: number;
}

/** Which run is the inventory (store.inventoryStanding). */
export interface InventoryStanding {
  /** null: no run counts (none finished, or only stopped or incomplete ones without their parts recorded). */
  readonly runId: number | null;
  /** false: it is a finished run whose uncovered parts are exceptions of the ledger. */
  readonly complete: boolean;
}

/** A named lock (store.acquireLock) held by another owner. */
export interface LockHeld {
  readonly name: string;
  readonly holder: string;
  readonly expiresAt: number;
}

/** Why the migration is not done, typed (the words are in DoneReport.reasons). */
export type NotDoneCode =
  'no-complete-inventory' | 'unscoped' | 'pending' | 'not-verified' | 'open-exceptions';

export interface DoneReport {
  /** Every study accounted for: verified, excluded by a rule, or failed terminally with a cause. */
  readonly done: boolean;
  /** Done and nothing failed. */
  readonly clean: boolean;
  readonly summary: LedgerSummary;
  /** Why not done, in words (no patient data). */
  readonly reasons: readonly string[];
  /** The same, typed, with the number of studies or exceptions each concerns. */
  readonly blockers: readonly { readonly code: NotDoneCode; readonly count: number }[];
  /** Exceptions by status (open ones keep the migration from DONE). */
  readonly exceptions: Readonly<Record<ExceptionStatus, number>>;
}
