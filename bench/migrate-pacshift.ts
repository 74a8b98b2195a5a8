/**
 * `pacshift migrate` for the benchmark: the CLI built once into a folder of our own (or run through
 * tsx), a plan between two Orthancs, and a run timed from spawn to exit with the peak resident memory
 * of the process (VmHWM from /proc/<pid>/status, polled until it exits).
 */
import { spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { builtCli } from './build-cli.js';
import type { Orthanc } from '../test/harness/orthanc.js';

const ROOT = resolve(import.meta.dirname, '..');

export function pacshiftCommand(
  o: { tsx: boolean; noBuild: boolean },
  log: (s: string) => void,
): { cmd: string; args: string[] } {
  if (o.tsx) return { cmd: process.execPath, args: ['--import', 'tsx', join(ROOT, 'src/cli/bin.ts')] };
  return builtCli(join(ROOT, 'node_modules/.cache/pacshift-bench-migrate/dist'), o.noBuild, log);
}

/** The plan: source and target Orthanc, presence and attributes verified (no study retrieved back). */
export function writeBenchPlan(
  dir: string,
  localPort: number,
  source: Orthanc,
  target: Orthanc,
  concurrency: { retrieve?: number; store?: number } = {},
): string {
  const plan = {
    name: 'bench',
    version: 1,
    local: { aeTitle: 'PACSHIFT', host: '127.0.0.1', port: localPort },
    source: {
      type: 'dimse',
      host: '127.0.0.1',
      port: source.dicomPort,
      calledAe: source.aeTitle,
      retrieve: 'c-move',
      ...(concurrency.retrieve ? { maxAssociations: concurrency.retrieve } : {}),
    },
    target: {
      type: 'dimse',
      host: '127.0.0.1',
      port: target.dicomPort,
      calledAe: target.aeTitle,
      ...(concurrency.store ? { maxAssociations: concurrency.store } : {}),
    },
    state: { sqlite: join(dir, 'state.sqlite') },
    spool: { dir: join(dir, 'spool') },
    report: { dir: join(dir, 'report') },
    transfer: { quietPeriod: '5s', concurrency },
    verify: { level: 'attributes', sample: { percent: 0, minStudies: 0 } },
  };
  const path = join(dir, 'plan.yaml');
  writeFileSync(path, JSON.stringify(plan, null, 2));
  return path;
}

const vmHwmKb = (pid: number): number | undefined => {
  try {
    const m = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'latin1'));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
};

/** Seconds spent in each phase, from the state database (inventory run, job events). */
export interface Phases {
  inventory: number;
  transfer: number;
  verify: number;
}

export function phasesOf(statePath: string): Phases {
  const db = new Database(statePath, { readonly: true });
  try {
    const one = (sql: string) => (db.prepare(sql).get() as { v: number | null }).v ?? 0;
    const inv = one('SELECT MAX(finished_at) - MIN(started_at) AS v FROM inventory_runs');
    const transfer = one(
      `SELECT (SELECT MAX(at) FROM events WHERE kind = 'job.state' AND json_extract(detail, '$.to') = 'stored')
            - (SELECT MIN(at) FROM events WHERE kind = 'job.state' AND json_extract(detail, '$.to') = 'retrieving') AS v`,
    );
    const verify = one(
      `SELECT (SELECT MAX(at) FROM events WHERE kind = 'job.state' AND json_extract(detail, '$.to') = 'verified')
            - (SELECT MIN(at) FROM events WHERE kind = 'job.state' AND json_extract(detail, '$.to') = 'verifying') AS v`,
    );
    return { inventory: inv / 1000, transfer: transfer / 1000, verify: verify / 1000 };
  } finally {
    db.close();
  }
}

export interface PacshiftRun {
  seconds: number;
  phases?: Phases;
  peakRssMb: number;
  exit: number | null;
  /** The JSON summary migrate printed (its last stdout line). */
  summary: Record<string, unknown> | undefined;
}

export async function runPacshiftMigrate(
  command: { cmd: string; args: string[] },
  planPath: string,
  logFile: string,
  nodeFlags: readonly string[] = [],
): Promise<PacshiftRun> {
  const fd = openSync(logFile, 'a');
  const t0 = process.hrtime.bigint();
  const child = spawn(command.cmd, [...nodeFlags, ...command.args, 'migrate', planPath, '--json'], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', fd],
  });
  closeSync(fd);
  const out: Buffer[] = [];
  child.stdout!.on('data', (b: Buffer) => out.push(b));
  let peak = 0;
  const poll = setInterval(() => {
    const kb = child.pid !== undefined ? vmHwmKb(child.pid) : undefined;
    if (kb !== undefined && kb > peak) peak = kb;
  }, 20);
  const exit = await new Promise<number | null>((res) => child.once('close', (code) => res(code)));
  clearInterval(poll);
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const last = Buffer.concat(out).toString('utf8').trim().split('\n').pop() ?? '';
  let summary: Record<string, unknown> | undefined;
  try {
    summary = JSON.parse(last) as Record<string, unknown>;
  } catch {
    summary = undefined;
  }
  return { seconds, peakRssMb: peak / 1024, exit, summary };
}
