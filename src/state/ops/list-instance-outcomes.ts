import type { Row, SqlParam } from '../db.js';
import type { InstanceOutcome, QuarantineEntry } from '../types.js';
import type { OpContext } from './context.js';
import { outcomeFromRow, quarantineFromRow } from './_rows.js';

/** The per-instance failure ledger, of one study or all, oldest first. */
export async function listInstanceOutcomes(ctx: OpContext, studyUid?: string): Promise<InstanceOutcome[]> {
  const params: SqlParam[] = [];
  let sql = 'SELECT * FROM instance_outcomes';
  if (studyUid !== undefined) {
    sql += ' WHERE study_uid = ?';
    params.push(studyUid);
  }
  return (await ctx.db.all<Row>(`${sql} ORDER BY id`, params)).map(outcomeFromRow);
}

/** Objects the target refused, with their cause. */
export async function listQuarantine(ctx: OpContext, studyUid?: string): Promise<QuarantineEntry[]> {
  const params: SqlParam[] = [];
  let sql = 'SELECT * FROM quarantine';
  if (studyUid !== undefined) {
    sql += ' WHERE study_uid = ?';
    params.push(studyUid);
  }
  return (await ctx.db.all<Row>(`${sql} ORDER BY study_uid, sop_instance_uid`, params)).map(
    quarantineFromRow,
  );
}
