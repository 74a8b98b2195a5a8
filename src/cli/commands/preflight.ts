import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import {
  PROFILES,
  formatReport,
  runPreflight,
  type PreflightReport,
  type Profile,
} from '../../analyse/preflight/index.js';
import { openMigration, type MigrationContext } from '../../run/context.js';
import { PEER_OPTIONS, UsageError, peerFrom, progress } from '../common.js';
import { Exit } from '../exit-codes.js';

export const usage =
  'pacshift preflight PLAN.yaml [--all] [--files DIR…] [--profile strict|lenient] [--no-probe] [--out REPORT.json] [--json]  |  pacshift preflight --files DIR… --target AE@host:port [--profile …] [--calling-ae AE]';

async function writeJson(path: string, r: PreflightReport): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, `${JSON.stringify(r, null, 1)}\n`);
}

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: {
      ...PEER_OPTIONS,
      all: { type: 'boolean', default: false },
      files: { type: 'string', multiple: true },
      target: { type: 'string' },
      profile: { type: 'string', default: 'strict' },
      'no-probe': { type: 'boolean', default: false },
      out: { type: 'string' },
    },
    allowPositionals: true,
  });
  const profile = values.profile as Profile;
  if (!PROFILES.includes(profile)) throw new UsageError(`--profile must be one of ${PROFILES.join(', ')}`);
  const planPath = positionals[0];
  const files = [...(values.files ?? []), ...(planPath ? positionals.slice(1) : positionals)];
  if (!planPath && files.length === 0)
    throw new UsageError('give a plan, or --files DIR with --target AE@host:port');
  if (!planPath && !values.target && !values['no-probe'])
    throw new UsageError(
      'without a plan, name the target to probe (--target AE@host:port) or say --no-probe',
    );
  const target = values['no-probe'] ? null : values.target ? peerFrom(values.target, values) : undefined;
  let ctx: MigrationContext | undefined;
  if (planPath) ctx = await openMigration(planPath);
  const bar = progress(!values.json);
  try {
    const report = await runPreflight(ctx, {
      profile,
      ...(files.length > 0 ? { files } : {}),
      all: values.all,
      ...(target !== undefined ? { target } : {}),
      onProgress: (done, total) => bar.update(`checked ${done}/${total}`),
    });
    bar.done();
    const out = values.out ?? (ctx ? join(ctx.plan.report.dir, 'preflight.json') : undefined);
    if (out) await writeJson(out, report);
    if (values.json) console.log(JSON.stringify(report));
    else {
      console.log(formatReport(report));
      if (out) console.log(`every object's findings: ${out}`);
    }
    return report.predicted.refuse.objects > 0 ? Exit.partial : Exit.ok;
  } finally {
    await ctx?.close();
  }
}
