import { chunks, placeholders, type Queryable, type SqlParam } from '../db.js';
import type { InstanceFailureInput } from '../types.js';
import { clip } from './_rows.js';

/** Appends per-instance failure rows inside the caller's transaction. */
export async function insertOutcomes(
  tx: Queryable,
  at: number,
  jobId: number | null,
  rows: readonly InstanceFailureInput[],
): Promise<void> {
  for (const part of chunks(rows)) {
    const params: SqlParam[] = [];
    for (const r of part)
      params.push(
        jobId,
        r.sopInstanceUid,
        r.studyUid,
        r.phase,
        r.status ?? null,
        r.category,
        clip(r.cause),
        at,
      );
    await tx.run(
      `INSERT INTO instance_outcomes (job_id, sop_instance_uid, study_uid, phase, status, category, cause, at)
       VALUES ${part.map(() => `(${placeholders(8)})`).join(', ')}`,
      params,
    );
  }
}

/** One throughput sample (a batch that moved), inside the caller's transaction. */
export async function insertSample(
  tx: Queryable,
  at: number,
  phase: 'retrieve' | 'store',
  instances: number,
  bytes: number,
  jobId: number | null,
): Promise<void> {
  if (instances <= 0) return;
  await tx.run(
    'INSERT INTO throughput_samples (at, phase, instances, bytes, job_id) VALUES (?, ?, ?, ?, ?)',
    [at, phase, instances, Math.max(0, Math.round(bytes)), jobId],
  );
}
