import { num, placeholders, type Row, type SqlParam } from '../db.js';
import type { JobState } from '../job-state.js';
import type { EventInput } from '../types.js';
import type { OpContext } from './context.js';
import { insertEvents } from './_events.js';
import { stateList } from './_sql.js';

export interface RequeueFilter {
  /** Default: failed and dead. */
  readonly states?: readonly ('failed' | 'dead')[];
  /** Only these studies. */
  readonly studyUids?: readonly string[];
}

/**
 * An operator's decision, after fixing the cause: failed / dead jobs start again from `pending` with
 * their attempts reset. (The per-instance records make the rerun skip what was already stored.)
 * The old error is kept in the audit log. One transaction; returns the number requeued.
 */
export async function requeueJobs(ctx: OpContext, filter: RequeueFilter = {}): Promise<number> {
  const states: readonly JobState[] = filter.states ?? ['failed', 'dead'];
  for (const s of states)
    if (s !== 'failed' && s !== 'dead') throw new TypeError(`requeueJobs: cannot requeue ${s}`);
  if (states.length === 0 || filter.studyUids?.length === 0) return 0;
  const now = ctx.clock.now();
  const params: SqlParam[] = [];
  let where = `state IN (${stateList(states)})`;
  if (filter.studyUids) {
    where += ` AND study_uid IN (${placeholders(filter.studyUids.length)})`;
    params.push(...filter.studyUids);
  }
  return ctx.db.transaction(async (tx) => {
    const forUpdate = tx.dialect === 'postgres' ? ' FOR UPDATE' : '';
    const rows = await tx.all<Row>(
      `SELECT id, study_uid, state, last_error_code, last_error FROM jobs WHERE ${where} ORDER BY id${forUpdate}`,
      params,
    );
    if (rows.length === 0) return 0;
    await tx.run(
      `UPDATE jobs SET state = 'pending', attempts = 0, next_run_at = ?, last_error_code = NULL, last_error = NULL, updated_at = ?
       WHERE id IN (${placeholders(rows.length)})`,
      [now, now, ...rows.map((r) => num(r.id))],
    );
    const events: EventInput[] = rows.map((r) => ({
      jobId: num(r.id),
      studyUid: String(r.study_uid),
      kind: 'job.requeued',
      detail: {
        from: String(r.state),
        lastErrorCode: (r.last_error_code as string | null) ?? null,
        lastError: (r.last_error as string | null) ?? null,
      },
    }));
    await insertEvents(tx, now, events);
    return rows.length;
  });
}
