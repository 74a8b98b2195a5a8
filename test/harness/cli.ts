/**
 * Any `pacshift` command as a child process, run from the sources with tsx (like test/harness/migration.ts
 * runs migrate): its exit code, stdout, stderr and how long it took.
 */
import { spawn } from 'node:child_process';
import { join, resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '..', '..');
const BIN = join(ROOT, 'src', 'cli', 'bin.ts');

export interface CliRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  seconds: number;
}

/** A Node stack trace line ("    at fn (file:1:2)"): never in what a command prints. */
export const STACK_TRACE = /\n\s+at .+\(.+:\d+:\d+\)/;

export interface CliOptions {
  /** Killed with SIGKILL after this long (default 120 s). */
  timeoutMs?: number;
  /** Sends `signal` once stderr or stdout contains `when` (or after `afterMs` without it). */
  signal?: { signal: NodeJS.Signals; when?: string; afterMs: number };
}

export function pacshift(args: readonly string[], opts: CliOptions = {}): Promise<CliRun> {
  return new Promise((done, fail) => {
    const t0 = performance.now();
    const child = spawn(process.execPath, ['--import', 'tsx', BIN, ...args], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    const sig = opts.signal;
    let signalled = false;
    const send = () => {
      if (!signalled && sig && child.exitCode === null) {
        signalled = true;
        child.kill(sig.signal);
      }
    };
    const sigTimer = sig ? setTimeout(send, sig.afterMs) : undefined;
    const watch = () => {
      if (
        sig?.when &&
        Buffer.concat([...out, ...err])
          .toString('utf8')
          .includes(sig.when)
      )
        send();
    };
    child.stdout.on('data', (c: Buffer) => (out.push(c), watch()));
    child.stderr.on('data', (c: Buffer) => (err.push(c), watch()));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 120_000);
    child.once('error', fail);
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      clearTimeout(sigTimer);
      done({
        code,
        signal,
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
        seconds: (performance.now() - t0) / 1000,
      });
    });
  });
}
