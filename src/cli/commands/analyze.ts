import { parseArgs } from 'node:util';
import { resolve } from 'node:path';
import { runAnalysis, writeAnalysisReport } from '../../analyse/index.js';
import { openMigration } from '../../run/context.js';
import { listenError, progress, UsageError } from '../common.js';
import { Exit } from '../exit-codes.js';

export const usage =
  'pacshift analyze PLAN [--per-series N|all] [--resample] [--no-sample] [--oldest YYYYMMDD] [--out DIR] [--log-phi] [--check] [--json]';

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: {
      'per-series': { type: 'string' },
      resample: { type: 'boolean', default: false },
      'no-sample': { type: 'boolean', default: false },
      oldest: { type: 'string' },
      out: { type: 'string' },
      'log-phi': { type: 'boolean', default: false },
      check: { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
    },
    allowPositionals: true,
  });
  const planPath = positionals[0];
  if (!planPath) throw new UsageError('missing the plan file');
  let perSeries: number | 'all' = 1;
  if (values['per-series'] !== undefined) {
    const v = values['per-series'];
    if (v === 'all') perSeries = 'all';
    else if (/^\d+$/.test(v) && Number(v) >= 1) perSeries = Number(v);
    else throw new UsageError('--per-series must be a whole number >= 1 or "all"');
  }
  if (values['no-sample'] && (values['per-series'] !== undefined || values.resample))
    throw new UsageError('--no-sample goes without --per-series and --resample');
  if (values.oldest !== undefined && !/^\d{8}$/.test(values.oldest))
    throw new UsageError('--oldest must be a date YYYYMMDD');
  const ctx = await openMigration(planPath);
  const bar = progress(!values.json);
  try {
    // Nothing inventoried: "0 studies, 0 findings" would read as a clean source.
    if ((await ctx.store.ledgerSummary()).total === 0) {
      console.error(
        `analyze: no inventory yet (no study in the state database): run pacshift inventory ${planPath} first`,
      );
      return Exit.usage;
    }
    const result = await runAnalysis(ctx, {
      sample: values['no-sample'] ? false : { perSeries, resample: values.resample },
      ...(values.oldest ? { oldestStudyDate: values.oldest } : {}),
      ...(values['log-phi'] ? { logPhi: true } : {}),
      onProgress: (p) => bar.update(`${p.phase}: ${p.done}${p.total !== undefined ? ` of ${p.total}` : ''}`),
    }).catch((e: unknown) => {
      // The sample's C-MOVE listener on local.port: taken is the environment (exit 70).
      throw listenError('local.port', ctx.plan.local.port, e);
    });
    bar.done();
    const files = await writeAnalysisReport(result, values.out ? resolve(values.out) : ctx.plan.report.dir, {
      planName: ctx.plan.name,
      description: ctx.plan.description ?? null,
    });
    const s = result.sample;
    if (values.json) {
      console.log(
        JSON.stringify({
          runId: result.runId,
          inventory: result.inventory,
          sample: { ...s, problems: s.problems.length },
          bySeverity: result.bySeverity,
          counts: result.counts,
          files,
        }),
      );
    } else {
      const i = result.inventory;
      console.log(
        `analysis run ${result.runId}: ${i.studies} studies, ${i.series} series, ${i.instances} instances inventoried`,
      );
      if (s.perSeries !== 0)
        console.log(
          `sample: ${s.read} of ${s.requested} instances read${s.problems.length ? ` (${s.problems.length} series not read: see the report)` : ''}; ${s.seriesCovered} of ${i.series} series covered`,
        );
      console.log(
        `findings: ${result.bySeverity.error} errors, ${result.bySeverity.warning} warnings, ${result.bySeverity.info} info`,
      );
      for (const c of result.counts)
        console.log(
          `  ${c.code.padEnd(30)} ${c.severity.padEnd(7)} ${String(c.findings).padStart(6)} findings  ${String(c.studies).padStart(6)} studies`,
        );
      for (const [k, p] of Object.entries(files)) console.log(`  ${k}: ${p}`);
    }
    if (s.requested > 0 && s.read === 0) {
      console.error(
        'analyze: no sampled instance could be read from the source (see the report for the causes)',
      );
      return Exit.partial;
    }
    return values.check && result.bySeverity.error > 0 ? Exit.partial : Exit.ok;
  } finally {
    await ctx.close();
  }
}
