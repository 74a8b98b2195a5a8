import type { Row, SqlParam } from '../db.js';
import type { AuditEvent, EventFilter } from '../types.js';
import type { OpContext } from './context.js';
import { eventFromRow } from './_rows.js';

/** Audit events matching every given filter, oldest first. */
export async function listEvents(ctx: OpContext, f: EventFilter = {}): Promise<AuditEvent[]> {
  const where: string[] = [];
  const params: SqlParam[] = [];
  if (f.jobId !== undefined) {
    where.push('job_id = ?');
    params.push(f.jobId);
  }
  if (f.studyUid !== undefined) {
    where.push('study_uid = ?');
    params.push(f.studyUid);
  }
  if (f.kind !== undefined) {
    where.push('kind = ?');
    params.push(f.kind);
  }
  if (f.afterId !== undefined) {
    where.push('id > ?');
    params.push(f.afterId);
  }
  params.push(f.limit ?? 10_000);
  const rows = await ctx.db.all<Row>(
    `SELECT * FROM events${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY id LIMIT ?`,
    params,
  );
  return rows.map(eventFromRow);
}
