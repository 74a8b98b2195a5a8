import { parseArgs } from 'node:util';
import { parseDuration } from '../../plan/index.js';
import { openMigration } from '../../run/context.js';
import { runVerify, type StudyEvent } from '../../verify/index.js';
import { progress, UsageError } from '../common.js';
import { Exit } from '../exit-codes.js';

export const usage =
  'pacshift verify PLAN [--concurrency N] [--sample PERCENT] [--min-studies N] [--seed N] [--again [--older-than 7d] | --due] [--limit N] [--json]';

const int = (v: string | undefined, name: string, min: number): number | undefined => {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new UsageError(`--${name} must be an integer >= ${min}`);
  return n;
};

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: {
      concurrency: { type: 'string' },
      sample: { type: 'string' },
      'min-studies': { type: 'string' },
      seed: { type: 'string' },
      again: { type: 'boolean', default: false },
      due: { type: 'boolean', default: false },
      'older-than': { type: 'string' },
      limit: { type: 'string' },
      json: { type: 'boolean', default: false },
    },
    allowPositionals: true,
  });
  const planPath = positionals[0];
  if (!planPath) throw new UsageError('missing the plan file');
  const percent = values.sample === undefined ? undefined : Number(values.sample);
  if (percent !== undefined && !(percent >= 0 && percent <= 100))
    throw new UsageError('--sample must be a percentage 0–100');
  let olderThanMs: number | undefined;
  if (values['older-than'] !== undefined) {
    if (!values.again) throw new UsageError('--older-than goes with --again');
    olderThanMs = parseDuration(values['older-than']);
    if (olderThanMs === undefined) throw new UsageError('--older-than must be a duration such as 7d or 12h');
  }
  const sample = {
    ...(percent !== undefined ? { percent } : {}),
    ...(values['min-studies'] !== undefined
      ? { minStudies: int(values['min-studies'], 'min-studies', 0)! }
      : {}),
    ...(values.seed !== undefined ? { seed: int(values.seed, 'seed', 0)! } : {}),
  };
  if (values.due && values.again)
    throw new UsageError("--due is --again with the plan's verify.rerunEvery: give one of them");
  const ctx = await openMigration(planPath); // a plan error is a usage error (main.ts)
  let again: boolean | { olderThanMs: number } = values.again
    ? olderThanMs !== undefined
      ? { olderThanMs }
      : true
    : false;
  if (values.due) {
    const every = ctx.plan.verify.rerunEvery;
    if (every === null) {
      await ctx.close();
      console.error('verify --due: verify.rerunEvery is off in the plan');
      return Exit.usage;
    }
    again = { olderThanMs: every };
  }
  const bar = progress(!values.json);
  let done = 0;
  try {
    const summary = await runVerify(ctx, {
      concurrency: int(values.concurrency, 'concurrency', 1),
      sample,
      again,
      limit: int(values.limit, 'limit', 1),
      onStudy: (e: StudyEvent) => {
        done++;
        const what =
          'failure' in e
            ? `not verified (${String(e.failure.code)})`
            : e.result.clean
              ? 'verified'
              : 'problems found';
        bar.update(`${done} studies: ${e.studyUid} ${what}`);
      },
    });
    bar.done();
    if (values.json) console.log(JSON.stringify(summary));
    else {
      const i = summary.instances;
      console.log(
        `${summary.studies} studies verified (${summary.sampled} in depth${summary.reverified ? `, ${summary.reverified} re-verified` : ''}): ` +
          `${summary.verified} clean, ${summary.withProblems} with problems${summary.regressions ? ` (${summary.regressions} regressions)` : ''}, ${summary.notVerified} not verified`,
      );
      console.log(
        `instances: ${i.verified} verified, ${i.missing} missing, ${i['attribute-mismatch']} attribute mismatch, ${i['pixel-mismatch']} pixel mismatch, ${i['duplicate-conflict']} duplicate conflict`,
      );
      for (const p of summary.problems) console.log(`  ${p.studyUid}  ${String(p.code)}  ${p.message}`);
    }
    return summary.withProblems > 0 || summary.notVerified > 0 ? Exit.partial : Exit.ok;
  } finally {
    await ctx.close();
  }
}
