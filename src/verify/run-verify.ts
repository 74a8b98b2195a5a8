/**
 * The verify run: claims the jobs whose studies are stored (the worker protocol of src/state), moves
 * each to `verifying`, verifies it and records the verdict per instance. A clean study becomes
 * `verified`; a study with problems fails with a VERIFY_* code and a message naming the instances
 * (missing only: retried after the back-off, the target may still be indexing; any mismatch or
 * duplicate: failed at once, a result for the ledger). A target that cannot answer is a retryable
 * failure with its code.
 *
 * `again` re-verifies studies already verified (the target keeps changing): their per-instance
 * outcomes are updated, and a study that no longer passes is logged as a `verify.regression` event
 * (the job stays `verified`; the report lists such studies and does not call the migration done).
 */
import { newOwnerId, reclaimDeadOwners } from '../state/index.js';
import type { Job, Json, VerifyOutcome } from '../state/types.js';
import { VERIFY_OUTCOMES } from '../state/types.js';
import type { MigrationContext } from '../run/context.js';
import { instanceDetail } from './compare.js';
import { StudySampler, type SampleSpec } from './sample.js';
import type { VerifyTarget } from './target.js';
import { PROBLEM_CODES, UNEXPECTED_CODE, type StudyVerification, type VerifyFailure } from './types.js';
import { openVerifyTarget, verifyStudy } from './verify-study.js';

export interface RunVerifyOptions {
  /** Studies verified at once (each uses one association at a time). Default min(2, target maxAssociations). */
  readonly concurrency?: number;
  /** Overrides plan.verify.sample. */
  readonly sample?: Partial<SampleSpec>;
  /** Also re-verify verified studies (all, or those last verified longer ago than olderThanMs). */
  readonly again?: boolean | { readonly olderThanMs?: number };
  /** Lease per claimed job, renewed every third of it. Default 30 s (a dead verifier's studies wait no longer). */
  readonly leaseMs?: number;
  /** Stop after this many studies. */
  readonly limit?: number;
  readonly target?: VerifyTarget;
  /** Progress, one call per study. */
  readonly onStudy?: (e: StudyEvent) => void;
  /** Aborted (SIGTERM, SIGINT): no further study is claimed. */
  readonly signal?: AbortSignal;
}

export type StudyEvent =
  | { readonly studyUid: string; readonly phase: 'first' | 'again'; readonly result: StudyVerification }
  | { readonly studyUid: string; readonly phase: 'first' | 'again'; readonly failure: VerifyFailure };

export interface VerifyRunSummary {
  /** Studies looked at (first verification and re-verification). */
  readonly studies: number;
  readonly verified: number;
  /** Studies whose verification found problems (failed or retried later). */
  readonly withProblems: number;
  /** Studies the target could not be asked about (peer failure, incomplete answer). */
  readonly notVerified: number;
  readonly sampled: number;
  readonly reverified: number;
  /** Re-verified studies that no longer pass. */
  readonly regressions: number;
  readonly instances: Readonly<Record<VerifyOutcome, number>>;
  /** Up to 100, UIDs and codes only. */
  readonly problems: readonly { studyUid: string; code: string | number; message: string }[];
}

const MAX_LISTED = 100;
const leaseDefault = 30_000;
const ALL_JOBS = 10_000_000;

/** The job failure a study's problems amount to, or undefined when it is clean. */
export function problemOf(
  r: StudyVerification,
): { code: string; message: string; retryable: boolean } | undefined {
  if (r.clean) return undefined;
  const parts: string[] = [];
  for (const o of VERIFY_OUTCOMES) if (o !== 'verified' && r.counts[o] > 0) parts.push(`${r.counts[o]} ${o}`);
  const bad = r.instances.filter((i) => i.outcome !== 'verified').map((i) => i.sopInstanceUid);
  let message = `verify study ${r.studyUid}: `;
  if (parts.length > 0)
    message += `${parts.join(', ')} of ${r.instances.length} instances (${bad.slice(0, 5).join(', ')}${bad.length > 5 ? ', …' : ''})`;
  if (r.unexpected.length > 0) {
    message += `${parts.length > 0 ? '; ' : ''}${r.unexpected.length} unexpected at the target (${r.unexpected.slice(0, 3).join(', ')}${r.unexpected.length > 3 ? ', …' : ''})`;
  }
  const first = PROBLEM_CODES.find(([o]) => r.counts[o] > 0);
  const onlyMissing = r.counts.missing > 0 && r.unexpected.length === 0 && parts.length === 1;
  return { code: first ? first[1] : UNEXPECTED_CODE, message, retryable: onlyMissing };
}

/** The study summary kept in the audit log (no patient data). */
export function studyDetail(r: StudyVerification): Json {
  return {
    sampled: r.sampled,
    level: r.level,
    instances: r.instances.length,
    counts: { ...r.counts },
    unexpected: r.unexpected.slice(0, 50),
    unexpectedCount: r.unexpected.length,
    listingComplete: r.listingComplete,
    notes: [...r.notes],
    durationMs: r.durationMs,
  };
}

/** Runs `work` over items with at most `n` at once. */
async function pool<T>(
  items: AsyncIterable<T> | Iterable<T>,
  n: number,
  work: (t: T) => Promise<void>,
): Promise<void> {
  const running = new Set<Promise<void>>();
  for await (const item of items as AsyncIterable<T>) {
    const p: Promise<void> = work(item).finally(() => running.delete(p));
    running.add(p);
    if (running.size >= n) await Promise.race(running);
  }
  await Promise.all(running);
}

export async function runVerify(
  ctx: MigrationContext,
  opts: RunVerifyOptions = {},
): Promise<VerifyRunSummary> {
  const { store, plan } = ctx;
  const maxAssoc = plan.target.type === 'dimse' ? plan.target.maxAssociations : 4;
  const concurrency = Math.max(1, Math.min(opts.concurrency ?? 2, maxAssoc));
  if (opts.concurrency !== undefined && (!Number.isInteger(opts.concurrency) || opts.concurrency < 1)) {
    throw new RangeError(`runVerify: concurrency must be an integer >= 1, got ${opts.concurrency}`);
  }
  const spec: SampleSpec = { ...plan.verify.sample, ...opts.sample };
  const leaseMs = opts.leaseMs ?? leaseDefault;
  const target = opts.target ?? openVerifyTarget(ctx);
  const owner = newOwnerId('verify');
  // Studies a killed predecessor on this host was verifying are taken at once, not after their lease.
  await reclaimDeadOwners(store);
  const instances = Object.fromEntries(VERIFY_OUTCOMES.map((o) => [o, 0])) as Record<VerifyOutcome, number>;
  const problems: { studyUid: string; code: string | number; message: string }[] = [];
  const tally = {
    studies: 0,
    verified: 0,
    withProblems: 0,
    notVerified: 0,
    sampled: 0,
    reverified: 0,
    regressions: 0,
  };
  const limit = opts.limit ?? Infinity;
  const note = (studyUid: string, code: string | number, message: string) => {
    if (problems.length < MAX_LISTED) problems.push({ studyUid, code, message });
  };
  const count = (r: StudyVerification) => {
    for (const o of VERIFY_OUTCOMES) instances[o] += r.counts[o];
    if (r.sampled) tally.sampled++;
  };

  try {
    // ── first verification of stored studies ───────────────────────────────
    const candidates = [
      ...(await store.listJobs({ state: 'stored', limit: ALL_JOBS })),
      ...(await store.listJobs({ state: 'verifying', limit: ALL_JOBS })),
    ].map((j) => j.studyUid);
    const sampler = new StudySampler(candidates, spec);

    async function* claimed(): AsyncGenerator<Job> {
      while (tally.studies < limit && !opts.signal?.aborted) {
        const want = Math.max(1, Math.min(concurrency, limit - tally.studies));
        const jobs = await store.claimJobs(owner, want, leaseMs, { states: ['stored', 'verifying'] });
        if (jobs.length === 0) return;
        for (const j of jobs) {
          if (tally.studies >= limit) {
            await store.releaseJob(j.id, owner);
            continue;
          }
          tally.studies++;
          yield j;
        }
      }
    }

    await pool(claimed(), concurrency, async (job) => {
      const adv = await store.advanceJob(job.id, owner, 'verifying');
      if (!adv.ok) return; // not ours any more
      let lost = false;
      const beat = setInterval(
        () => {
          void store.extendLease(job.id, owner, leaseMs).then(
            (r) => {
              if (!r.ok) lost = true;
            },
            () => undefined,
          );
        },
        Math.max(1000, Math.floor(leaseMs / 3)),
      );
      let r;
      try {
        r = await verifyStudy(ctx, job.studyUid, { sampled: sampler.has(job.studyUid), target });
      } catch (e) {
        await store.releaseJob(job.id, owner).catch(() => undefined);
        throw e;
      } finally {
        clearInterval(beat);
      }
      if (lost) return;
      if (!r.ok) {
        tally.notVerified++;
        note(job.studyUid, r.error.code, r.error.message);
        await store.failJob(job.id, owner, r.error.code, r.error.message, r.error.retryable);
        opts.onStudy?.({ studyUid: job.studyUid, phase: 'first', failure: r.error });
        return;
      }
      const v = r.value;
      count(v);
      await store.recordInstancesVerified(
        v.instances.map((i) => ({
          sopInstanceUid: i.sopInstanceUid,
          outcome: i.outcome,
          detail: instanceDetail(i),
        })),
        { jobId: job.id },
      );
      await store.appendEvents([
        { jobId: job.id, studyUid: job.studyUid, kind: 'verify.study', detail: studyDetail(v) },
      ]);
      const problem = problemOf(v);
      if (!problem) {
        tally.verified++;
        await store.advanceJob(job.id, owner, 'verified');
      } else {
        tally.withProblems++;
        note(job.studyUid, problem.code, problem.message);
        await store.failJob(job.id, owner, problem.code, problem.message, problem.retryable);
      }
      opts.onStudy?.({ studyUid: job.studyUid, phase: 'first', result: v });
    });

    // ── re-verification of verified studies ────────────────────────────────
    if (opts.again) {
      const olderThanMs = typeof opts.again === 'object' ? opts.again.olderThanMs : undefined;
      const verified = await store.listJobs({ state: 'verified', limit: ALL_JOBS });
      const now = store.clock.now();
      const due: Job[] = [];
      for (const j of verified) {
        if (olderThanMs !== undefined) {
          const stored = (await store.listInstances(j.studyUid, 'all')).filter((i) => i.storedAt !== null);
          const last = Math.min(...stored.map((i) => i.verifiedAt ?? 0));
          if (stored.length > 0 && now - last < olderThanMs) continue;
        }
        due.push(j);
      }
      const againSampler = new StudySampler(
        due.map((j) => j.studyUid),
        spec,
      );
      const budget = due.slice(0, Math.max(0, limit - tally.studies));
      await pool(budget, concurrency, async (job) => {
        tally.studies++;
        const r = await verifyStudy(ctx, job.studyUid, { sampled: againSampler.has(job.studyUid), target });
        if (!r.ok) {
          tally.notVerified++;
          note(job.studyUid, r.error.code, r.error.message);
          await store.appendEvents([
            {
              jobId: job.id,
              studyUid: job.studyUid,
              kind: 'verify.recheck-failed',
              detail: { code: String(r.error.code), message: r.error.message },
            },
          ]);
          opts.onStudy?.({ studyUid: job.studyUid, phase: 'again', failure: r.error });
          return;
        }
        const v = r.value;
        count(v);
        tally.reverified++;
        await store.recordInstancesVerified(
          v.instances.map((i) => ({
            sopInstanceUid: i.sopInstanceUid,
            outcome: i.outcome,
            detail: instanceDetail(i),
          })),
          { jobId: job.id },
        );
        const problem = problemOf(v);
        const events = [
          { jobId: job.id, studyUid: job.studyUid, kind: 'verify.recheck', detail: studyDetail(v) },
        ];
        if (problem) {
          tally.regressions++;
          tally.withProblems++;
          note(job.studyUid, problem.code, problem.message);
          events.push({
            jobId: job.id,
            studyUid: job.studyUid,
            kind: 'verify.regression',
            detail: { code: problem.code, message: problem.message },
          });
        } else tally.verified++;
        await store.appendEvents(events);
        opts.onStudy?.({ studyUid: job.studyUid, phase: 'again', result: v });
      });
    }
  } finally {
    if (!opts.target) await target.close();
  }
  return { ...tally, instances, problems };
}
