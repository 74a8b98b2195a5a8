import { chunks, placeholders, toJson, type Queryable, type SqlParam } from '../db.js';
import type { EventInput } from '../types.js';

/** Appends audit events inside the caller's transaction (so the event and the change it records commit together). */
export async function insertEvents(tx: Queryable, at: number, events: readonly EventInput[]): Promise<void> {
  for (const part of chunks(events)) {
    const params: SqlParam[] = [];
    for (const e of part) {
      params.push(
        e.jobId ?? null,
        e.studyUid ?? null,
        e.sopInstanceUid ?? null,
        e.kind,
        toJson(e.detail ?? null),
        at,
      );
    }
    await tx.run(
      `INSERT INTO events (job_id, study_uid, sop_instance_uid, kind, detail, at) VALUES ${part
        .map(() => `(${placeholders(6)})`)
        .join(', ')}`,
      params,
    );
  }
}
