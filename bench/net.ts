/**
 * `npm run bench:net`: pacshift's C-STORE paths against DCMTK, measured in one run on this machine.
 *
 *   pacshift store → storescp      vs  storescu → storescp
 *   storescu → pacshift receive    vs  storescu → storescp
 *
 * for the small set (2000 CT instances of ~0.53 MB) and the large set (50 instances of ~31.5 MB),
 * with 1, 2 and 4 associations at storescp's default 16 KiB max PDU, and 1 association at 128 KiB.
 * Each figure is the median of --runs runs (default 3); DCMTK runs with TCP_NODELAY=1. pacshift runs
 * as its real CLI in its own process, built once into node_modules/.cache (or via tsx with --tsx).
 *
 * Options: --quick (200 small + 5 large, 1 run: a smoke test), --runs N, --sets small,large,
 * --assoc 1,2,4, --big-pdu-assoc 1 (empty: no 128 KiB rows), --paths dcmtk,pacshift-send,pacshift-receive,
 * --small N, --large N, --cache DIR, --no-build, --tsx, --pacshift-dist DIR (a CLI built elsewhere, for A/B
 * comparisons), --cpu-prof DIR (profile the pacshift process), --nice=N (run every measured process,
 * pacshift's and DCMTK's, at nice N: on a machine shared with other work, -10 as root), --json FILE.
 */
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { builtCli } from './build-cli.js';
import { type SetSpec, ensureSet } from './net/data.js';
import { type Cell, rows, table, verdicts } from './net/report.js';
import { setNiceness } from './net/procs.js';
import { type PathKind, type RunConfig, runOnce } from './net/scenarios.js';

const ROOT = resolve(import.meta.dirname, '..');
const TARGET_RATIO = 1.2;
const RSS_BUDGET_MB = 200;

const { values: o } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    runs: { type: 'string' },
    sets: { type: 'string', default: 'small,large' },
    assoc: { type: 'string', default: '1,2,4' },
    'big-pdu-assoc': { type: 'string', default: '1' },
    paths: { type: 'string', default: 'dcmtk,pacshift-send,pacshift-receive' },
    small: { type: 'string' },
    large: { type: 'string' },
    cache: { type: 'string', default: join(tmpdir(), 'pacshift-bench-net') },
    'no-build': { type: 'boolean', default: false },
    tsx: { type: 'boolean', default: false },
    'pacshift-dist': { type: 'string' },
    'cpu-prof': { type: 'string' },
    json: { type: 'string' },
    nice: { type: 'string' },
  },
});

const list = (s: string | undefined): string[] =>
  (s ?? '')
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean);
const runs = Number(o.runs ?? (o.quick ? 1 : 3));
const counts = {
  small: Number(o.small ?? (o.quick ? 200 : 2000)),
  large: Number(o.large ?? (o.quick ? 5 : 50)),
};
const paths = list(o.paths) as PathKind[];
const log = (s: string) => console.error(s);

function pacshiftCommand(): { cmd: string; args: string[] } {
  if (o.tsx) return { cmd: process.execPath, args: ['--import', 'tsx', join(ROOT, 'src/cli/bin.ts')] };
  // Another build of the CLI (e.g. the previous commit's, to compare a change A/B).
  if (o['pacshift-dist'])
    return { cmd: process.execPath, args: [join(resolve(o['pacshift-dist']), 'cli/bin.js')] };
  return builtCli(join(ROOT, 'node_modules/.cache/pacshift-bench/dist'), !!o['no-build'], log);
}

async function main(): Promise<void> {
  if (o.nice !== undefined) setNiceness(Number(o.nice));
  const cache = resolve(o.cache!);
  await mkdir(cache, { recursive: true });
  const pacshift = pacshiftCommand();
  const workDir = join(cache, 'work');
  await rm(workDir, { recursive: true, force: true });
  await mkdir(workDir, { recursive: true });

  const setSpecs: SetSpec[] = list(o.sets).map((n) => {
    if (n !== 'small' && n !== 'large') throw new Error(`unknown set ${n}`);
    return { name: n, count: counts[n] };
  });
  const sets = [];
  for (const s of setSpecs) sets.push(await ensureSet(cache, s, log));

  // The matrix: every set × associations at 16 KiB, plus the 128 KiB rows.
  const shapes: { associations: number; pdu: number }[] = [
    ...list(o.assoc).map((a) => ({ associations: Number(a), pdu: 16384 })),
    ...list(o['big-pdu-assoc']).map((a) => ({ associations: Number(a), pdu: 131072 })),
  ];
  const cells: Cell[] = [];
  for (const set of sets) {
    for (const sh of shapes) {
      for (const path of paths) {
        cells.push({
          set: set.name,
          instances: set.files.length,
          bytes: set.bytes,
          associations: sh.associations,
          pdu: sh.pdu,
          path,
          runs: [],
        });
      }
    }
  }
  const started = new Date();
  const loadAtStart = loadavg()[0]!;
  log(
    `${cells.length} cells × ${runs} runs; sets: ${sets.map((s) => `${s.name} ${s.files.length} files, ${(s.bytes / 1e9).toFixed(2)} GB`).join('; ')}`,
  );
  // Rounds interleave the paths so that drift on the machine falls on all of them alike.
  for (let round = 0; round < runs; round++) {
    for (const [i, cell] of cells.entries()) {
      const set = sets.find((s) => s.name === cell.set)!;
      const profDir =
        o['cpu-prof'] && cell.path !== 'dcmtk'
          ? resolve(o['cpu-prof'], `${cell.set}-${cell.associations}-${cell.pdu}-${cell.path}`)
          : undefined;
      const cfg: RunConfig = {
        set,
        associations: cell.associations,
        pdu: cell.pdu,
        path: cell.path,
        pacshift,
        workDir,
        nodeFlags: profDir ? ['--cpu-prof', '--cpu-prof-dir', profDir] : [],
      };
      const r = await runOnce(cfg, `${round}-${i}`);
      cell.runs.push(r);
      log(
        `[${round + 1}/${runs}] ${cell.set} ×${cell.associations} pdu ${cell.pdu} ${cell.path}: ${r.seconds.toFixed(2)} s, ` +
          `CPU ${r.senderCpuS.toFixed(2)} + ${r.receiverCpuS.toFixed(2)} s, RSS sender ${(r.senderPeakKb / 1024).toFixed(0)} MB, receiver ${(r.receiverPeakKb / 1024).toFixed(0)} MB`,
      );
    }
  }
  const rs = rows(cells);
  console.log(
    `\nnpm run bench:net ${process.argv.slice(2).join(' ')} — ${started.toISOString().slice(0, 10)}, node ${process.version}, ` +
      `pacshift ${o.tsx ? 'via tsx' : 'built JS'}, medians of ${runs}${o.nice !== undefined ? `, nice ${o.nice}` : ''}, 1-min load average ${loadAtStart.toFixed(1)} at the start, ${loadavg()[0]!.toFixed(1)} at the end\n`,
  );
  console.log(table(rs));
  const v = verdicts(rs, TARGET_RATIO, RSS_BUDGET_MB);
  console.log(
    v.length
      ? `\nbelow target:\n${v.map((x) => `- ${x}`).join('\n')}`
      : `\nevery pacshift row ≥ ${TARGET_RATIO}× DCMTK and under ${RSS_BUDGET_MB} MB RSS`,
  );
  const jsonOut = o.json ?? join(ROOT, 'bench/out/net.json');
  await mkdir(resolve(jsonOut, '..'), { recursive: true });
  await writeFile(
    jsonOut,
    JSON.stringify({ date: started.toISOString(), node: process.version, runs, cells }, null, 2),
  );
  log(`raw results: ${jsonOut}`);
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.stack : e);
  process.exitCode = 1;
});
