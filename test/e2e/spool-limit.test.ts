/**
 * A spool far smaller than what moves (issue 7, item 12): Orthanc → Orthanc with generated studies
 * whose total is many times `spool.maxBytes`. The migration finishes (more slowly) with every instance
 * verified at the target (Orthanc's REST API), the spool never holds more than its limit (its folder
 * sampled during the run, half-received files included), and nothing is blamed on the source: no job
 * failed, no study failed or dead.
 *
 * Four cases: studies of one size (admission alone keeps the spool under its limit); studies of mixed
 * sizes, where the size estimate (a DIMSE inventory gives no sizes: the mean of what arrived) admits too
 * much, so our listener refuses instances beyond the limit (A700 "spool full"): those studies are
 * released as "spool full" (events, no attempt) and moved later; and a spool disk smaller than
 * spool.maxBytes (a 5 MiB tmpfs; needs root, skipped otherwise): the disk answers ENOSPC, our listener
 * refuses with A700, and the instance outcomes say "spool full … (ENOSPC)" naming the spool, never the
 * source's status; and studies each larger than the spool: the limit holds for them too (it has no
 * exception), each round stores what fitted before the study is released, and the rest follows.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CODE_ACTIONS } from '../../src/report/actions.js';
import { collectReport } from '../../src/report/collect.js';
import { openMigration } from '../../src/run/context.js';
import { accountFor, allLedger, orthancHoldings, stateContradictions } from '../harness/accounting.js';
import { generateStudies, type GeneratedStudies } from '../harness/generated-studies.js';
import { e2eDir, startMigrate, writePlan } from '../harness/migration.js';
import { startOrthanc, type Orthanc } from '../harness/orthanc.js';
import { freePort } from '../harness/ports.js';
import { peers } from '../harness/process.js';
import { folderBytes } from '../harness/tmp.js';

const MiB = 1024 * 1024;
/** 12 studies of 8 images of 0.5 MiB: 4 MiB a study, 48 MiB in all, through a 6 MiB spool. */
const MAX_BYTES = 6 * MiB;

interface Case {
  name: string;
  rows: number | ((study: number) => number);
  /** Whether the listener must have refused instances (the estimate admitted too much, or the disk is full). */
  refusals: boolean;
  /** The spool on a tmpfs of this many MiB (root only), spool.maxBytes far above it. */
  tmpfsMiB?: number;
  /** Studies larger than the spool: `studies` of 8 images through a spool of `maxBytes`. */
  larger?: { studies: number; maxBytes: number };
}

const CASES: Case[] = [
  { name: 'studies of one size', rows: 512, refusals: false },
  // Small studies first (the engine claims the newest, highest-numbered, studies first), then large ones.
  { name: 'studies of mixed sizes', rows: (s) => (s > 8 ? 128 : 512), refusals: true },
  { name: 'a spool disk smaller than spool.maxBytes (ENOSPC)', rows: 512, refusals: true, tmpfsMiB: 5 },
  // Each study (4 MiB) larger than the spool: moved in parts, each what fits, never beyond the limit.
  {
    name: 'studies larger than the spool',
    rows: 512,
    refusals: true,
    larger: { studies: 2, maxBytes: 3 * MiB },
  },
];

/** Mounts a tmpfs of `mib` MiB on `dir`; false when this process may not (not root). */
function mountTmpfs(dir: string, mib: number): boolean {
  mkdirSync(dir, { recursive: true });
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${mib}m`, 'tmpfs', dir], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

const LIMIT_CAUSE =
  /^refused by our listener: spool full: its limit of \d+ bytes \(spool\.maxBytes\) is reached$/;
const ENOSPC_CAUSE =
  /^refused by our listener: spool full: no space left on the disk of \S+spool \(ENOSPC\)$/;

describe.skipIf(!peers.orthanc).each(CASES)(
  'migrate through a spool far smaller than the studies: $name',
  (c) => {
    let work: ReturnType<typeof e2eDir>;
    let source: Orthanc;
    let target: Orthanc;
    let gen: GeneratedStudies;
    let planPath: string;
    let mounted = false;
    const spoolDir = () => join(work.dir, 'spool');

    beforeAll(async () => {
      work = e2eDir('e2e-spool-limit');
      if (c.tmpfsMiB) {
        mounted = mountTmpfs(spoolDir(), c.tmpfsMiB);
        if (!mounted) return;
      }
      const localPort = await freePort();
      const us = { pacshift: { aeTitle: 'PACSHIFT', host: '127.0.0.1', port: localPort } };
      [source, target] = await Promise.all([
        startOrthanc({ aeTitle: 'OLDPACS', modalities: us }),
        startOrthanc({ aeTitle: 'NEWPACS', modalities: us }),
      ]);
      gen = await generateStudies(join(work.dir, 'generated'), {
        studies: c.larger?.studies ?? 12,
        instances: 8,
        rows: c.rows,
      });
      for (const f of gen.files) await source.upload(f);
      planPath = writePlan({
        dir: work.dir,
        local: { port: localPort },
        source: { host: source.host, port: source.dicomPort, calledAe: source.aeTitle, maxAssociations: 4 },
        target: { host: target.host, port: target.dicomPort, calledAe: target.aeTitle },
        extra: {
          spool: { dir: spoolDir(), maxBytes: c.tmpfsMiB ? 64 * MiB : (c.larger?.maxBytes ?? MAX_BYTES) },
          transfer: { quietPeriod: '1s', retries: { maxAttempts: 3, backoff: { base: '1s', cap: '2s' } } },
          // Verification's C-GET copies go to <spool>/verify: on the small disk, compare without them.
          verify: {
            level: c.tmpfsMiB ? 'presence' : 'pixels',
            sample: { percent: 100, minStudies: 0, seed: 1 },
          },
        },
      });
    }, 300_000);

    afterAll(async () => {
      await Promise.all([source?.stop(), target?.stop()]);
      if (mounted) execFileSync('umount', [spoolDir()]);
      work?.remove();
    });

    it('finishes with every instance verified, the spool never over its limit, nothing blamed on the source', async (t) => {
      if (c.tmpfsMiB && !mounted) t.skip();
      const limit = c.tmpfsMiB ? c.tmpfsMiB * MiB : (c.larger?.maxBytes ?? MAX_BYTES);
      if (c.larger) expect(gen.largestStudyBytes).toBeGreaterThan(limit);
      else {
        expect(gen.totalBytes).toBeGreaterThan(4 * limit);
        expect(gen.largestStudyBytes).toBeLessThan(limit);
      }
      const incoming = join(spoolDir(), 'incoming');
      const child = startMigrate(planPath, [], { logFile: join(work.dir, 'migrate.log') });
      let maxSeen = 0;
      const sampler = setInterval(() => {
        maxSeen = Math.max(maxSeen, folderBytes(incoming));
      }, 20);
      const killer = setTimeout(() => child.kill('SIGKILL'), 400_000);
      const exit = await child.exited;
      clearInterval(sampler);
      clearTimeout(killer);
      const ctx = await openMigration(planPath);
      try {
        const targetHoldings = await orthancHoldings(target);
        const acc = await accountFor(ctx.store, (await orthancHoldings(source)).keys(), targetHoldings);
        const failedJobs = await ctx.store.listEvents({ kind: 'job.failed' });
        const spoolFull = await ctx.store.listEvents({ kind: 'spool.full' });
        const refused = (await ctx.store.listInstanceOutcomes()).filter((o) => o.phase === 'retrieve');
        console.log(
          'spool limit',
          JSON.stringify({
            case: c.name,
            exit: exit.code,
            limit,
            maxSeen,
            totalBytes: gen.totalBytes,
            verified: acc.verified.length,
            source: acc.source,
            jobFailed: failedJobs.length,
            spoolFull: spoolFull.length,
            refusedInstances: refused.length,
          }),
        );
        if (exit.code !== 0) console.log(child.log().slice(-4000));
        expect(maxSeen).toBeLessThanOrEqual(limit);
        if (c.refusals) expect(spoolFull.length).toBeGreaterThan(0);
        // What the state says of the refused instances: our listener and our spool, never the source.
        for (const o of refused)
          expect({ status: o.status, category: o.category, cause: o.cause }).toEqual({
            status: 0xa700,
            category: 'spool-full',
            cause: expect.stringMatching(c.tmpfsMiB ? ENOSPC_CAUSE : LIMIT_CAUSE),
          });
        if (c.refusals) {
          // The report explains them as the spool's, not as the A700 our listener answered.
          const report = await collectReport(ctx.store, { name: 'e2e', logPhi: false });
          const group = report.instanceFailures.find((g) => g.category === 'spool-full');
          expect(group).toMatchObject({
            phase: 'retrieve',
            status: '0xA700',
            action: CODE_ACTIONS.SPOOL_FULL,
          });
        }
        expect(failedJobs.map((e) => e.detail)).toEqual([]);
        expect((await allLedger(ctx.store)).filter((r) => r.status !== 'verified')).toEqual([]);
        expect(acc.source).toBe(gen.files.length);
        expect(acc.verified.length).toBe(acc.source);
        expect(acc.unaccounted).toEqual([]);
        expect(exit.code).toBe(0);
        const problems = await stateContradictions(
          ctx.store,
          targetHoldings,
          { incoming, quarantine: join(spoolDir(), 'quarantine') },
          { finished: true },
        );
        expect(problems).toEqual([]);
      } finally {
        await ctx.close();
      }
    }, 600_000);
  },
);
