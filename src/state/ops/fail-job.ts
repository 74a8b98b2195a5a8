import type { Row } from '../db.js';
import { backoffDelay } from '../backoff.js';
import { err, ok, type Result } from '../../util/result.js';
import type { ErrorCode, FailOptions, FailOutcome, LeaseError } from '../types.js';
import type { OpContext } from './context.js';
import { insertEvents } from './_events.js';
import { checkLease, lockJob } from './_lease.js';
import { clip, formatErrorCode, JOB_COLUMNS, jobFromRow } from './_rows.js';

/**
 * Records a failure of a leased job and releases it, in one transaction with its audit event.
 * - not retryable → `failed` (terminal; the ledger shows code and cause);
 * - retryable, attempts left → stays in its state (the next claimer resumes there), runnable again
 *   after the back-off delay min(cap, base·factor^(attempts-1));
 * - retryable, attempts exhausted → `dead` (the dead letter).
 * `message` must carry UIDs only, never patient data.
 */
export async function failJob(
  ctx: OpContext,
  id: number,
  owner: string,
  code: ErrorCode,
  message: string,
  retryable: boolean,
  opts: FailOptions = {},
): Promise<Result<FailOutcome, LeaseError>> {
  const now = ctx.clock.now();
  const codeText = formatErrorCode(code);
  return ctx.db.transaction(async (tx) => {
    const row = await lockJob(tx, id);
    const leaseError = checkLease(row, id, owner, now);
    if (leaseError) return err(leaseError);
    const from = String(row!.state);
    const attempts = Number(row!.attempts) + 1;
    const maxAttempts = Number(row!.max_attempts);
    let outcome: FailOutcome['outcome'];
    let nextRunAt: number | null = null;
    if (!retryable) outcome = 'failed';
    else if (attempts >= maxAttempts) outcome = 'dead';
    else {
      outcome = 'retry';
      nextRunAt = now + Math.max(0, opts.delayMs ?? backoffDelay(ctx.backoff, attempts, ctx.random));
    }
    const state = outcome === 'retry' ? from : outcome;
    const updated = await tx.get<Row>(
      `UPDATE jobs SET state = ?, attempts = ?, next_run_at = ?, lease_owner = NULL, lease_expires_at = NULL,
         last_error_code = ?, last_error = ?, updated_at = ?
       WHERE id = ? RETURNING ${JOB_COLUMNS}`,
      [state, attempts, nextRunAt ?? Number(row!.next_run_at), codeText, clip(message), now, id],
    );
    const job = jobFromRow(updated!);
    await insertEvents(tx, now, [
      {
        jobId: id,
        studyUid: job.studyUid,
        kind: 'job.failed',
        detail: {
          code: codeText,
          message: clip(message, 500),
          retryable,
          outcome,
          from,
          attempts,
          nextRunAt,
          owner,
        },
      },
    ]);
    return ok({ job, outcome, nextRunAt });
  });
}
