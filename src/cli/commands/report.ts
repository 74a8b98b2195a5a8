import { parseArgs } from 'node:util';
import { resolve } from 'node:path';
import { REPORT_FILES, writeReport, type ReportFormat } from '../../report/index.js';
import { openMigration } from '../../run/context.js';
import { UsageError } from '../common.js';
import { Exit } from '../exit-codes.js';

export const usage =
  'pacshift report PLAN [--out DIR] [--format html,csv,json] [--log-phi] [--check] [--json]';

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: {
      out: { type: 'string' },
      format: { type: 'string' },
      'log-phi': { type: 'boolean', default: false },
      check: { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
    },
    allowPositionals: true,
  });
  const planPath = positionals[0];
  if (!planPath) throw new UsageError('missing the plan file');
  let formats: ReportFormat[] | undefined;
  if (values.format !== undefined) {
    formats = values.format.split(',').map((f) => f.trim()) as ReportFormat[];
    const bad = formats.filter((f) => !(f in REPORT_FILES));
    if (bad.length > 0 || formats.length === 0) throw new UsageError('--format is a list of html, csv, json');
  }
  const ctx = await openMigration(planPath); // a plan error is a usage error (main.ts)
  try {
    const { data, files } = await writeReport(ctx, {
      dir: values.out ? resolve(values.out) : undefined,
      formats,
      logPhi: values['log-phi'] || undefined,
    });
    if (values.json) console.log(JSON.stringify({ done: data.done, summary: data.summary, files }));
    else {
      console.log(
        `${data.plan.name}: ${data.done.done ? (data.done.clean ? 'DONE' : 'DONE, with failures') : 'NOT DONE'}`,
      );
      for (const r of data.done.reasons) console.log(`  not done: ${r}`);
      for (const [f, p] of Object.entries(files)) console.log(`  ${f}: ${p}`);
    }
    // --check: 0 only when DONE and clean (src/cli/exit-codes.ts), as migrate's own exit.
    return values.check && !data.done.clean ? Exit.partial : Exit.ok;
  } finally {
    await ctx.close();
  }
}
