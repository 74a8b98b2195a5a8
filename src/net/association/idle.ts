/**
 * Idle associations on the accepting side. An established association with no byte read or written
 * for `idleTimeoutMs`, no operation in progress (markBusy) and reading not paused (back-pressure) is
 * idle: the watcher calls `onIdle` (the server aborts it). Activity is sampled every `idleTimeoutMs`:
 * an association is aborted after between one and two periods of silence.
 */
import type { Association } from './association.js';

const busy = new WeakMap<Association, number>();

/** An operation (a request being served) runs on `assoc`: not idle until the returned function is called. */
export function markBusy(assoc: Association): () => void {
  busy.set(assoc, (busy.get(assoc) ?? 0) + 1);
  let done = false;
  return () => {
    if (done) return;
    done = true;
    busy.set(assoc, (busy.get(assoc) ?? 1) - 1);
  };
}

export const isBusy = (assoc: Association): boolean => (busy.get(assoc) ?? 0) > 0;

/** Watches `assoc` until it ends. `idleTimeoutMs` 0 or less: never idle. */
export function watchIdle(assoc: Association, idleTimeoutMs: number, onIdle: () => void): void {
  if (!(idleTimeoutMs > 0)) return;
  const s = assoc.socket;
  let seen = -1;
  let timer: NodeJS.Timeout | undefined;
  let ended = false;
  const check = () => {
    if (ended) return;
    const activity = s.bytesRead + s.bytesWritten;
    if (activity === seen && !isBusy(assoc) && !s.isPaused()) {
      onIdle();
      return;
    }
    seen = activity;
    timer = setTimeout(check, idleTimeoutMs);
    timer.unref?.();
  };
  check();
  void assoc.whenEnded().then(() => {
    ended = true;
    if (timer) clearTimeout(timer);
  });
}
