import { DEFAULT_BACKOFF, type BackoffPolicy } from './backoff.js';
import { systemClock, type Clock } from './clock.js';
import type { Db, Dialect } from './db.js';
import type { JobState } from './job-state.js';
import { migrate, type MigrationReport } from './migrate.js';
import type { OpContext } from './ops/context.js';
import type { Result } from '../util/result.js';
import type {
  AdvanceError,
  AuditEvent,
  ClaimOptions,
  DoneReport,
  EnqueueInput,
  EnqueueOptions,
  EnqueueResult,
  ErrorCode,
  EventFilter,
  ExceptionFilter,
  ExceptionInput,
  ExceptionKind,
  EventInput,
  FailOptions,
  FailOutcome,
  FinishRunResult,
  Instance,
  InstanceFailureInput,
  InstanceFilter,
  InstanceInput,
  InstanceOutcome,
  InventoryChange,
  InventoryLevel,
  InventoryQuery,
  InventoryQueryInput,
  InventoryRun,
  Job,
  Json,
  LeaseError,
  InventoryStanding,
  LockHeld,
  LedgerException,
  LedgerOptions,
  LedgerRow,
  LedgerSummary,
  MarkVanishedOptions,
  LeaseOwner,
  PauseState,
  PrioritizeTarget,
  QuarantineEntry,
  ReceivedInput,
  RecordContext,
  ScopeDecision,
  ScopeDecisionInput,
  ScopeResult,
  Series,
  SeriesInput,
  StoredInput,
  StoredResult,
  Study,
  StudyInput,
  Throughput,
  UpsertResult,
  VerifiedInput,
} from './types.js';
import type { ReceivedResult } from './ops/record-received.js';
import type { RequeueFilter } from './ops/requeue-jobs.js';
import { advanceJob } from './ops/advance-job.js';
import { appendEvents } from './ops/append-events.js';
import { claimJobs } from './ops/claim-jobs.js';
import { countJobsByState } from './ops/count-jobs.js';
import { enqueueJobs } from './ops/enqueue-jobs.js';
import { extendLease } from './ops/extend-lease.js';
import { failJob } from './ops/fail-job.js';
import { finishInventoryRun } from './ops/finish-inventory-run.js';
import { getInventoryRun } from './ops/get-inventory-run.js';
import { inventoryStanding } from './ops/inventory-standing.js';
import { getInstance, getSeries, getStudy } from './ops/get-inventory.js';
import { getJob, getJobByStudy, listJobs } from './ops/get-job.js';
import { getScopeDecision } from './ops/get-scope-decision.js';
import { isDone } from './ops/is-done.js';
import { ledger } from './ops/ledger.js';
import { ledgerSummary } from './ops/ledger-summary.js';
import { listChanges } from './ops/list-changes.js';
import { listEvents } from './ops/list-events.js';
import { listExceptions } from './ops/list-exceptions.js';
import { acquireLock, extendLock, releaseLock } from './ops/locks.js';
import { recordExceptions } from './ops/record-exceptions.js';
import { resolveExceptions } from './ops/resolve-exceptions.js';
import { listInstanceOutcomes, listQuarantine } from './ops/list-instance-outcomes.js';
import { listInstances } from './ops/list-instances.js';
import { listQueries } from './ops/list-queries.js';
import { markVanished } from './ops/mark-vanished.js';
import { isPaused, pause, resume } from './ops/pause.js';
import { prioritize } from './ops/prioritize.js';
import { recordInstanceFailures } from './ops/record-instance-failures.js';
import { recordQuery } from './ops/record-query.js';
import { recordInstancesReceived } from './ops/record-received.js';
import { recordInstancesStored } from './ops/record-stored.js';
import { recordInstancesVerified } from './ops/record-verified.js';
import { releaseJob } from './ops/release-job.js';
import { listLeaseOwners } from './ops/list-lease-owners.js';
import { expireLeases } from './ops/expire-leases.js';
import { requeueJobs } from './ops/requeue-jobs.js';
import { setScopeDecisions } from './ops/set-scope-decisions.js';
import { startInventoryRun } from './ops/start-inventory-run.js';
import { throughput } from './ops/throughput.js';
import { upsertInstances } from './ops/upsert-instances.js';
import { upsertSeries } from './ops/upsert-series.js';
import { upsertStudies } from './ops/upsert-studies.js';
import { pageInstances, pageSeries, pageStudies } from './ops/page-inventory.js';
import { listAnalysisHeaders, recordAnalysisHeaders } from './ops/analysis-headers.js';
import { getAnalysisRun, listAnalysisFindings, saveAnalysisRun } from './ops/analysis-runs.js';
import { analysisSecret } from './ops/analysis-key.js';
import type {
  AnalysisFinding,
  AnalysisFindingInput,
  AnalysisHeader,
  AnalysisHeaderInput,
  AnalysisHeaderResult,
  AnalysisRun,
  AnalysisRunInput,
  InventoryPage,
} from './analysis-types.js';

/**
 * The migration's state database: the truth a restarted process resumes from. Every operation that
 * changes state is one transaction (with its audit event, where it has one); all are async; both
 * backends (SQLite embedded, PostgreSQL shared) pass the same contract suite.
 */
export interface Store {
  readonly dialect: Dialect;
  readonly clock: Clock;

  /** Applies pending migrations (idempotent, safe concurrently). open*Store() already did. */
  migrate(): Promise<MigrationReport>;
  close(): Promise<void>;

  // ── inventory ──────────────────────────────────────────────────────────────
  startInventoryRun(params?: Json, note?: string | null): Promise<number>;
  /** Complete when every root query is complete or split into covered parts (and opts.complete !== false). */
  finishInventoryRun(
    runId: number,
    opts?: { readonly complete?: boolean; readonly stopped?: boolean },
  ): Promise<FinishRunResult>;
  getInventoryRun(runId: number): Promise<InventoryRun | undefined>;
  /** Which run is the inventory (complete, or finished with its uncovered parts as exceptions), if any. */
  inventoryStanding(): Promise<InventoryStanding>;
  recordQuery(query: InventoryQueryInput): Promise<number>;
  listQueries(runId: number): Promise<InventoryQuery[]>;
  upsertStudies(runId: number, rows: readonly StudyInput[]): Promise<UpsertResult>;
  upsertSeries(runId: number, rows: readonly SeriesInput[]): Promise<UpsertResult>;
  upsertInstances(runId: number, rows: readonly InstanceInput[]): Promise<UpsertResult>;
  /** Marks what the run did not see as vanished; returns the UIDs newly marked. */
  markVanished(runId: number, opts?: MarkVanishedOptions): Promise<string[]>;
  listChanges(runId: number, level?: InventoryLevel): Promise<InventoryChange[]>;
  /** The ledger's exceptions found by a run (upserted by kind and subject; see ops/record-exceptions.ts). */
  recordExceptions(runId: number | null, items: readonly ExceptionInput[]): Promise<number[]>;
  /** Exceptions of `kinds` that run `runId` (which looked at everything they are about) did not see again: resolved. */
  resolveExceptions(runId: number, kinds: readonly ExceptionKind[]): Promise<number>;
  listExceptions(filter?: ExceptionFilter): Promise<LedgerException[]>;
  /** A named lock with a lease (one inventory at a time: 'inventory'); held by another: who, until when. */
  acquireLock(name: string, owner: string, leaseMs: number): Promise<Result<{ expiresAt: number }, LockHeld>>;
  extendLock(name: string, owner: string, leaseMs: number): Promise<boolean>;
  releaseLock(name: string, owner: string): Promise<void>;
  getStudy(studyUid: string): Promise<Study | undefined>;
  getSeries(seriesUid: string): Promise<Series | undefined>;
  getInstance(sopInstanceUid: string): Promise<Instance | undefined>;

  // ── scope ──────────────────────────────────────────────────────────────────
  setScopeDecisions(decisions: readonly ScopeDecisionInput[]): Promise<ScopeResult>;
  setScopeDecision(decision: ScopeDecisionInput): Promise<ScopeResult>;
  getScopeDecision(studyUid: string): Promise<ScopeDecision | undefined>;

  // ── jobs ───────────────────────────────────────────────────────────────────
  enqueueJobs(items: readonly (string | EnqueueInput)[], opts?: EnqueueOptions): Promise<EnqueueResult>;
  claimJobs(owner: string, n: number, leaseMs: number, opts?: ClaimOptions): Promise<Job[]>;
  extendLease(jobId: number, owner: string, leaseMs: number): Promise<Result<Job, LeaseError>>;
  advanceJob(jobId: number, owner: string, to: JobState): Promise<Result<Job, AdvanceError>>;
  failJob(
    jobId: number,
    owner: string,
    code: ErrorCode,
    message: string,
    retryable: boolean,
    opts?: FailOptions,
  ): Promise<Result<FailOutcome, LeaseError>>;
  releaseJob(jobId: number, owner: string): Promise<Result<Job, LeaseError>>;
  /** Owners holding live leases, with their job counts. */
  listLeaseOwners(): Promise<LeaseOwner[]>;
  /** Ends the live leases of owners known to be gone (claimable at once; the claim counts an attempt). */
  expireLeases(owners: readonly string[], reason: string): Promise<number>;
  requeueJobs(filter?: RequeueFilter): Promise<number>;
  prioritize(target: PrioritizeTarget, level?: number): Promise<number>;
  pause(reason?: string | null): Promise<void>;
  resume(): Promise<void>;
  isPaused(): Promise<PauseState>;
  getJob(jobId: number): Promise<Job | undefined>;
  getJobByStudy(studyUid: string, kind?: string): Promise<Job | undefined>;
  listJobs(opts?: { readonly state?: JobState; readonly limit?: number }): Promise<Job[]>;
  countJobsByState(kind?: string): Promise<Record<JobState, number>>;

  // ── instances ──────────────────────────────────────────────────────────────
  recordInstancesReceived(items: readonly ReceivedInput[], ctx?: RecordContext): Promise<ReceivedResult[]>;
  recordInstancesStored(items: readonly StoredInput[], ctx?: RecordContext): Promise<StoredResult>;
  recordInstancesVerified(
    items: readonly VerifiedInput[],
    ctx?: RecordContext,
  ): Promise<{ verified: number; problems: number }>;
  recordInstanceFailures(items: readonly InstanceFailureInput[], ctx?: RecordContext): Promise<void>;
  listInstances(studyUid: string, filter?: InstanceFilter): Promise<Instance[]>;
  listInstanceOutcomes(studyUid?: string): Promise<InstanceOutcome[]>;
  listQuarantine(studyUid?: string): Promise<QuarantineEntry[]>;

  // ── audit, metrics, report ─────────────────────────────────────────────────
  appendEvents(events: readonly EventInput[]): Promise<void>;
  listEvents(filter?: EventFilter): Promise<AuditEvent[]>;
  throughput(windowMs?: number, phase?: 'retrieve' | 'store'): Promise<Throughput>;
  ledger(opts?: LedgerOptions): Promise<LedgerRow[]>;
  ledgerSummary(): Promise<LedgerSummary>;
  isDone(): Promise<DoneReport>;

  // ── analysis (pacshift analyze; migration 004) ─────────────────────────────
  /** Every study / series / instance row, by UID, a page at a time (keyset: `after` the last UID). */
  pageStudies(page?: InventoryPage): Promise<Study[]>;
  pageSeries(page?: InventoryPage): Promise<Series[]>;
  pageInstances(page?: InventoryPage): Promise<Instance[]>;
  /** Copies the analysis read; one row per SOP Instance UID and content (a copy read again only counts). */
  recordAnalysisHeaders(items: readonly AnalysisHeaderInput[]): Promise<AnalysisHeaderResult>;
  listAnalysisHeaders(page?: {
    readonly afterId?: number;
    readonly limit?: number;
  }): Promise<AnalysisHeader[]>;
  saveAnalysisRun(run: AnalysisRunInput, findings: readonly AnalysisFindingInput[]): Promise<number>;
  /** The latest run when no id is given. */
  getAnalysisRun(runId?: number): Promise<AnalysisRun | undefined>;
  listAnalysisFindings(runId: number, opts?: { readonly studyUid?: string }): Promise<AnalysisFinding[]>;
  /** The secret that keys pseudonyms of patient groups in findings (made on first use). */
  analysisSecret(): Promise<string>;
}

export interface StoreOptions {
  /** Default: the system clock. Tests pass a ManualClock. */
  readonly clock?: Clock;
  /** Back-off of retryable job failures; default base 30 s, factor 2, cap 1 h. */
  readonly backoff?: BackoffPolicy;
  /** max_attempts of jobs enqueued without one; default 5. */
  readonly maxAttempts?: number;
  /** For back-off jitter; default Math.random. */
  readonly random?: () => number;
}

/** Binds the operations to an open database. Use openSqliteStore / openPgStore / openStore. */
export function createStore(db: Db, opts: StoreOptions = {}): Store {
  const ctx: OpContext = {
    db,
    clock: opts.clock ?? systemClock,
    backoff: opts.backoff ?? DEFAULT_BACKOFF,
    defaultMaxAttempts: opts.maxAttempts ?? 5,
    random: opts.random ?? Math.random,
  };
  return {
    dialect: db.dialect,
    clock: ctx.clock,
    migrate: () => migrate(db, ctx.clock),
    close: () => db.close(),

    startInventoryRun: (params, note) => startInventoryRun(ctx, params, note),
    finishInventoryRun: (runId, o) => finishInventoryRun(ctx, runId, o),
    getInventoryRun: (runId) => getInventoryRun(ctx, runId),
    inventoryStanding: () => inventoryStanding(ctx),
    recordQuery: (q) => recordQuery(ctx, q),
    listQueries: (runId) => listQueries(ctx, runId),
    upsertStudies: (runId, rows) => upsertStudies(ctx, runId, rows),
    upsertSeries: (runId, rows) => upsertSeries(ctx, runId, rows),
    upsertInstances: (runId, rows) => upsertInstances(ctx, runId, rows),
    markVanished: (runId, o) => markVanished(ctx, runId, o),
    listChanges: (runId, level) => listChanges(ctx, runId, level),
    recordExceptions: (runId, items) => recordExceptions(ctx, runId, items),
    resolveExceptions: (runId, kinds) => resolveExceptions(ctx, runId, kinds),
    listExceptions: (f) => listExceptions(ctx, f),
    acquireLock: (name, owner, leaseMs) => acquireLock(ctx, name, owner, leaseMs),
    extendLock: (name, owner, leaseMs) => extendLock(ctx, name, owner, leaseMs),
    releaseLock: (name, owner) => releaseLock(ctx, name, owner),
    getStudy: (uid) => getStudy(ctx, uid),
    getSeries: (uid) => getSeries(ctx, uid),
    getInstance: (uid) => getInstance(ctx, uid),

    setScopeDecisions: (d) => setScopeDecisions(ctx, d),
    setScopeDecision: (d) => setScopeDecisions(ctx, [d]),
    getScopeDecision: (uid) => getScopeDecision(ctx, uid),

    enqueueJobs: (items, o) => enqueueJobs(ctx, items, o),
    claimJobs: (owner, n, leaseMs, o) => claimJobs(ctx, owner, n, leaseMs, o),
    extendLease: (id, owner, leaseMs) => extendLease(ctx, id, owner, leaseMs),
    advanceJob: (id, owner, to) => advanceJob(ctx, id, owner, to),
    failJob: (id, owner, code, message, retryable, o) => failJob(ctx, id, owner, code, message, retryable, o),
    releaseJob: (id, owner) => releaseJob(ctx, id, owner),
    listLeaseOwners: () => listLeaseOwners(ctx),
    expireLeases: (owners, reason) => expireLeases(ctx, owners, reason),
    requeueJobs: (f) => requeueJobs(ctx, f),
    prioritize: (target, level) => prioritize(ctx, target, level),
    pause: (reason) => pause(ctx, reason),
    resume: () => resume(ctx),
    isPaused: () => isPaused(ctx),
    getJob: (id) => getJob(ctx, id),
    getJobByStudy: (uid, kind) => getJobByStudy(ctx, uid, kind),
    listJobs: (o) => listJobs(ctx, o),
    countJobsByState: (kind) => countJobsByState(ctx, kind),

    recordInstancesReceived: (items, rc) => recordInstancesReceived(ctx, items, rc),
    recordInstancesStored: (items, rc) => recordInstancesStored(ctx, items, rc),
    recordInstancesVerified: (items, rc) => recordInstancesVerified(ctx, items, rc),
    recordInstanceFailures: (items, rc) => recordInstanceFailures(ctx, items, rc),
    listInstances: (uid, f) => listInstances(ctx, uid, f),
    listInstanceOutcomes: (uid) => listInstanceOutcomes(ctx, uid),
    listQuarantine: (uid) => listQuarantine(ctx, uid),

    appendEvents: (events) => appendEvents(ctx, events),
    listEvents: (f) => listEvents(ctx, f),
    throughput: (windowMs, phase) => throughput(ctx, windowMs, phase),
    ledger: (o) => ledger(ctx, o),
    ledgerSummary: () => ledgerSummary(ctx),
    isDone: () => isDone(ctx),

    pageStudies: (p) => pageStudies(ctx, p),
    pageSeries: (p) => pageSeries(ctx, p),
    pageInstances: (p) => pageInstances(ctx, p),
    recordAnalysisHeaders: (items) => recordAnalysisHeaders(ctx, items),
    listAnalysisHeaders: (p) => listAnalysisHeaders(ctx, p),
    saveAnalysisRun: (run, findings) => saveAnalysisRun(ctx, run, findings),
    getAnalysisRun: (id) => getAnalysisRun(ctx, id),
    listAnalysisFindings: (id, o) => listAnalysisFindings(ctx, id, o),
    analysisSecret: () => analysisSecret(ctx),
  };
}
