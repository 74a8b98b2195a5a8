/**
 * The coverage report after a pilot (or at any time of the bulk): for every combination present in
 * the in-scope source, what became of its instances at the target. An instance is verified, failed
 * (refused and quarantined, not delivered by the source, a verification problem, or its study's job
 * failed, each with its cause), migrated but not yet verified, or not tried. A combination takes the
 * worst of its instances: failed, else verified, else migrated-not-verified, else not-tried.
 */
import { parseDA, daOf } from '../../inventory/dates.js';
import { hex } from '../../net/dimse/status.js';
import type { MigrationContext } from '../../run/context.js';
import { evaluateScope } from '../../scope/evaluate.js';
import type { Instance, InstanceOutcome, Job, LedgerRow, QuarantineEntry } from '../../state/index.js';
import { eachStudy } from '../preflight/source-view.js';
import { combinationOfKey, type Combination } from './dimensions.js';
import { gatherHeaders, studyCombinations } from './facts.js';
import { lastPilot } from './pilot.js';

export type CoverageStatus = 'verified' | 'failed' | 'migrated-not-verified' | 'not-tried';
export const COVERAGE_STATUSES: readonly CoverageStatus[] = [
  'failed',
  'verified',
  'migrated-not-verified',
  'not-tried',
];

export interface CoverageRow {
  readonly key: string;
  readonly combination: Combination;
  readonly status: CoverageStatus;
  /** Instances of the combination by their own status. */
  readonly instances: Readonly<Record<CoverageStatus, number>>;
  /** Distinct causes of failed instances (statuses, categories, our codes; no patient data). */
  readonly causes: readonly string[];
  /** A study of the last pilot holds the combination. */
  readonly inPilot: boolean;
  readonly studies: number;
}

export interface CoverageReport {
  readonly pilotStudies: number;
  readonly rows: readonly CoverageRow[];
  readonly byStatus: Readonly<Record<CoverageStatus, number>>;
}

function instanceStatus(
  i: Instance,
  q: QuarantineEntry | undefined,
  failures: readonly InstanceOutcome[] | undefined,
  ledger: LedgerRow,
  job: Job | undefined,
): { status: CoverageStatus; cause?: string } {
  if (i.verifyOutcome === 'verified') return { status: 'verified' };
  if (i.verifyOutcome) return { status: 'failed', cause: `verify: ${i.verifyOutcome}` };
  if (q)
    return {
      status: 'failed',
      cause: `store: ${q.category}${q.status !== null ? ` 0x${hex(q.status)}` : ''}${q.cause ? ` (${q.cause})` : ''}`,
    };
  if (i.storedAt !== null) return { status: 'migrated-not-verified' };
  const last = failures?.[failures.length - 1];
  if (last)
    return {
      status: 'failed',
      cause: `${last.phase}: ${last.category}${last.status !== null ? ` 0x${hex(last.status)}` : ''}${last.cause ? ` (${last.cause})` : ''}`,
    };
  if (ledger.status === 'failed')
    return {
      status: 'failed',
      cause: `study: ${ledger.errorCode ?? 'failed'}${ledger.error ? ` (${ledger.error})` : ''}`,
    };
  // The study's job failed and waits for its next attempt: failed so far, with the job's cause.
  if (job?.lastErrorCode)
    return {
      status: 'failed',
      cause: `study: ${job.lastErrorCode}${job.lastError ? ` (${job.lastError})` : ''}; attempt ${job.attempts} of ${job.maxAttempts}, retried later`,
    };
  return { status: 'not-tried' };
}

const RANK: Record<CoverageStatus, number> = {
  'not-tried': 0,
  'migrated-not-verified': 1,
  verified: 2,
  failed: 3,
};

export async function coverageReport(
  ctx: MigrationContext,
  opts: { readHeaders?: boolean } = {},
): Promise<CoverageReport> {
  const { store, plan } = ctx;
  const { book } = await gatherHeaders(ctx, { read: opts.readHeaders ?? false });
  const pilot = new Set((await lastPilot(ctx)) ?? []);
  const quarantine = new Map((await store.listQuarantine()).map((q) => [q.sopInstanceUid, q]));
  const failures = new Map<string, InstanceOutcome[]>();
  for (const o of await store.listInstanceOutcomes())
    failures.set(o.sopInstanceUid, [...(failures.get(o.sopInstanceUid) ?? []), o]);
  const asOf = parseDA(plan.scope.retentionAsOf ?? daOf(new Date(store.clock.now())))!;
  const acc = new Map<
    string,
    { counts: Record<CoverageStatus, number>; causes: Set<string>; inPilot: boolean; studies: Set<string> }
  >();
  for await (const v of eachStudy(store)) {
    const decided = await store.getScopeDecision(v.study.studyUid);
    if (!(decided ? decided.inScope : evaluateScope(v.study, plan.scope, asOf).inScope)) continue;
    const job = v.ledger.jobId !== null ? await store.getJob(v.ledger.jobId) : undefined;
    for (const [key, c] of studyCombinations(v, book)) {
      let a = acc.get(key);
      if (!a)
        acc.set(
          key,
          (a = {
            counts: { verified: 0, failed: 0, 'migrated-not-verified': 0, 'not-tried': 0 },
            causes: new Set(),
            inPilot: false,
            studies: new Set(),
          }),
        );
      a.inPilot ||= pilot.has(v.study.studyUid);
      a.studies.add(v.study.studyUid);
      for (const i of c.instances) {
        const s = instanceStatus(
          i,
          quarantine.get(i.sopInstanceUid),
          failures.get(i.sopInstanceUid),
          v.ledger,
          job,
        );
        a.counts[s.status]++;
        if (s.cause && a.causes.size < 10) a.causes.add(s.cause);
      }
    }
  }
  const rows: CoverageRow[] = [...acc]
    .map(([key, a]) => {
      const status =
        (Object.keys(a.counts) as CoverageStatus[])
          .filter((s) => a.counts[s] > 0)
          .sort((x, y) => RANK[y] - RANK[x])[0] ?? 'not-tried';
      return {
        key,
        combination: combinationOfKey(key),
        status,
        instances: a.counts,
        causes: [...a.causes],
        inPilot: a.inPilot,
        studies: a.studies.size,
      };
    })
    .sort((a, b) => RANK[b.status] - RANK[a.status] || (a.key < b.key ? -1 : 1));
  const byStatus = { verified: 0, failed: 0, 'migrated-not-verified': 0, 'not-tried': 0 } as Record<
    CoverageStatus,
    number
  >;
  for (const r of rows) byStatus[r.status]++;
  return { pilotStudies: pilot.size, rows, byStatus };
}
