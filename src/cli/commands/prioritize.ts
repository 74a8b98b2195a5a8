import { parseArgs } from 'node:util';
import { openMigration } from '../../run/context.js';
import { UsageError } from '../common.js';
import { Exit } from '../exit-codes.js';

export const usage = 'pacshift prioritize PLAN.yaml (--patient ID | --study UID …) [--json]';

/** Move a patient's (or some studies') jobs to the front of a running migration: a patient is coming back. */
export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: {
      patient: { type: 'string' },
      study: { type: 'string', multiple: true },
      json: { type: 'boolean', default: false },
    },
    allowPositionals: true,
  });
  if (!positionals[0]) throw new UsageError('missing plan file');
  if (!values.patient && !values.study?.length) throw new UsageError('give --patient ID or --study UID');
  const ctx = await openMigration(positionals[0]);
  try {
    const n = values.patient
      ? await ctx.store.prioritize({ patientId: values.patient })
      : await ctx.store.prioritize({ studyUids: values.study! });
    // The patient ID is the user's own input: echo only counts.
    if (values.json) console.log(JSON.stringify({ bumped: n }));
    else console.log(`${n} job(s) moved to the front`);
    return n > 0 ? Exit.ok : Exit.partial;
  } finally {
    await ctx.close();
  }
}
