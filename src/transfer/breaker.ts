/**
 * A circuit breaker per peer: after `failures` consecutive failures the peer is left alone for
 * `coolDownMs`, then one attempt is let through (half-open); a success closes it again.
 */
export type BreakerState = 'closed' | 'open' | 'half-open';

export class CircuitBreaker {
  private consecutive = 0;
  private openedAt: number | undefined;
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

  /** May work start now? In half-open, only one trial at a time. */
  allow(): boolean {
    const s = this.state();
    if (s === 'closed') return true;
    if (s === 'open' || this.trial) return false;
    this.trial = true;
    return true;
  }

  success(): void {
    this.consecutive = 0;
    this.openedAt = undefined;
    this.trial = false;
  }

  failure(): void {
    this.consecutive++;
    this.trial = false;
    if (this.openedAt !== undefined) this.openedAt = this.now();
    else if (this.consecutive >= this.failures) this.openedAt = this.now();
  }

  /** Milliseconds until an attempt may be made (0 when allowed). */
  waitMs(): number {
    if (this.openedAt === undefined) return 0;
    return Math.max(0, this.coolDownMs - (this.now() - this.openedAt));
  }
}
