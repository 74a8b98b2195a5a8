/**
 * One worker loop that knows nothing of the work (pg-boss worker style): `gate` says how many jobs
 * may start now (or how long to wait), `fetch` claims up to that many, `handler` does one job. Every
 * turn yields to the event loop (a job that settles at once, or a store that answers synchronously,
 * cannot starve sockets, timers and signal handlers), and a turn that starts nothing sleeps: until a
 * running job settles or the gate's wait is over, whichever comes first.
 *
 * On abort the loop stops fetching, gives running jobs `graceMs` to settle, then hands the rest to
 * `abandon` (release their leases) and returns without waiting for them.
 */
import { sleep as realSleep } from '../util/sleep.js';

export type Gate =
  /** Start up to `slots` jobs now; when fewer start, wait up to `waitMs` for a change. */
  | { slots: number; waitMs: number }
  /** Nothing more will start: return once running jobs are done. */
  | { stop: true };

export interface WorkerLoopOptions<J> {
  gate(running: number): Promise<Gate> | Gate;
  fetch(n: number): Promise<J[]>;
  /** Does one job. Must not reject (a rejection is a bug: it is passed to `onError`). */
  handler(job: J): Promise<void>;
  /** Slots were free, yet nothing runs and nothing was fetched: stop, or wait this many ms. */
  idle(): Promise<'stop' | number>;
  /** Jobs still running when the loop gives up on them after an abort. */
  abandon?(jobs: J[]): Promise<void>;
  onError?(job: J, e: unknown): void;
  /** After each turn (progress). */
  onTurn?(running: number): void;
  signal?: AbortSignal;
  /** Injectable for tests that run the loop on a moved clock. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** How long running jobs may take to settle after an abort (default 2 s). */
  graceMs?: number;
}

const yieldToEventLoop = () => new Promise<void>((r) => setImmediate(r));

export async function runWorkerLoop<J>(o: WorkerLoopOptions<J>): Promise<{ aborted: boolean }> {
  const sleep = o.sleep ?? realSleep;
  const running = new Map<J, Promise<void>>();
  const start = (job: J) => {
    const p = o
      .handler(job)
      .catch((e: unknown) => o.onError?.(job, e))
      .finally(() => running.delete(job));
    running.set(job, p);
  };
  for (;;) {
    await yieldToEventLoop();
    if (o.signal?.aborted) break;
    const gate = await o.gate(running.size);
    if ('stop' in gate) break;
    const jobs = gate.slots > 0 ? await o.fetch(gate.slots) : [];
    for (const job of jobs) start(job);
    o.onTurn?.(running.size);
    if (running.size === 0 && jobs.length === 0) {
      // Not allowed to start anything now (a breaker open, a pause): wait as long as the gate says.
      if (gate.slots === 0) {
        await sleep(gate.waitMs, o.signal);
        continue;
      }
      const w = await o.idle();
      if (w === 'stop') break;
      await sleep(w, o.signal);
      continue;
    }
    // Started all it could: look again soon (a short pause, or as soon as a job settles).
    if (jobs.length > 0 && jobs.length === gate.slots) continue;
    await Promise.race([...running.values(), sleep(gate.waitMs, o.signal)]);
  }
  const aborted = o.signal?.aborted ?? false;
  if (aborted && running.size > 0) {
    await Promise.race([Promise.allSettled(running.values()), realSleep(o.graceMs ?? 2000)]);
    if (running.size > 0) await o.abandon?.([...running.keys()]);
  } else await Promise.allSettled(running.values());
  return { aborted };
}
