/**
 * Child processes for the benchmark: spawn with output to a log file, wait for a port, stop, and
 * sample memory from /proc (VmHWM of each process of the tree, and the sum of VmRSS over the tree).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';

/** What GNU time reports for a process (and the children it waited for). */
export interface Usage {
  /** User + system CPU seconds. */
  cpuSeconds: number;
  /** Maximum resident set size of the process (or of its largest waited-for child), kB. */
  maxRssKb: number;
}

export interface Proc {
  name: string;
  /** The `/usr/bin/time` wrapper. */
  child: ChildProcess;
  pid: number;
  logFile: string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** After exit: CPU time and peak RSS of the measured command. */
  usage(): Usage;
}

const TIME = '/usr/bin/time';

/** A nice value for every measured process (pacshift and DCMTK alike), e.g. -10 on a machine shared with other work. */
let niceness: number | undefined;
export const setNiceness = (n: number | undefined): void => {
  niceness = n;
};

/** Start `cmd` under GNU time (CPU seconds and peak RSS come from the kernel's rusage at exit). */
export function start(
  name: string,
  cmd: string,
  args: string[],
  opts: { logFile: string; env?: NodeJS.ProcessEnv; cwd?: string },
): Proc {
  const fd = openSync(opts.logFile, 'a');
  const usageFile = `${opts.logFile}.usage`;
  const timed = [TIME, '-f', '%U %S %M', '-o', usageFile, cmd, ...args];
  // nice execs time in place: the pid stays the wrapper's.
  const argv = niceness === undefined ? timed : ['nice', '-n', String(niceness), ...timed];
  const child = spawn(argv[0]!, argv.slice(1), {
    stdio: ['ignore', fd, fd],
    env: opts.env ?? process.env,
    cwd: opts.cwd,
  });
  closeSync(fd);
  if (child.pid === undefined) throw new Error(`cannot start ${cmd}`);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
    child.once('error', () => resolve({ code: -1, signal: null }));
  });
  const usage = (): Usage => {
    // "Command exited with non-zero status N" may come first; the figures are on the last line.
    const last = readFileSync(usageFile, 'latin1').trim().split('\n').pop() ?? '';
    const [u, s, m] = last.split(' ').map(Number);
    if (![u, s, m].every((x) => Number.isFinite(x))) throw new Error(`${name}: no usage in ${usageFile}`);
    return { cpuSeconds: u! + s!, maxRssKb: m! };
  };
  return { name, child, pid: child.pid, logFile: opts.logFile, exited, usage };
}

/** The measured command's pid (the child of the time wrapper), if it runs. */
function measuredPid(p: Proc): number | undefined {
  try {
    const kids = readFileSync(`/proc/${p.pid}/task/${p.pid}/children`, 'latin1').trim();
    return kids ? Number(kids.split(' ')[0]) : undefined;
  } catch {
    return undefined;
  }
}

/** SIGTERM (then SIGKILL after graceMs) to the command we started, by its id; the time wrapper then exits. */
export async function stop(p: Proc, graceMs = 5000): Promise<void> {
  if (p.child.exitCode !== null || p.child.signalCode !== null) return;
  const pid = measuredPid(p);
  const kill = (sig: NodeJS.Signals) => {
    try {
      if (pid !== undefined) process.kill(pid, sig);
      else p.child.kill(sig);
    } catch {
      /* already gone */
    }
  };
  kill('SIGTERM');
  const t = setTimeout(() => kill('SIGKILL'), graceMs);
  await p.exited;
  clearTimeout(t);
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen({ host: '127.0.0.1', port: 0, exclusive: true }, () => {
      const a = s.address();
      const port = typeof a === 'object' && a ? a.port : 0;
      s.close(() => resolve(port));
    });
  });
}

/** Resolves once a TCP connection to the port succeeds (the probe connection is closed at once). */
export async function waitForPort(port: number, p: Proc, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (p.child.exitCode !== null)
      throw new Error(`${p.name} exited (${p.child.exitCode}) before listening; see ${p.logFile}`);
    const ok = await new Promise<boolean>((resolve) => {
      const s = createConnection({ host: '127.0.0.1', port });
      s.once('connect', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline)
      throw new Error(`${p.name}: nothing listening on ${port} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const statusKb = (pid: number, key: 'VmHWM' | 'VmRSS'): number => {
  try {
    const m = new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'latin1'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
};

function tree(pid: number, out: number[] = []): number[] {
  out.push(pid);
  let kids: string;
  try {
    kids = readFileSync(`/proc/${pid}/task/${pid}/children`, 'latin1');
  } catch {
    return out;
  }
  for (const k of kids.split(' ')) if (k.trim()) tree(Number(k), out);
  return out;
}

/**
 * Peak memory of a group of process trees (under their time wrappers), sampled every `intervalMs`: the largest VmHWM of any one
 * process (the kernel's own high-water mark, exact for processes still alive at the last sample), and
 * the largest sum of VmRSS over all of them at one sample (what the group held at once).
 */
export class MemorySampler {
  private roots: number[] = [];
  private timer: NodeJS.Timeout | undefined;
  private hwm = new Map<number, number>();
  maxSumRssKb = 0;

  constructor(private readonly intervalMs = 50) {}

  add(pid: number): void {
    this.roots.push(pid);
    if (!this.timer) this.timer = setInterval(() => this.sample(), this.intervalMs);
    this.sample();
  }

  sample(): void {
    let sum = 0;
    for (const r of this.roots) {
      // The root is the time wrapper: count what it runs.
      for (const pid of tree(r).slice(1)) {
        const rss = statusKb(pid, 'VmRSS');
        const hwm = statusKb(pid, 'VmHWM');
        sum += rss;
        if (hwm > (this.hwm.get(pid) ?? 0)) this.hwm.set(pid, hwm);
      }
    }
    if (sum > this.maxSumRssKb) this.maxSumRssKb = sum;
  }

  stop(): void {
    this.sample();
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Largest single-process high-water mark, in kB. */
  get maxHwmKb(): number {
    let m = 0;
    for (const v of this.hwm.values()) m = Math.max(m, v);
    return m;
  }

  /** The figure we report: the group's peak (at least the largest single process's). */
  get peakKb(): number {
    return Math.max(this.maxHwmKb, this.maxSumRssKb);
  }
}
