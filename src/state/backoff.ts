/** Exponential back-off for retryable job failures: delay = min(cap, base * factor^(attempt-1)) ± jitter. */
export interface BackoffPolicy {
  /** Delay after the first failure. */
  readonly baseMs: number;
  readonly factor: number;
  readonly capMs: number;
  /** 0..1: the delay is scaled by a random factor in [1 - jitter, 1]. 0 (default) is deterministic. */
  readonly jitter?: number;
}

export const DEFAULT_BACKOFF: BackoffPolicy = { baseMs: 30_000, factor: 2, capMs: 60 * 60_000, jitter: 0 };

/** Delay before the next run after the `attempt`-th failure (attempt >= 1). */
export function backoffDelay(
  policy: BackoffPolicy,
  attempt: number,
  random: () => number = Math.random,
): number {
  if (!(policy.baseMs >= 0 && policy.factor >= 1 && policy.capMs >= 0)) {
    throw new RangeError(`invalid back-off policy ${JSON.stringify(policy)}`);
  }
  const n = Math.max(1, Math.floor(attempt));
  // factor^(n-1) overflows to Infinity for large n; min() with the cap keeps it finite.
  const raw = Math.min(policy.capMs, policy.baseMs * Math.pow(policy.factor, n - 1));
  const jitter = Math.min(1, Math.max(0, policy.jitter ?? 0));
  return Math.round(jitter > 0 ? raw * (1 - jitter * random()) : raw);
}
