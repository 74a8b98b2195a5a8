/**
 * A circuit breaker per peer: after `failures` consecutive failures the peer is left alone for
 * `coolDownMs` (open), then exactly one trial is let through (half-open); the trial's verdict closes
 * the breaker (success) or opens it for another cool-down (failure). A trial that ends without a
 * verdict (a throw, a stop) is abandoned: the next job may try.
 *
 * While the breaker is not closed, the worker loop starts no job that could need the peer beyond the
 * one trial (`admits()`), and sleeps until `nextTrialAt()` on the injected clock.
 */
export type BreakerState = 'closed' | 'open' | 'half-open';

/** What a job may do with the peer now. */
export type Permit = 'go' | 'trial' | 'wait';

export class CircuitBreaker {
  private consecutive = 0;
  private openedAt: number | undefined;
  private downSince: number | undefined;
  private trial = false;

  constructor(
    readonly name: string,
    private readonly failures: number,
    private readonly coolDownMs: number,
    private readonly now: () => number,
  ) {}

  state(): BreakerState {
    if (this.openedAt === undefined) return 'closed';
    return this.now() - this.openedAt >= this.coolDownMs ? 'half-open' : 'open';
  }

  /** May a job use the peer now? Half-open: one trial at a time; the caller must report its verdict. */
  allow(): Permit {
    const s = this.state();
    if (s === 'closed') return 'go';
    if (s === 'open' || this.trial) return 'wait';
    this.trial = true;
    return 'trial';
  }

  /** How many new jobs may start: all when closed, one while a trial is due and not running, else none. */
  admits(): number {
    const s = this.state();
    if (s === 'closed') return Number.POSITIVE_INFINITY;
    return s === 'half-open' && !this.trial ? 1 : 0;
  }

  success(): void {
    this.consecutive = 0;
    this.openedAt = undefined;
    this.downSince = undefined;
    this.trial = false;
  }

  /** Returns true when this failure opened (or re-opened) the breaker. */
  failure(): boolean {
    this.consecutive++;
    this.trial = false;
    if (this.openedAt === undefined && this.consecutive < this.failures) return false;
    this.openedAt = this.now();
    this.downSince ??= this.openedAt;
    return true;
  }

  /** A trial that ended without a verdict: the breaker stays as it was, the next job may try. */
  abandon(): void {
    this.trial = false;
  }

  /** Milliseconds until an attempt may be made (0 when allowed). */
  waitMs(): number {
    if (this.openedAt === undefined) return 0;
    return Math.max(0, this.coolDownMs - (this.now() - this.openedAt));
  }

  /** When the next trial is due (undefined when closed). */
  nextTrialAt(): number | undefined {
    return this.openedAt === undefined ? undefined : this.openedAt + this.coolDownMs;
  }

  /** When the peer was first found down in this outage (undefined when closed). */
  since(): number | undefined {
    return this.downSince;
  }

  /** Consecutive failures so far. */
  failuresInARow(): number {
    return this.consecutive;
  }
}

/**
 * How many jobs may start given the peers' breakers and `free` slots: all of them while every breaker
 * is closed; while one is not, a single job (the trial candidate) once a trial is due and no candidate
 * runs, else none, and the wait is until the next trial (`idleMs` when nothing is due on a clock).
 */
export function breakerGate(
  breakers: readonly CircuitBreaker[],
  free: number,
  candidateRunning: boolean,
  idleMs = 1000,
): { slots: number; waitMs: number } {
  const admits = Math.min(...breakers.map((b) => b.admits()));
  if (admits === Number.POSITIVE_INFINITY) return { slots: free, waitMs: idleMs };
  const waitMs = Math.max(...breakers.map((b) => b.waitMs()));
  const slots = admits > 0 && !candidateRunning ? Math.min(1, free) : 0;
  return { slots, waitMs: waitMs > 0 ? waitMs : idleMs };
}
