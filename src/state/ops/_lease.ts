import type { Queryable, Row } from '../db.js';
import { num, strOrNull } from '../db.js';
import type { LeaseError } from '../types.js';
import { JOB_COLUMNS } from './_rows.js';

/** Reads a job for update inside the caller's transaction (PostgreSQL: row lock; SQLite: the transaction is exclusive). */
export async function lockJob(tx: Queryable, id: number): Promise<Row | undefined> {
  const forUpdate = tx.dialect === 'postgres' ? ' FOR UPDATE' : '';
  return tx.get<Row>(`SELECT ${JOB_COLUMNS} FROM jobs WHERE id = ?${forUpdate}`, [id]);
}

/**
 * A worker holds a job's lease while lease_owner is its id and lease_expires_at is in the future.
 * After expiry the job belongs to whoever claims it next, so an expired lease is refused even when
 * no one has taken it yet: the worker cannot know that, and must stop.
 */
export function checkLease(row: Row | undefined, id: number, owner: string, now: number): LeaseError | null {
  if (!row) return { kind: 'not-found', jobId: id };
  const holder = strOrNull(row.lease_owner);
  if (holder !== owner) return { kind: 'not-lease-holder', jobId: id, holder };
  const expires = num(row.lease_expires_at);
  if (expires <= now) return { kind: 'lease-expired', jobId: id, expiredAt: expires };
  return null;
}
