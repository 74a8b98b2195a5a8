/**
 * `pacshift migrate` as a child process (the real CLI, run from the sources with tsx), for end-to-end
 * tests: a plan file for a source and a target, the command line, and a handle to wait for it or kill it.
 */
import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { makeTempDir, removeTempDir } from './tmp.js';

const ROOT = resolve(import.meta.dirname, '..', '..');

/** A test's folder; kept after the test (and its path printed) when PACSHIFT_E2E_KEEP is set. */
export function e2eDir(name: string): { dir: string; remove(): void } {
  if (process.env.PACSHIFT_E2E_KEEP) {
    const dir = mkdtempSync(join(tmpdir(), `pacshift-${name}-`));
    return { dir, remove: () => console.log(`kept ${dir}`) };
  }
  const dir = makeTempDir(name);
  return { dir, remove: () => removeTempDir(dir) };
}

export interface PlanPeer {
  host: string;
  port: number;
  calledAe: string;
}

export interface PlanSpec {
  /** Folder of the plan, its state database, spool and report. */
  dir: string;
  /** Our AE title (default PACSHIFT) and the port our receiver (C-MOVE destination) listens on. */
  local: { aeTitle?: string; port: number };
  source: PlanPeer & { retrieve?: 'c-move' | 'c-get'; maxAssociations?: number };
  target: PlanPeer & { maxAssociations?: number };
  /** Top-level sections merged into the plan (transfer, verify, scope…). */
  extra?: Record<string, unknown>;
}

/** Writes `<dir>/plan.yaml` (JSON is YAML) and returns its path. */
export function writePlan(spec: PlanSpec): string {
  const plan = {
    name: 'e2e',
    version: 1,
    local: { aeTitle: spec.local.aeTitle ?? 'PACSHIFT', host: '127.0.0.1', port: spec.local.port },
    source: { type: 'dimse', retrieve: 'c-move', ...spec.source },
    target: { type: 'dimse', ...spec.target },
    state: { sqlite: join(spec.dir, 'state.sqlite') },
    spool: { dir: join(spec.dir, 'spool') },
    report: { dir: join(spec.dir, 'report') },
    ...spec.extra,
  };
  const path = join(spec.dir, 'plan.yaml');
  writeFileSync(path, JSON.stringify(plan, null, 2));
  return path;
}

/** The command line of `pacshift migrate PLAN …` run from the sources. */
export function migrateCommand(
  planPath: string,
  args: readonly string[] = [],
): { cmd: string; args: string[] } {
  return {
    cmd: process.execPath,
    args: ['--import', 'tsx', join(ROOT, 'src/cli/bin.ts'), 'migrate', planPath, ...args],
  };
}

export interface MigrateChild {
  readonly pid: number;
  readonly logFile: string;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Signals this child (by its pid), if it still runs. */
  kill(signal: NodeJS.Signals): void;
  /** stdout of the run so far. */
  stdout(): string;
  log(): string;
}

/** Starts `pacshift migrate` with stdout captured and stderr appended to `logFile`. */
export function startMigrate(
  planPath: string,
  args: readonly string[],
  opts: { logFile: string; env?: Record<string, string> },
): MigrateChild {
  const { cmd, args: argv } = migrateCommand(planPath, args);
  const fd = openSync(opts.logFile, 'a');
  const child = spawn(cmd, argv, {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', fd],
    env: { ...process.env, ...opts.env },
  });
  closeSync(fd);
  if (child.pid === undefined) throw new Error(`cannot start ${cmd}`);
  const out: Buffer[] = [];
  child.stdout!.on('data', (b: Buffer) => out.push(b));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((res) => {
    child.once('close', (code, signal) => res({ code, signal }));
  });
  return {
    pid: child.pid,
    logFile: opts.logFile,
    exited,
    kill: (signal) => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    },
    stdout: () => Buffer.concat(out).toString('utf8'),
    log: () => (existsSync(opts.logFile) ? readFileSync(opts.logFile, 'utf8') : ''),
  };
}

export interface MigrateRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  log: string;
  seconds: number;
}

/** Runs `pacshift migrate` to its end (killed after `timeoutMs`). */
export async function runMigrate(
  planPath: string,
  args: readonly string[],
  opts: { logFile: string; timeoutMs?: number; env?: Record<string, string> },
): Promise<MigrateRun> {
  const t0 = Date.now();
  const child = startMigrate(planPath, args, opts);
  const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 600_000);
  const r = await child.exited;
  clearTimeout(timer);
  return { ...r, stdout: child.stdout(), log: child.log(), seconds: (Date.now() - t0) / 1000 };
}
