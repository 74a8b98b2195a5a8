import { parseArgs } from 'node:util';
import { formatDuration, parseDuration } from '../../plan/index.js';
import { openMigration } from '../../run/context.js';
import { JOB_STATES, LEDGER_STATUSES, type Throughput } from '../../state/index.js';
import { UsageError } from '../common.js';
import { Exit } from '../exit-codes.js';

export const usage = 'pacshift status PLAN [--window 5m] [--json]';

const rate = (t: Throughput): string =>
  `${t.instancesPerSec.toFixed(1)} instances/s, ${t.mbPerSec.toFixed(1)} MB/s over the last ${formatDuration(t.windowMs)}; ` +
  `${t.remainingInstances} instances left${t.etaMs === null ? '' : `, ETA ${formatDuration(Math.round(t.etaMs / 60_000) * 60_000 || 60_000)}`}`;

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
    console.log(
      `${ctx.plan.name}: ${done.done ? (done.clean ? 'DONE' : 'DONE, with failures') : 'NOT DONE'}`,
    );
    console.log(`  studies  ${s.total} total · ${LEDGER_STATUSES.map((k) => `${k} ${s[k]}`).join(' · ')}`);
    console.log(
      `  jobs     ${
        JOB_STATES.filter((k) => jobs[k] > 0)
          .map((k) => `${k} ${jobs[k]}`)
          .join(' · ') || 'none'
      }`,
    );
    console.log(`  store    ${rate(store5)}`);
    console.log(`  retrieve ${rate(retrieve5)}`);
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
