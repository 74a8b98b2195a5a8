import type { Row, SqlParam } from '../db.js';
import type { JobState } from '../job-state.js';
import type { Job } from '../types.js';
import type { OpContext } from './context.js';
import { JOB_COLUMNS, jobFromRow } from './_rows.js';
import { CLAIM_ORDER_SQL } from './_sql.js';

export async function getJob(ctx: OpContext, id: number): Promise<Job | undefined> {
  const r = await ctx.db.get<Row>(`SELECT ${JOB_COLUMNS} FROM jobs WHERE id = ?`, [id]);
  return r ? jobFromRow(r) : undefined;
}

export async function getJobByStudy(
  ctx: OpContext,
  studyUid: string,
  kind = 'migrate',
): Promise<Job | undefined> {
  const r = await ctx.db.get<Row>(`SELECT ${JOB_COLUMNS} FROM jobs WHERE kind = ? AND study_uid = ?`, [
    kind,
    studyUid,
  ]);
  return r ? jobFromRow(r) : undefined;
}

/** Jobs, optionally of one state, in claim order. */
export async function listJobs(
  ctx: OpContext,
  opts: { readonly state?: JobState; readonly limit?: number } = {},
): Promise<Job[]> {
  const params: SqlParam[] = [];
  let sql = `SELECT ${JOB_COLUMNS} FROM jobs`;
  if (opts.state) {
    sql += ' WHERE state = ?';
    params.push(opts.state);
  }
  sql += ` ORDER BY ${CLAIM_ORDER_SQL} LIMIT ?`;
  params.push(opts.limit ?? 1000);
  return (await ctx.db.all<Row>(sql, params)).map(jobFromRow);
}
