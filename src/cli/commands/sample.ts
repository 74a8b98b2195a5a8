import { mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import {
  PilotRefused,
  chooseSample,
  coverageReport,
  formatCoverage,
  formatSample,
  recordPilot,
  runPilot,
  writePilotFile,
} from '../../analyse/sample/index.js';
import { openMigration } from '../../run/context.js';
import { UsageError } from '../common.js';
import { Exit } from '../exit-codes.js';

export const usage =
  'pacshift sample PLAN.yaml [--out PILOT.txt] [--no-read-headers] [--migrate] [--json]  |  pacshift sample PLAN.yaml --coverage [--json]';

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: {
      out: { type: 'string' },
      'no-read-headers': { type: 'boolean', default: false },
      migrate: { type: 'boolean', default: false },
      coverage: { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
    },
    allowPositionals: true,
  });
  const planPath = positionals[0];
  if (!planPath) throw new UsageError('missing the plan file');
  if (values.coverage && values.migrate)
    throw new UsageError('--coverage reports on a pilot already run; --migrate runs one (and reports)');
  const ctx = await openMigration(planPath);
  const log = (m: string) => console.error(values.json ? JSON.stringify({ log: m }) : m);
  try {
    if (values.coverage) {
      const cov = await coverageReport(ctx);
      console.log(values.json ? JSON.stringify(cov) : formatCoverage(cov));
      return cov.byStatus.failed > 0 ||
        cov.byStatus['not-tried'] > 0 ||
        cov.byStatus['migrated-not-verified'] > 0
        ? Exit.partial
        : Exit.ok;
    }
    const s = await chooseSample(ctx, { readHeaders: !values['no-read-headers'] });
    const out = values.out ?? join(ctx.plan.report.dir, 'pilot-studies.txt');
    await mkdir(dirname(out), { recursive: true });
    await writePilotFile(out, s);
    await recordPilot(ctx, s);
    if (!values.migrate) {
      console.log(
        values.json
          ? JSON.stringify({ sample: s, pilotFile: out })
          : `${formatSample(s)}\npilot list: ${out}`,
      );
      return Exit.ok;
    }
    if (!values.json) console.log(formatSample(s));
    let pilot;
    try {
      pilot = await runPilot(
        ctx,
        s.pilot.map((p) => p.studyUid),
        { log },
      );
    } catch (e) {
      if (e instanceof PilotRefused) {
        console.error(`pilot not run: ${e.message}`);
        return Exit.usage;
      }
      throw e;
    }
    if (pilot.stopped) log(`STOPPED: ${pilot.stopped}`);
    const cov = await coverageReport(ctx);
    if (values.json) console.log(JSON.stringify({ sample: s, pilotFile: out, pilot, coverage: cov }));
    else {
      console.log(
        `pilot: ${pilot.instancesStored} instances stored (${(pilot.bytesStored / 1e6).toFixed(1)} MB)`,
      );
      console.log(formatCoverage(cov));
    }
    return cov.byStatus.failed > 0 || pilot.stopped ? Exit.partial : Exit.ok;
  } finally {
    await ctx.close();
  }
}
