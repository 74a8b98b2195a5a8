/**
 * `applyScope(ctx)`: decides every inventoried study (evaluate.ts), records the decisions
 * (store.setScopeDecisions: each excluded study with its rule; a pending job of a newly excluded
 * study is excluded, an excluded one back in scope reopened), creates a job for every in-scope study
 * still at the source (store.enqueueJobs, priority from its StudyDate: priority.ts), and bumps the
 * patients with upcoming appointments. Returns, per rule, how many studies and instances it decided.
 *
 * Vanished studies are decided (the report shows them) but get no job: there is nothing to retrieve.
 * Instances of a study: the count the source reported, else the instances inventoried.
 */
import { daOf, parseDA } from '../inventory/dates.js';
import type { MigrationContext } from '../run/context.js';
import type { EnqueueInput, ScopeDecisionInput, Study } from '../state/index.js';
import { type DecisionSource, DEFAULT_RULE_ID, evaluateScope } from './evaluate.js';
import {
  type AppointmentBumps,
  type AppointmentsError,
  applyAppointments,
  datePriority,
  dayOf,
} from './priority.js';

export interface ScopeOptions {
  /** Decide and count only: nothing is written. */
  readonly dryRun?: boolean;
  /** Retention date (YYYYMMDD); default scope.retentionAsOf, else today (store clock, UTC). */
  readonly asOf?: string;
  /** Studies read per page (default 500). */
  readonly pageSize?: number;
  readonly onProgress?: (p: { readonly studies: number }) => void;
}

export interface RuleRow {
  readonly ruleId: string;
  readonly source: DecisionSource;
  readonly action: 'include' | 'exclude';
  readonly description: string | null;
  readonly studies: number;
  readonly instances: number;
}

export interface ScopeSummary {
  readonly asOf: string;
  readonly dryRun: boolean;
  readonly studies: number;
  readonly inScope: { readonly studies: number; readonly instances: number };
  readonly excluded: { readonly studies: number; readonly instances: number };
  /** Studies the source no longer holds (decided, no job). */
  readonly vanished: number;
  /** One row per rule (in plan order), the default, then each retention policy; with what each decided. */
  readonly rules: readonly RuleRow[];
  /** Decisions that differ from the previous ones (store), and the jobs that moved because of them. */
  readonly changed: number;
  readonly jobsExcluded: number;
  readonly jobsReopened: number;
  readonly jobsCreated: number;
  readonly appointments?: AppointmentBumps;
  readonly appointmentsError?: AppointmentsError;
}

function instancesOf(s: Study, counted: number | undefined): number {
  return s.numInstances ?? counted ?? 0;
}

export async function applyScope(ctx: MigrationContext, opts: ScopeOptions = {}): Promise<ScopeSummary> {
  const { plan, store } = ctx;
  const scope = plan.scope;
  const asOfDa = opts.asOf ?? scope.retentionAsOf ?? daOf(new Date(store.clock.now()));
  const asOf = parseDA(asOfDa);
  if (asOf === undefined) throw new RangeError(`applyScope: asOf must be a date YYYYMMDD, got ${asOfDa}`);
  const dryRun = opts.dryRun ?? false;

  const rows = new Map<string, { -readonly [K in keyof RuleRow]: RuleRow[K] }>();
  const row = (
    ruleId: string,
    source: DecisionSource,
    action: 'include' | 'exclude',
    description: string | null,
  ) => {
    let r = rows.get(ruleId);
    if (!r) rows.set(ruleId, (r = { ruleId, source, action, description, studies: 0, instances: 0 }));
    return r;
  };
  // Table order: rules as written, the default, retention policies, whether or not they decided anything.
  for (const r of scope.rules) row(r.id, 'rule', r.action, r.description ?? null);
  row(DEFAULT_RULE_ID, 'default', scope.default, `scope.default: ${scope.default}`);
  for (const p of scope.retention) row(p.id, 'retention', 'exclude', p.description ?? null);

  const totals = { studies: 0, inStudies: 0, inInstances: 0, outStudies: 0, outInstances: 0, vanished: 0 };
  const results = { changed: 0, jobsExcluded: 0, jobsReopened: 0, jobsCreated: 0 };
  const pageSize = opts.pageSize ?? 500;
  for (let after: string | undefined; ;) {
    const page = await store.pageStudies({ after, limit: pageSize });
    if (page.length === 0) break;
    after = page.at(-1)!.studyUid;
    const decisions: ScopeDecisionInput[] = [];
    const jobs: EnqueueInput[] = [];
    for (const s of page) {
      const v = evaluateScope(s, scope, asOf);
      const counted =
        s.numInstances === null
          ? (await store.listInstances(s.studyUid, 'all')).filter((i) => i.firstSeenAt !== null).length
          : undefined;
      const n = instancesOf(s, counted);
      const r = row(v.ruleId, v.source, v.inScope ? 'include' : 'exclude', v.description);
      r.studies++;
      r.instances += n;
      totals.studies++;
      if (v.inScope) {
        totals.inStudies++;
        totals.inInstances += n;
      } else {
        totals.outStudies++;
        totals.outInstances += n;
      }
      decisions.push({
        studyUid: s.studyUid,
        inScope: v.inScope,
        ruleId: v.ruleId,
        ruleDescription: v.description,
      });
      if (s.vanishedAt !== null) totals.vanished++;
      else if (v.inScope)
        jobs.push({ studyUid: s.studyUid, priority: datePriority(s.studyDate, plan.transfer.priority) });
    }
    if (!dryRun) {
      const d = await store.setScopeDecisions(decisions);
      results.changed += d.changed;
      results.jobsExcluded += d.jobsExcluded;
      results.jobsReopened += d.jobsReopened;
      if (jobs.length > 0) results.jobsCreated += (await store.enqueueJobs(jobs)).created.length;
    }
    opts.onProgress?.({ studies: totals.studies });
  }

  let appointments: AppointmentBumps | undefined;
  let appointmentsError: AppointmentsError | undefined;
  if (!dryRun) {
    const a = await applyAppointments(store, plan.transfer, dayOf(store.clock.now()));
    if (a.ok) appointments = a.value;
    else appointmentsError = a.error;
  }

  return {
    asOf: asOfDa,
    dryRun,
    studies: totals.studies,
    inScope: { studies: totals.inStudies, instances: totals.inInstances },
    excluded: { studies: totals.outStudies, instances: totals.outInstances },
    vanished: totals.vanished,
    rules: [...rows.values()],
    ...results,
    ...(appointments ? { appointments } : {}),
    ...(appointmentsError ? { appointmentsError } : {}),
  };
}
