import { parseArgs } from 'node:util';
import { formatDuration, parseDuration } from '../../plan/index.js';
import { openMigration } from '../../run/context.js';
import { JOB_STATES, LEDGER_STATUSES, isTerminal, type Store, type Throughput } from '../../state/index.js';
import { UsageError } from '../common.js';
import { Exit } from '../exit-codes.js';

export const usage = 'pacshift status PLAN [--window 5m] [--json]';

/** Throughput, what is left and an ETA: "left" and the ETA only once jobs exist, the ETA only while something is left. */
const rate = (t: Throughput, jobsExist: boolean): string => {
  const moved = `${t.instancesPerSec.toFixed(1)} instances/s, ${t.mbPerSec.toFixed(1)} MB/s over the last ${formatDuration(t.windowMs)}`;
  if (!jobsExist) return `${moved}; no jobs yet`;
  const eta =
    t.remainingInstances > 0 && t.etaMs !== null
      ? `, ETA ${formatDuration(Math.max(60_000, Math.round(t.etaMs / 60_000) * 60_000))}`
      : '';
  return `${moved}; ${t.remainingInstances} instances left${eta}`;
};

/** Instances per outcome, summed over the ledger's rows (one vocabulary with the studies line). */
async function instanceTotals(store: Store) {
  const t = { inventoried: 0, stored: 0, verified: 0, withProblems: 0, quarantined: 0 };
  for (let after: string | undefined; ;) {
    const rows = await store.ledger({ after, limit: 5000 });
    for (const r of rows) {
      t.inventoried += r.instancesReported ?? 0;
      t.stored += r.instancesStored;
      t.verified += r.instancesVerified;
      t.withProblems += r.instancesWithProblems;
      t.quarantined += r.instancesQuarantined;
    }
    if (rows.length < 5000) return t;
    after = rows[rows.length - 1]!.studyUid;
  }
}

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: { window: { type: 'string', default: '5m' }, json: { type: 'boolean', default: false } },
    allowPositionals: true,
  });
  const planPath = positionals[0];
  if (!planPath) throw new UsageError('missing the plan file');
  const windowMs = parseDuration(values.window!);
  if (windowMs === undefined || windowMs <= 0)
    throw new UsageError('--window must be a duration such as 5m or 1h');
  const ctx = await openMigration(planPath); // a plan error is a usage error (main.ts)
  try {
    const { store } = ctx;
    const [jobs, done, store5, retrieve5, paused] = await Promise.all([
      store.countJobsByState(),
      store.isDone(),
      store.throughput(windowMs, 'store'),
      store.throughput(windowMs, 'retrieve'),
      store.isPaused(),
    ]);
    if (values.json) {
      console.log(
        JSON.stringify({
          name: ctx.plan.name,
          done: done.done,
          clean: done.clean,
          reasons: done.reasons,
          studies: done.summary,
          jobs,
          throughput: { store: store5, retrieve: retrieve5 },
          paused,
        }),
      );
      return Exit.ok;
    }
    const s = done.summary;
    const jobsExist = JOB_STATES.some((k) => jobs[k] > 0);
    console.log(
      `${ctx.plan.name}: ${done.done ? (done.clean ? 'DONE' : 'DONE, with failures') : 'NOT DONE'}`,
    );
    if (s.total === 0) {
      console.log(`  no inventory yet: run pacshift inventory ${planPath} (or pacshift migrate ${planPath})`);
      return Exit.ok;
    }
    // Studies and instances in the ledger's words; jobs only for what is under way (a verified job whose
    // study had instances refused is a failed study: the ledger says so, a job count would not).
    const i = await instanceTotals(store);
    console.log(`  studies  ${s.total} total · ${LEDGER_STATUSES.map((k) => `${k} ${s[k]}`).join(' · ')}`);
    console.log(
      `  instances ${i.inventoried} inventoried · ${i.stored} stored · ${i.verified} verified · ${i.quarantined} quarantined · ${i.withProblems} with verify problems`,
    );
    const running = JOB_STATES.filter((k) => !isTerminal(k) && jobs[k] > 0);
    console.log(
      `  under way ${running.map((k) => `${k} ${jobs[k]}`).join(' · ') || (jobsExist ? 'nothing' : 'no jobs yet')}`,
    );
    console.log(`  store    ${rate(store5, jobsExist)}`);
    console.log(`  retrieve ${rate(retrieve5, jobsExist)}`);
    if (paused.paused)
      console.log(
        `  PAUSED since ${new Date(paused.since ?? 0).toISOString()}${paused.reason ? `: ${paused.reason}` : ''}`,
      );
    for (const r of done.reasons) console.log(`  not done: ${r}`);
    return Exit.ok;
  } finally {
    await ctx.close();
  }
}
