/**
 * `sleep(ms, signal)`: wait `ms`, or less when `signal` aborts (at once when it already has).
 *
 * However many sleeps wait on one signal at a time (the engine races running jobs against a sleep, and
 * a sleep that lost the race waits on), the signal carries one listener: the sleepers of a signal are
 * kept in a set, the listener is added with the first and removed with the last. Each sleep leaves the
 * set when its timer fires.
 */
const sleepers = new WeakMap<AbortSignal, { wakeAll: () => void; waiting: Set<() => void> }>();

function join(signal: AbortSignal, wake: () => void): () => void {
  let entry = sleepers.get(signal);
  if (!entry) {
    const waiting = new Set<() => void>();
    const wakeAll = () => {
      sleepers.delete(signal);
      for (const w of waiting) w();
    };
    entry = { wakeAll, waiting };
    sleepers.set(signal, entry);
    signal.addEventListener('abort', wakeAll, { once: true });
  }
  const e = entry;
  e.waiting.add(wake);
  return () => {
    e.waiting.delete(wake);
    if (e.waiting.size === 0 && sleepers.get(signal) === e) {
      sleepers.delete(signal);
      signal.removeEventListener('abort', e.wakeAll);
    }
  };
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) return Promise.resolve();
  return new Promise<void>((resolve) => {
    let leave: (() => void) | undefined;
    const wake = () => {
      clearTimeout(timer);
      leave?.();
      resolve();
    };
    const timer = setTimeout(wake, ms);
    if (signal) leave = join(signal, wake);
  });
}
