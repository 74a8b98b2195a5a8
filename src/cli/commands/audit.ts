/**
 * `pacshift audit PLAN`: the transform's audit trail — every element a correction table or rule
 * changed, per instance (src/transform/audit.ts). Values (patient data) only with --phi or
 * privacy.logPhi; otherwise keyword, tag, table/rule and row, and UIDs.
 */
import { writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { csvCell } from '../../report/csv.js';
import { openMigration } from '../../run/context.js';
import { readTrail, type TrailEntry } from '../../transform/audit.js';
import { UsageError } from '../common.js';
import { Exit } from '../exit-codes.js';

export const usage =
  'pacshift audit PLAN.yaml [--study UID] [--by ID] [--csv FILE] [--json] [--phi]  (the changes corrections and rules made, per instance)';

const COLUMNS: readonly [string, (t: TrailEntry) => unknown][] = [
  ['event_id', (t) => t.id],
  ['at', (t) => new Date(t.at).toISOString()],
  ['job_id', (t) => t.jobId],
  ['study_uid', (t) => t.studyUid],
  ['sop_instance_uid', (t) => t.sopInstanceUid],
  ['tag', (t) => t.tag],
  ['keyword', (t) => t.keyword],
  ['vr', (t) => t.vr],
  ['by_kind', (t) => t.by.kind],
  ['by_id', (t) => t.by.id],
  ['by_row', (t) => t.by.row],
  ['inserted', (t) => t.inserted],
];
const VALUE_COLUMNS: readonly [string, (t: TrailEntry) => unknown][] = [
  ['before', (t) => t.before],
  ['after', (t) => t.after],
];

export function trailCsv(entries: readonly TrailEntry[], values: boolean): string {
  const cols = values ? [...COLUMNS, ...VALUE_COLUMNS] : COLUMNS;
  const lines = [cols.map(([n]) => n).join(',')];
  for (const t of entries) lines.push(cols.map(([, get]) => csvCell(get(t))).join(','));
  return `${lines.join('\r\n')}\r\n`;
}

const byText = (t: TrailEntry) =>
  `${t.by.kind} ${t.by.id}${t.by.row !== undefined ? ` row ${t.by.row}` : ''}`;

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: {
      study: { type: 'string' },
      by: { type: 'string' },
      csv: { type: 'string' },
      json: { type: 'boolean', default: false },
      phi: { type: 'boolean', default: false },
    },
    allowPositionals: true,
  });
  const planPath = positionals[0];
  if (!planPath) throw new UsageError('missing the plan file');
  const ctx = await openMigration(planPath); // a plan error is a usage error (main.ts)
  try {
    const showValues = values.phi || ctx.plan.privacy.logPhi;
    const entries: TrailEntry[] = [];
    for await (const t of readTrail(ctx.store, { studyUid: values.study, by: values.by, values: showValues }))
      entries.push(t);
    const instances = new Set(entries.map((t) => t.sopInstanceUid)).size;
    const studies = new Set(entries.map((t) => t.studyUid)).size;
    if (values.csv) await writeFile(resolve(values.csv), trailCsv(entries, showValues), 'utf8');
    if (values.json) {
      console.log(
        JSON.stringify({ changes: entries.length, instances, studies, values: showValues, entries }),
      );
    } else {
      for (const t of entries)
        console.log(
          `${t.studyUid} ${t.sopInstanceUid} ${t.tag} ${t.keyword} [${byText(t)}]${t.inserted ? ' (inserted)' : ''}${
            showValues ? `: ${JSON.stringify(t.before)} → ${JSON.stringify(t.after)}` : ''
          }`,
        );
      console.log(
        `${entries.length} change(s) to ${instances} instance(s) of ${studies} stud(y/ies)${
          showValues ? '' : ' (values withheld: --phi shows them)'
        }${values.csv ? `; CSV: ${resolve(values.csv)}` : ''}`,
      );
    }
    return Exit.ok;
  } finally {
    await ctx.close();
  }
}
