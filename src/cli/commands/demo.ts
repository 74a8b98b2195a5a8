import { parseArgs } from 'node:util';
import { setUpDemo } from '../../demo/run-demo.js';
import { openMigration } from '../../run/context.js';
import { Exit } from '../exit-codes.js';

export const usage =
  'pacshift demo [--dir ./pacshift-demo] [--json]  (two built-in archives, a generated source, the whole pipeline, a report)';

export async function run(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: { dir: { type: 'string', default: 'pacshift-demo' }, json: { type: 'boolean', default: false } },
  });
  const say = (m: string) => (values.json ? undefined : console.log(m));
  const demo = await setUpDemo(values.dir!);
  try {
    say(
      `source archive: ${demo.manifest.studies} studies, ${demo.manifest.instances} instances generated in ${demo.manifest.dir}`,
    );
    say(
      `  planted: a corrupt file (the source cannot serve it: ${demo.source.unreadable} unreadable), an Encapsulated PDF the target refuses, a test patient's study`,
    );
    say(`plan: ${demo.planPath}`);
    const migrate = await import('./migrate.js');
    const m = await migrate.run([demo.planPath, ...(values.json ? ['--json'] : [])]);
    const report = await import('./report.js');
    const r = await report.run([demo.planPath, ...(values.json ? ['--json'] : [])]);
    // The ledger is consistent when every inventoried study is accounted for and what was planted shows up as such.
    const ctx = await openMigration(demo.planPath);
    try {
      const ledger = await ctx.store.ledger({});
      const byStudy = new Map(ledger.map((row) => [row.studyUid, row]));
      const testExcluded = demo.manifest.testStudies.every((u) => byStudy.get(u)?.status === 'excluded');
      const quarantine = await ctx.store.listQuarantine();
      const refusedQuarantined = quarantine.some(
        (q) => q.sopInstanceUid === demo.manifest.refusedSopInstanceUid,
      );
      const done = await ctx.store.isDone();
      const consistent = done.done && testExcluded && refusedQuarantined && demo.source.unreadable === 1;
      const out = {
        migrateExit: m,
        reportExit: r,
        done: done.done,
        testStudiesExcluded: testExcluded,
        refusedObjectQuarantined: refusedQuarantined,
        sourceUnreadable: demo.source.unreadable,
        consistent,
        dir: demo.dir,
      };
      if (values.json) console.log(JSON.stringify(out));
      else {
        say(
          `test patient excluded by rule: ${testExcluded ? 'yes' : 'NO'}; refused PDF quarantined with its status: ${refusedQuarantined ? 'yes' : 'NO'}`,
        );
        say(
          consistent
            ? 'the ledger is consistent: every study is verified, excluded by a rule, or failed with its cause'
            : 'the ledger is NOT consistent',
        );
      }
      return consistent ? Exit.ok : Exit.partial;
    } finally {
      await ctx.close();
    }
  } finally {
    await demo.close();
  }
}
