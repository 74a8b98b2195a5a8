import { spawn } from 'node:child_process';
import { accessSync, closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { PortClashError, waitForPort } from './ports.js';
import { removeLeftoverTempDirs } from './tmp.js';

/**
 * Peers (DCMTK, Orthanc) run as child processes in their own process group, with TCP_NODELAY=1 in their
 * environment (Debian's DCMTK and Orthanc leave Nagle on: each C-STORE would wait ~40 ms for a delayed ACK).
 * Their stdout and stderr go to a log file in the peer's temp dir, so a failing test can print the tail.
 * Every live process is killed when the test process exits, even if a test forgot to stop it.
 */

export interface ExitStatus {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface PeerProcess {
  readonly name: string;
  readonly pid: number;
  readonly logFile: string;
  /** Settles when the process has exited (never rejects). */
  readonly exited: Promise<ExitStatus>;
  /** undefined while the process runs. */
  exitStatus(): ExitStatus | undefined;
  /** The last `lines` lines of the log file. */
  logTail(lines?: number): string;
  /** SIGTERM to the process group, SIGKILL after `graceMs`; then SIGKILL to whatever is left in the group. */
  stop(graceMs?: number): Promise<void>;
}

export interface SpawnPeerOptions {
  name?: string;
  cwd?: string;
  /** stdout and stderr are appended here. */
  logFile: string;
  /** Added to process.env and TCP_NODELAY=1. */
  env?: Record<string, string>;
}

/** Environment for every DCMTK/Orthanc process the harness starts. */
export function peerEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return { ...process.env, TCP_NODELAY: '1', ...extra };
}

const livePids = new Set<number>();
let exitHooksInstalled = false;

function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // ESRCH: already gone
  }
}

function killAllNow(): void {
  for (const pid of livePids) killGroup(pid, 'SIGKILL');
  livePids.clear();
}

function installExitHooks(): void {
  if (exitHooksInstalled) return;
  exitHooksInstalled = true;
  // before the temp dirs are removed (tmp.ts hooks 'exit' too)
  process.prependListener('exit', killAllNow);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => {
      killAllNow();
      removeLeftoverTempDirs();
      // Our listener is gone (once): re-raise so the default action (or another listener) applies.
      process.kill(process.pid, signal);
    });
  }
}

/** Last `lines` lines of a text file, reading at most its last 256 KiB. */
export function tailFile(path: string, lines = 50): string {
  let fd: number | undefined;
  try {
    fd = openSync(path, 'r');
    const size = fstatSync(fd).size;
    const length = Math.min(size, 256 * 1024);
    const buffer = Buffer.alloc(length);
    readSync(fd, buffer, 0, length, size - length);
    const all = buffer.toString('utf8').split('\n');
    if (all.at(-1) === '') all.pop();
    return all.slice(-lines).join('\n');
  } catch (error) {
    return `(no log: ${(error as Error).message})`;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

export function spawnPeer(command: string, args: readonly string[], options: SpawnPeerOptions): PeerProcess {
  installExitHooks();
  const name = options.name ?? command;
  const logFd = openSync(options.logFile, 'a');
  let child;
  try {
    child = spawn(command, args, {
      cwd: options.cwd,
      env: peerEnv(options.env),
      stdio: ['ignore', logFd, logFd],
      detached: true, // own process group: stop() also reaches dcmqrscp's forked children
    });
  } finally {
    closeSync(logFd);
  }
  const pid = child.pid;
  if (pid === undefined) throw new Error(`spawnPeer ${name}: could not start ${command}`);
  livePids.add(pid);

  let status: ExitStatus | undefined;
  const exited = new Promise<ExitStatus>((resolve) => {
    const settle = (s: ExitStatus): void => {
      if (status) return;
      status = s;
      livePids.delete(pid);
      resolve(s);
    };
    child.once('exit', (code, signal) => settle({ code, signal }));
    child.once('error', () => settle({ code: null, signal: null }));
  });

  const stop = async (graceMs = 3000): Promise<void> => {
    if (!status) {
      killGroup(pid, 'SIGTERM');
      let timer: NodeJS.Timeout | undefined;
      const timedOut = await Promise.race([
        exited.then(() => false),
        new Promise<boolean>((r) => {
          timer = setTimeout(() => r(true), graceMs);
        }),
      ]);
      clearTimeout(timer);
      if (timedOut) {
        killGroup(pid, 'SIGKILL');
        await exited;
      }
    }
    killGroup(pid, 'SIGKILL'); // leftovers in the group (forked association handlers)
    livePids.delete(pid);
  };

  return {
    name,
    pid,
    logFile: options.logFile,
    exited,
    exitStatus: () => status,
    logTail: (lines = 50) => tailFile(options.logFile, lines),
    stop,
  };
}

const describeExit = (s: ExitStatus): string =>
  s.signal ? `killed by ${s.signal}` : `exit code ${String(s.code)}`;

/**
 * Waits until `proc` accepts TCP connections on every port. If it exits or times out first, stops it and throws:
 * a PortClashError when its log says the port was taken (the caller retries with other ports), else an Error
 * carrying the log tail.
 */
export async function awaitListening(
  proc: PeerProcess,
  ports: readonly number[],
  timeoutMs = 15_000,
): Promise<void> {
  try {
    for (const port of ports) {
      await waitForPort(port, timeoutMs, {
        abortIf: () => {
          const s = proc.exitStatus();
          return s ? `${proc.name} ${describeExit(s)}` : undefined;
        },
      });
    }
  } catch (error) {
    await proc.stop(500);
    const tail = proc.logTail(40);
    const message = `${(error as Error).message}\n--- ${proc.name} log (${proc.logFile}) ---\n${tail}`;
    if (/already in use|EADDRINUSE/i.test(tail)) throw new PortClashError(message);
    throw new Error(message);
  }
}

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

export interface RunOptions {
  cwd?: string;
  env?: Record<string, string>;
  timeoutMs?: number;
}

/** Runs a short-lived tool (echoscu, dcmqridx, openssl…) to completion with TCP_NODELAY=1; never rejects on a non-zero exit. */
export function runTool(
  command: string,
  args: readonly string[],
  options: RunOptions = {},
): Promise<RunResult> {
  installExitHooks();
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: peerEnv(options.env),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const pid = child.pid;
    if (pid !== undefined) livePids.add(pid);
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => err.push(chunk));
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, options.timeoutMs ?? 30_000);
    child.once('error', (error) => {
      clearTimeout(timer);
      if (pid !== undefined) livePids.delete(pid);
      reject(error);
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      if (pid !== undefined) livePids.delete(pid);
      resolve({
        code,
        signal,
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
        timedOut,
      });
    });
  });
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Absolute path of an executable on PATH (plus /usr/sbin and /sbin, where Debian puts Orthanc), or undefined. */
export function which(name: string): string | undefined {
  if (name.includes('/')) return isExecutable(name) ? name : undefined;
  const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/sbin', '/sbin', '/usr/local/sbin'];
  for (const dir of dirs) {
    if (!dir) continue;
    const candidate = join(dir, name);
    if (isExecutable(candidate)) return candidate;
  }
  return undefined;
}

export const hasCommand = (name: string): boolean => which(name) !== undefined;

/** Orthanc's DICOMweb plugin (Debian package orthanc-dicomweb); PACSHIFT_ORTHANC_DICOMWEB overrides. */
export function dicomWebPlugin(): string | undefined {
  const candidates = [
    process.env.PACSHIFT_ORTHANC_DICOMWEB,
    '/usr/share/orthanc/plugins/libOrthancDicomWeb.so',
    '/usr/lib/orthanc/plugins/libOrthancDicomWeb.so',
    '/usr/local/share/orthanc/plugins/libOrthancDicomWeb.so',
  ];
  for (const path of candidates) {
    if (!path) continue;
    try {
      accessSync(path, constants.R_OK);
      return path;
    } catch {
      // next
    }
  }
  return undefined;
}

const DCMTK_TOOLS = [
  'storescp',
  'storescu',
  'echoscu',
  'findscu',
  'movescu',
  'getscu',
  'dcmqrscp',
  'dcmqridx',
];

/** Which real peers are installed, for describe.skipIf(!peers.dcmtk) and friends. */
export const peers: { readonly dcmtk: boolean; readonly orthanc: boolean; readonly dicomweb: boolean } =
  (() => {
    const dcmtk = DCMTK_TOOLS.every(hasCommand);
    const orthanc = hasCommand('Orthanc');
    return Object.freeze({ dcmtk, orthanc, dicomweb: orthanc && dicomWebPlugin() !== undefined });
  })();
