import type { BackoffPolicy } from '../backoff.js';
import type { Clock } from '../clock.js';
import type { Db } from '../db.js';

/** What every operation is given. */
export interface OpContext {
  readonly db: Db;
  readonly clock: Clock;
  readonly backoff: BackoffPolicy;
  /** max_attempts of jobs enqueued without one. */
  readonly defaultMaxAttempts: number;
  /** For back-off jitter. */
  readonly random: () => number;
}
