/**
 * Time is injected. Every `*_at` column in the state database is epoch milliseconds (UTC) taken from
 * the store's Clock, never from the database server, so tests move the clock instead of sleeping.
 * Workers sharing a PostgreSQL migration from several machines must keep their clocks in sync (NTP):
 * lease expiry and back-off compare one machine's `now()` with another's.
 */
export interface Clock {
  /** Epoch milliseconds. */
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

/** A clock that only moves when told to. */
export class ManualClock implements Clock {
  #t: number;
  constructor(start: number = Date.UTC(2026, 0, 1)) {
    this.#t = start;
  }
  now(): number {
    return this.#t;
  }
  advance(ms: number): number {
    if (!(ms >= 0)) throw new RangeError(`ManualClock.advance: ms must be >= 0, got ${ms}`);
    this.#t += ms;
    return this.#t;
  }
  set(t: number): void {
    this.#t = t;
  }
}
