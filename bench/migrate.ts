/**
 * `npm run bench:migrate`: a whole migration Orthanc → Orthanc by pacshift against the DCMTK chain
 * doing the same move, in the same run on this machine.
 *
 *   pacshift migrate (inventory, scope, C-MOVE into its spool, C-STORE, verification of presence and
 *   attributes by C-FIND; plan verify.level attributes, sample 0 %)
 *   vs  movescu of each study from the source into a storescp, then storescu of the received files
 *   into a second target Orthanc
 *
 * 2000 CT instances of ~0.53 MB in 20 studies × 100 (bench/net's generator: corpus CT files with new
 * UIDs patched in place), loaded once into the source Orthanc with storescu. Every Orthanc and DCMTK
 * process runs with TCP_NODELAY=1. Each run uses fresh target Orthancs; rounds alternate which path
 * goes first. Reports wall times, their ratio (chain / pacshift: above 1 means pacshift is faster) and
 * pacshift's peak RSS (VmHWM of the migrate process). Targets: ratio ≥ 1, RSS < 200 MB.
 *
 * Options: --quick (200 instances, a smoke run), --count N, --runs N (default 1), --retrieve N and
 * --store N (plan transfer.concurrency; default the plan's: 2 and 4), --cpu-prof DIR (profile the
 * migrate process), --cache DIR,
 * --no-build, --tsx (run the CLI through tsx instead of built JS), --json FILE.
 */
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { ensureSet } from './net/data.js';
import { countInstances, dcmtkChain, loadWithStorescu, type ChainResult } from './migrate-peers.js';
import {
  pacshiftCommand,
  phasesOf,
  runPacshiftMigrate,
  writeBenchPlan,
  type PacshiftRun,
} from './migrate-pacshift.js';
import { startOrthanc, type Orthanc } from '../test/harness/orthanc.js';
import { freePort } from '../test/harness/ports.js';

const ROOT = resolve(import.meta.dirname, '..');
const RSS_BUDGET_MB = 200;

const { values: o } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    count: { type: 'string' },
    runs: { type: 'string', default: '1' },
    cache: { type: 'string', default: join(tmpdir(), 'pacshift-bench-migrate') },
    'no-build': { type: 'boolean', default: false },
    tsx: { type: 'boolean', default: false },
    json: { type: 'string' },
    retrieve: { type: 'string' },
    store: { type: 'string' },
    'cpu-prof': { type: 'string' },
  },
});
const log = (s: string) => console.error(s);
const count = Number(o.count ?? (o.quick ? 200 : 2000));
const runs = Number(o.runs);
/** Plan transfer.concurrency (and the peers' maxAssociations); default: the plan's defaults. */
const concurrency = {
  ...(o.retrieve ? { retrieve: Number(o.retrieve) } : {}),
  ...(o.store ? { store: Number(o.store) } : {}),
};

interface Round {
  pacshift: PacshiftRun & { targetInstances: number };
  chain: ChainResult & { targetInstances: number };
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

async function main(): Promise<void> {
  const cache = resolve(o.cache!);
  await mkdir(cache, { recursive: true });
  const set = await ensureSet(cache, { name: 'small', count }, log);
  const command = pacshiftCommand({ tsx: o.tsx!, noBuild: o['no-build']! }, log);
  const started = new Date();
  const localPort = await freePort();
  const source = await startOrthanc({
    aeTitle: 'OLDPACS',
    modalities: { pacshift: { aeTitle: 'PACSHIFT', host: '127.0.0.1', port: localPort } },
  });
  const rounds: Round[] = [];
  let studyCount = 0;
  try {
    log(
      `loading ${set.files.length} instances (${(set.bytes / 1e9).toFixed(2)} GB) into the source Orthanc …`,
    );
    await loadWithStorescu(source, set.files);
    const held = await countInstances(source);
    if (held !== set.files.length)
      throw new Error(`the source holds ${held} instances, expected ${set.files.length}`);
    const studies =
      await source.rest.get<{ MainDicomTags: { StudyInstanceUID: string } }[]>('/studies?expand');
    const studyUids = [...new Set(studies.map((s) => s.MainDicomTags.StudyInstanceUID))];
    studyCount = studyUids.length;
    for (let round = 0; round < runs; round++) {
      const work = join(cache, 'work', String(round));
      await rm(work, { recursive: true, force: true });
      await mkdir(work, { recursive: true });
      const targets: Orthanc[] = [];
      try {
        const [ta, tb] = await Promise.all([
          startOrthanc({ aeTitle: 'NEWPACS' }),
          startOrthanc({ aeTitle: 'NEWPACSB' }),
        ]);
        targets.push(ta, tb);
        const doPacshift = async () => {
          const plan = writeBenchPlan(work, localPort, source, ta, concurrency);
          log(`[${round + 1}/${runs}] pacshift migrate …`);
          const prof = o['cpu-prof'] ? ['--cpu-prof', '--cpu-prof-dir', resolve(o['cpu-prof'])] : [];
          const r = await runPacshiftMigrate(command, plan, join(work, 'migrate.log'), prof);
          log(`  ${r.seconds.toFixed(2)} s, peak RSS ${r.peakRssMb.toFixed(0)} MB, exit ${String(r.exit)}`);
          const phases = phasesOf(join(work, 'state.sqlite'));
          log(
            `  inventory ${phases.inventory.toFixed(2)} s, transfer ${phases.transfer.toFixed(2)} s, verify ${phases.verify.toFixed(2)} s`,
          );
          return { ...r, phases, targetInstances: await countInstances(ta) };
        };
        const doChain = async () => {
          log(`[${round + 1}/${runs}] DCMTK movescu → storescp, storescu → Orthanc …`);
          const r = await dcmtkChain(source, studyUids, tb, work);
          log(
            `  ${r.seconds.toFixed(2)} s (move ${r.moveSeconds.toFixed(2)} s, store ${r.storeSeconds.toFixed(2)} s)`,
          );
          return { ...r, targetInstances: await countInstances(tb) };
        };
        let p: Round['pacshift'];
        let c: Round['chain'];
        if (round % 2 === 0) {
          p = await doPacshift();
          c = await doChain();
        } else {
          c = await doChain();
          p = await doPacshift();
        }
        rounds.push({ pacshift: p, chain: c });
      } finally {
        await Promise.all(targets.map((t) => t.stop()));
      }
    }
  } finally {
    await source.stop();
  }

  const pS = median(rounds.map((r) => r.pacshift.seconds));
  const cS = median(rounds.map((r) => r.chain.seconds));
  const rss = Math.max(...rounds.map((r) => r.pacshift.peakRssMb));
  const rssMedian = median(rounds.map((r) => r.pacshift.peakRssMb));
  const n = set.files.length;
  const complete = rounds.every(
    (r) => r.pacshift.targetInstances === n && r.chain.targetInstances === n && r.pacshift.exit === 0,
  );
  const verify = rounds[0]?.pacshift.summary?.verify as { instances?: Record<string, number> } | undefined;
  console.log(
    `\nnpm run bench:migrate ${process.argv.slice(2).join(' ')} — ${started.toISOString().slice(0, 10)}, node ${process.version}, ` +
      `pacshift ${o.tsx ? 'via tsx' : 'built JS'}, ${n} instances (${(set.bytes / 1e9).toFixed(2)} GB) in ${studyCount} studies, ` +
      `concurrency ${JSON.stringify(concurrency) === '{}' ? 'plan defaults' : JSON.stringify(concurrency)}, median of ${runs}\n`,
  );
  const rows = [
    ['path', 'wall s', 'inst/s', 'peak RSS MB', 'at target'],
    [
      'pacshift migrate (move, store, verify attributes)',
      pS.toFixed(2),
      (n / pS).toFixed(0),
      rss.toFixed(0),
      rounds.map((r) => r.pacshift.targetInstances).join('/'),
    ],
    [
      '  of which inventory',
      median(rounds.map((r) => r.pacshift.phases?.inventory ?? 0)).toFixed(2),
      '',
      '',
      '',
    ],
    [
      '  of which retrieve + store',
      median(rounds.map((r) => r.pacshift.phases?.transfer ?? 0)).toFixed(2),
      '',
      '',
      '',
    ],
    [
      '  of which verification',
      median(rounds.map((r) => r.pacshift.phases?.verify ?? 0)).toFixed(2),
      '',
      '',
      '',
    ],
    [
      'DCMTK movescu → storescp, storescu → Orthanc',
      cS.toFixed(2),
      (n / cS).toFixed(0),
      '',
      rounds.map((r) => r.chain.targetInstances).join('/'),
    ],
    ['  of which movescu', median(rounds.map((r) => r.chain.moveSeconds)).toFixed(2), '', '', ''],
    ['  of which storescu', median(rounds.map((r) => r.chain.storeSeconds)).toFixed(2), '', '', ''],
  ];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  for (const r of rows) console.log(`| ${r.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`);
  const ratio = cS / pS;
  console.log(
    `\nratio chain / pacshift: ${ratio.toFixed(2)} (≥ 1: pacshift no slower); pacshift peak RSS ${rss.toFixed(0)} MB at most, median ${rssMedian.toFixed(0)} MB (budget ${RSS_BUDGET_MB} MB)`,
  );
  if (verify?.instances) console.log(`pacshift verification: ${JSON.stringify(verify.instances)}`);
  const verdicts: string[] = [];
  if (!complete)
    verdicts.push('a path did not bring every instance to its target (or migrate did not end done)');
  if (ratio < 1) verdicts.push(`pacshift slower than the DCMTK chain (${ratio.toFixed(2)})`);
  if (rss >= RSS_BUDGET_MB) verdicts.push(`pacshift RSS ${rss.toFixed(0)} MB ≥ ${RSS_BUDGET_MB} MB`);
  console.log(
    verdicts.length ? `\nbelow target:\n${verdicts.map((v) => `- ${v}`).join('\n')}` : '\nevery target met',
  );
  const jsonOut = o.json ?? join(ROOT, 'bench/out/migrate.json');
  await mkdir(resolve(jsonOut, '..'), { recursive: true });
  await writeFile(
    jsonOut,
    JSON.stringify(
      { date: started.toISOString(), node: process.version, instances: n, bytes: set.bytes, rounds },
      null,
      2,
    ),
  );
  log(`raw results: ${jsonOut}`);
  if (verdicts.length) process.exitCode = 1;
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.stack : e);
  process.exitCode = 1;
});
