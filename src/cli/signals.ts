/**
 * SIGINT and SIGTERM stop any command within a few seconds, with the conventional exit code
 * (128 + signal number: 130, 143). A command that can stop cleanly (release leases, close peers)
 * watches `shutdownSignal()` and says so with `stopsGracefully()`; it then gets `GRACE_MS` to
 * return before the process exits anyway. Any other command exits at once. A second signal exits at once.
 * Installed by bin.ts only: commands run in-process by tests never see the process's signals.
 */
import { exitForSignal } from './exit-codes.js';

export const GRACE_MS = 4000;

const controller = new AbortController();
let received: 'SIGINT' | 'SIGTERM' | undefined;
let graceful = 0;
let ownExit = false;

/** Aborted when SIGINT or SIGTERM arrives. */
export function shutdownSignal(): AbortSignal {
  return controller.signal;
}

/**
 * The command watches shutdownSignal() (or its own signal handlers) and returns soon after a signal;
 * call the result when done. `ownExitCode`: a server whose normal end is a signal (serve, receive)
 * keeps the exit code it returns; otherwise the signal's code applies.
 */
export function stopsGracefully(opts: { ownExitCode?: boolean } = {}): () => void {
  graceful++;
  if (opts.ownExitCode) ownExit = true;
  return () => {
    graceful--;
  };
}

/** The exit code a received signal imposes (undefined when none arrived). */
export function signalExitCode(): number | undefined {
  return received && !ownExit ? exitForSignal(received) : undefined;
}

export function installSignalHandlers(exit: (code: number) => never = process.exit): void {
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.on(sig, () => {
      const code = exitForSignal(sig);
      if (received || graceful === 0) exit(exitForSignal(received ?? sig));
      received = sig;
      console.error(`${sig}: stopping (leases are given back; again to stop at once)`);
      controller.abort();
      setTimeout(() => exit(code), GRACE_MS).unref();
    });
  }
}
