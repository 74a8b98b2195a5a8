import { parseArgs } from 'node:util';
import { openMigration } from '../../run/context.js';
import { isTerminal, type Store } from '../../state/index.js';
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
    // The patient ID is the user's own input: echo only counts and study UIDs.
    const why = n > 0 ? [] : await whyNothingMoved(ctx.store, values.patient, values.study ?? []);
    if (values.json) console.log(JSON.stringify({ bumped: n, ...(n > 0 ? {} : { why }) }));
    else {
      console.log(`${n} job(s) moved to the front`);
      for (const w of why) console.log(`  ${w}`);
    }
    return n > 0 ? Exit.ok : Exit.partial;
  } finally {
    await ctx.close();
  }
}

/** Studies of a patient in the inventory (read page by page: the patient index is not needed for a CLI look-up). */
async function studiesOfPatient(store: Store, patientId: string): Promise<string[]> {
  const uids: string[] = [];
  for (let after: string | undefined; ;) {
    const page = await store.pageStudies({ after, limit: 5000 });
    for (const s of page) if (s.patientId === patientId) uids.push(s.studyUid);
    if (page.length < 5000) return uids;
    after = page[page.length - 1]!.studyUid;
  }
}

/** Why no job moved: per study, not inventoried, no job yet, or its job already finished (and how). */
export async function whyNothingMoved(
  store: Store,
  patientId: string | undefined,
  studyUids: readonly string[],
): Promise<string[]> {
  const uids = patientId !== undefined ? await studiesOfPatient(store, patientId) : studyUids;
  if (patientId !== undefined && uids.length === 0)
    return ['no study of that patient is in the inventory (run pacshift inventory, or check the ID)'];
  const out: string[] = [];
  for (const uid of uids.slice(0, 50)) {
    if (!(await store.getStudy(uid))) {
      out.push(`study ${uid}: not in the inventory`);
      continue;
    }
    const job = await store.getJobByStudy(uid);
    if (!job)
      out.push(`study ${uid}: no job yet (no scope decision: run pacshift scope or pacshift migrate)`);
    else if (isTerminal(job.state)) out.push(`study ${uid}: its job is already ${job.state}`);
    else out.push(`study ${uid}: its job is ${job.state}, already at the front or under way`);
  }
  if (uids.length > 50) out.push(`… and ${uids.length - 50} more studies`);
  return out;
}
