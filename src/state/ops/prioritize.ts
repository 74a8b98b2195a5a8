import { chunks, num, placeholders, type Row } from '../db.js';
import type { PrioritizeTarget } from '../types.js';
import type { OpContext } from './context.js';
import { insertEvents } from './_events.js';
import { RUNNABLE_SQL } from './_sql.js';

/**
 * On-demand bump (a patient is back and their priors are not migrated yet): the not-yet-finished jobs
 * of a patient's studies, or of named studies, sort before everything with a lower bump. `level`
 * (default 1) only ever raises a job's bump. Back-off is not bypassed. Returns the jobs bumped.
 * The audit log records the bump per job, never the patient id.
 */
export async function prioritize(ctx: OpContext, target: PrioritizeTarget, level = 1): Promise<number> {
  if (!(Number.isInteger(level) && level >= 1))
    throw new RangeError('prioritize: level must be an integer >= 1');
  const now = ctx.clock.now();
  return ctx.db.transaction(async (tx) => {
    let rows: Row[] = [];
    const set = `UPDATE jobs SET bumped_priority = CASE WHEN bumped_priority < ? THEN ? ELSE bumped_priority END,
                   bumped_at = ?, updated_at = ?`;
    if ('patientId' in target) {
      rows = await tx.all<Row>(
        `${set} WHERE state IN (${RUNNABLE_SQL})
           AND study_uid IN (SELECT study_uid FROM studies WHERE patient_id = ?)
         RETURNING id, study_uid`,
        [level, level, now, now, target.patientId],
      );
    } else {
      for (const part of chunks([...new Set(target.studyUids)])) {
        rows.push(
          ...(await tx.all<Row>(
            `${set} WHERE state IN (${RUNNABLE_SQL}) AND study_uid IN (${placeholders(part.length)}) RETURNING id, study_uid`,
            [level, level, now, now, ...part],
          )),
        );
      }
    }
    const by = 'patientId' in target ? 'patient' : 'study';
    await insertEvents(
      tx,
      now,
      rows.map((r) => ({
        jobId: num(r.id),
        studyUid: String(r.study_uid),
        kind: 'job.prioritized',
        detail: { level, by },
      })),
    );
    return rows.length;
  });
}
