/**
 * Everything the report says, gathered from the state database in one pass: the definition-of-done
 * ledger (one row per study), totals, failures grouped by code with the action to take, per-instance
 * failures, quarantined objects, verification regressions, inventory completeness, changes in the
 * source since the first inventory, job states and throughput.
 *
 * Patient data: study UIDs only, unless `logPhi` (privacy.logPhi), which adds PatientID, PatientName,
 * PatientBirthDate and AccessionNumber per study. The accession number is an identifier too (it
 * leads to the patient in the RIS), so it is left out by default as well.
 */
import type { JobState } from '../state/job-state.js';
import type { Store } from '../state/store.js';
import type {
  InventoryChange,
  LedgerException,
  LedgerRow,
  LedgerStatus,
  LedgerSummary,
  QuarantineEntry,
  Throughput,
} from '../state/types.js';
import { summarizeTrail, type TrailSummary } from '../transform/audit.js';
import { TRANSFORM_FAILURE_STATUS } from '../transform/apply.js';
import { explainCode } from './actions.js';

export interface StudyPhi {
  readonly patientId: string | null;
  readonly patientName: string | null;
  readonly patientBirthDate: string | null;
  readonly accessionNumber: string | null;
}

export interface ReportStudy extends LedgerRow {
  /** Verified, but a later re-verification found problems. */
  readonly regressed: boolean;
  /** Not failed yet, but an earlier attempt did (retried after a back-off): its code and cause. */
  readonly lastErrorCode?: string;
  readonly lastError?: string | null;
  /** Only when logPhi. */
  readonly phi?: StudyPhi;
}

export interface FailureGroup {
  readonly code: string;
  readonly meaning: string;
  readonly action: string;
  readonly studies: readonly {
    readonly studyUid: string;
    readonly cause: string | null;
    readonly attempts: number;
  }[];
}

export interface InstanceFailureGroup {
  readonly phase: string;
  readonly category: string;
  readonly status: string | null;
  /** Distinct instances that met this failure at least once. */
  readonly instances: number;
  readonly action: string;
}

export interface InventoryRunSummary {
  readonly id: number;
  readonly startedAt: number;
  readonly finishedAt: number | null;
  readonly complete: boolean | null;
  readonly queries: number;
  readonly completeQueries: number;
  /** Capped queries that were split into smaller ones. */
  readonly splitQueries: number;
  /** Queries neither complete nor covered by complete splits. */
  readonly uncovered: number;
}

export interface ChangeSummary {
  readonly runId: number;
  readonly counts: Readonly<Record<string, number>>;
  /** Up to `maxChanges`, without values (which may be patient data) unless logPhi. */
  readonly changes: readonly {
    readonly level: string;
    readonly uid: string;
    readonly studyUid: string;
    readonly kind: string;
    readonly fields?: readonly string[];
  }[];
}

/** What the plan's corrections and rules changed (src/transform), and what they could not change. */
export interface TransformSection {
  /** Per correction table / rule: elements changed, instances and studies changed, keywords. */
  readonly applied: readonly TrailSummary[];
  /** Instances a change could not be written into (quarantined, not sent), by cause. */
  readonly failures: readonly {
    readonly category: string;
    /** The tables/rules whose change was refused, as the cause names them. */
    readonly by: string;
    readonly instances: number;
    readonly studies: number;
  }[];
}

export interface ReportData {
  readonly generatedAt: number;
  readonly plan: { readonly name: string; readonly description: string | null };
  readonly logPhi: boolean;
  /** The store's definition of done, plus verification regressions. */
  readonly done: { readonly done: boolean; readonly clean: boolean; readonly reasons: readonly string[] };
  readonly summary: LedgerSummary;
  readonly instances: {
    readonly reported: number;
    readonly received: number;
    readonly stored: number;
    readonly verified: number;
    readonly withProblems: number;
    readonly quarantined: number;
  };
  readonly jobStates: Readonly<Record<JobState, number>>;
  readonly throughput: { readonly store: Throughput; readonly retrieve: Throughput };
  readonly studies: readonly ReportStudy[];
  readonly failures: readonly FailureGroup[];
  readonly instanceFailures: readonly InstanceFailureGroup[];
  readonly quarantine: readonly QuarantineEntry[];
  /**
   * The ledger's exceptions still standing (open, then accepted): unreadable source files, parts of the
   * source no query covered. An open one keeps the migration from DONE. Resolved ones are only counted.
   */
  readonly exceptions: readonly LedgerException[];
  readonly exceptionCounts: Readonly<Record<LedgerException['status'], number>>;
  readonly regressions: readonly string[];
  readonly inventory: readonly InventoryRunSummary[];
  readonly changes: readonly ChangeSummary[];
  readonly transform: TransformSection;
}

export interface CollectOptions {
  readonly name: string;
  readonly description?: string | null;
  readonly logPhi: boolean;
  /** Changes listed per inventory run (counts are always complete). Default 500. */
  readonly maxChanges?: number;
  /** Throughput window. Default 5 minutes. */
  readonly windowMs?: number;
}

const PAGE = 1000;

async function allLedgerRows(store: Store): Promise<LedgerRow[]> {
  const out: LedgerRow[] = [];
  let after: string | undefined;
  for (;;) {
    const page = await store.ledger({ after, limit: PAGE });
    out.push(...page);
    if (page.length < PAGE) return out;
    after = page[page.length - 1]!.studyUid;
  }
}

/** Inventory runs have sequential ids; ids lost to rolled-back transactions leave small gaps. */
async function inventoryRuns(store: Store): Promise<InventoryRunSummary[]> {
  const out: InventoryRunSummary[] = [];
  for (let id = 1, misses = 0; misses < 50; id++) {
    const run = await store.getInventoryRun(id);
    if (!run) {
      misses++;
      continue;
    }
    misses = 0;
    const qs = await store.listQueries(id);
    const children = new Map<number, typeof qs>();
    for (const q of qs)
      if (q.parentId !== null) children.set(q.parentId, [...(children.get(q.parentId) ?? []), q]);
    const covered = (q: (typeof qs)[number]): boolean =>
      q.complete || ((children.get(q.id)?.length ?? 0) > 0 && children.get(q.id)!.every(covered));
    const roots = qs.filter((q) => q.parentId === null);
    out.push({
      id,
      startedAt: run.startedAt,
      finishedAt: run.finishedAt,
      complete: run.complete,
      queries: qs.length,
      completeQueries: qs.filter((q) => q.complete).length,
      splitQueries: qs.filter((q) => children.has(q.id)).length,
      uncovered: roots.filter((q) => !covered(q)).length,
    });
  }
  return out;
}

function fieldsOf(c: InventoryChange): string[] | undefined {
  const v = c.newValue ?? c.oldValue;
  if (v && typeof v === 'object' && !Array.isArray(v)) return Object.keys(v).sort();
  return undefined;
}

export async function collectReport(store: Store, opts: CollectOptions): Promise<ReportData> {
  const maxChanges = opts.maxChanges ?? 500;
  const [isDone, summary, jobStates, store5, retrieve5, quarantine, outcomes, open, accepted] =
    await Promise.all([
      store.isDone(),
      store.ledgerSummary(),
      store.countJobsByState(),
      store.throughput(opts.windowMs, 'store'),
      store.throughput(opts.windowMs, 'retrieve'),
      store.listQuarantine(),
      store.listInstanceOutcomes(),
      store.listExceptions({ status: 'open' }),
      store.listExceptions({ status: 'accepted' }),
    ]);
  const rows = await allLedgerRows(store);

  const studies: ReportStudy[] = [];
  const regressions: string[] = [];
  for (const r of rows) {
    const regressed = r.status === 'verified' && r.instancesWithProblems > 0;
    if (regressed) regressions.push(r.studyUid);
    let phi: StudyPhi | undefined;
    if (opts.logPhi) {
      const s = await store.getStudy(r.studyUid);
      phi = {
        patientId: s?.patientId ?? null,
        patientName: s?.patientName ?? null,
        patientBirthDate: s?.patientBirthDate ?? null,
        accessionNumber: s?.accessionNumber ?? null,
      };
    }
    let last: { lastErrorCode?: string; lastError?: string | null } = {};
    if (
      (r.status === 'pending' || r.status === 'migrated-not-verified') &&
      r.attempts > 0 &&
      r.jobId !== null
    ) {
      const job = await store.getJob(r.jobId);
      if (job?.lastErrorCode) last = { lastErrorCode: job.lastErrorCode, lastError: job.lastError };
    }
    studies.push({ ...r, regressed, ...last, ...(phi ? { phi } : {}) });
  }

  const groups = new Map<string, FailureGroup & { studies: FailureGroup['studies'][number][] }>();
  for (const r of rows) {
    if (r.status !== 'failed') continue;
    const code = r.errorCode ?? 'NONE';
    let g = groups.get(code);
    if (!g) {
      const e = explainCode(r.errorCode);
      g = { code, meaning: e.meaning, action: e.action, studies: [] };
      groups.set(code, g);
    }
    g.studies.push({ studyUid: r.studyUid, cause: r.error, attempts: r.attempts });
  }
  const failures = [...groups.values()].sort(
    (a, b) => b.studies.length - a.studies.length || a.code.localeCompare(b.code),
  );

  const byKind = new Map<
    string,
    { phase: string; category: string; status: string | null; uids: Set<string> }
  >();
  for (const o of outcomes) {
    const status = o.status === null ? null : `0x${o.status.toString(16).toUpperCase().padStart(4, '0')}`;
    const key = `${o.phase}|${o.category}|${status}`;
    const g = byKind.get(key) ?? { phase: o.phase, category: o.category, status, uids: new Set<string>() };
    g.uids.add(o.sopInstanceUid);
    byKind.set(key, g);
  }
  const instanceFailures = [...byKind.values()]
    .map((g) => ({
      phase: g.phase,
      category: g.category,
      status: g.status,
      instances: g.uids.size,
      action: explainCode(OWN_CATEGORY_CODES[g.category] ?? g.status ?? codeOfCategory(g.category)).action,
    }))
    .sort((a, b) => b.instances - a.instances || a.phase.localeCompare(b.phase));

  const inventory = await inventoryRuns(store);
  const changes: ChangeSummary[] = [];
  for (const run of inventory.slice(1)) {
    const list = await store.listChanges(run.id);
    const counts: Record<string, number> = {};
    for (const c of list) counts[`${c.level} ${c.kind}`] = (counts[`${c.level} ${c.kind}`] ?? 0) + 1;
    changes.push({
      runId: run.id,
      counts,
      changes: list.slice(0, maxChanges).map((c) => {
        const fields = fieldsOf(c);
        return {
          level: c.level,
          uid: c.uid,
          studyUid: c.studyUid,
          kind: c.kind,
          ...(fields ? { fields } : {}),
        };
      }),
    });
  }

  const transform = await collectTransform(store, quarantine);

  const reasons = [...isDone.reasons];
  if (regressions.length > 0)
    reasons.push(`${regressions.length} verified studies failed a later re-verification`);
  const done = isDone.done && regressions.length === 0;
  const sum = (f: (r: LedgerRow) => number | null): number => rows.reduce((n, r) => n + (f(r) ?? 0), 0);
  return {
    generatedAt: store.clock.now(),
    plan: { name: opts.name, description: opts.description ?? null },
    logPhi: opts.logPhi,
    done: { done, clean: done && isDone.clean, reasons },
    summary,
    instances: {
      reported: sum((r) => r.instancesReported),
      received: sum((r) => r.instancesReceived),
      stored: sum((r) => r.instancesStored),
      verified: sum((r) => r.instancesVerified),
      withProblems: sum((r) => r.instancesWithProblems),
      quarantined: quarantine.length,
    },
    jobStates,
    throughput: { store: store5, retrieve: retrieve5 },
    studies,
    failures,
    instanceFailures,
    quarantine,
    exceptions: [...open, ...accepted],
    exceptionCounts: isDone.exceptions,
    regressions,
    inventory,
    changes,
    transform,
  };
}

async function collectTransform(
  store: Store,
  quarantine: readonly QuarantineEntry[],
): Promise<TransformSection> {
  const groups = new Map<string, { category: string; by: string; sops: Set<string>; studies: Set<string> }>();
  for (const q of quarantine) {
    if (!q.category.startsWith('transform-') || q.status !== TRANSFORM_FAILURE_STATUS) continue;
    const by = /\[([^\]]*)\]$/.exec(q.cause ?? '')?.[1] ?? '';
    const key = `${q.category}|${by}`;
    const g = groups.get(key) ?? {
      category: q.category,
      by,
      sops: new Set<string>(),
      studies: new Set<string>(),
    };
    g.sops.add(q.sopInstanceUid);
    g.studies.add(q.studyUid);
    groups.set(key, g);
  }
  return {
    applied: await summarizeTrail(store),
    failures: [...groups.values()]
      .map((g) => ({ category: g.category, by: g.by, instances: g.sops.size, studies: g.studies.size }))
      .sort((a, b) => b.instances - a.instances || a.category.localeCompare(b.category)),
  };
}

/** Instance failure categories with a code of their own: what happened on our side, not the status we answered. */
const OWN_CATEGORY_CODES: Readonly<Record<string, string>> = {
  'spool-full': 'SPOOL_FULL',
  'unreadable-arrival': 'UNREADABLE_ARRIVAL',
};

/** Verification categories are the outcome names; their codes carry the action. */
function codeOfCategory(category: string): string {
  const map: Record<string, string> = {
    missing: 'VERIFY_MISSING',
    'duplicate-conflict': 'VERIFY_DUPLICATE',
    'pixel-mismatch': 'VERIFY_PIXEL_MISMATCH',
    'attribute-mismatch': 'VERIFY_ATTRIBUTE_MISMATCH',
  };
  return map[category] ?? category;
}

export const STATUS_TITLES: Readonly<Record<LedgerStatus, string>> = {
  verified: 'Verified',
  'migrated-not-verified': 'Migrated, not yet verified',
  failed: 'Failed',
  pending: 'Pending',
  excluded: 'Excluded by a rule',
};

/** Report order: what needs attention first. */
export const STATUS_ORDER: readonly LedgerStatus[] = [
  'failed',
  'migrated-not-verified',
  'pending',
  'excluded',
  'verified',
];
