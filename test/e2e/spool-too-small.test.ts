/**
 * An instance larger than the whole spool (issue 7, item 12's last corner): the listener refuses it by
 * spool.maxBytes on every round, even alone in an empty spool, so retrying would never end. Orthanc →
 * Orthanc with one study of two 2 MiB images and one of small images through a 1 MiB spool: the small
 * study ends verified, the large one failed with SPOOL_TOO_SMALL (its instances' outcomes name the
 * limit and the fix), `migrate` ends by itself with exit 1, and the spool never went over its limit.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openMigration } from '../../src/run/context.js';
import { allLedger, orthancHoldings } from '../harness/accounting.js';
import { generateStudies, type GeneratedStudies } from '../harness/generated-studies.js';
import { e2eDir, startMigrate, writePlan } from '../harness/migration.js';
import { startOrthanc, type Orthanc } from '../harness/orthanc.js';
import { freePort } from '../harness/ports.js';
import { peers } from '../harness/process.js';
import { folderBytes } from '../harness/tmp.js';

const MiB = 1024 * 1024;

describe.skipIf(!peers.orthanc)('an instance larger than the whole spool', () => {
  let work: ReturnType<typeof e2eDir>;
  let source: Orthanc;
  let target: Orthanc;
  let gen: GeneratedStudies;
  let planPath: string;

  beforeAll(async () => {
    work = e2eDir('e2e-spool-too-small');
    const localPort = await freePort();
    const us = { pacshift: { aeTitle: 'PACSHIFT', host: '127.0.0.1', port: localPort } };
    [source, target] = await Promise.all([
      startOrthanc({ aeTitle: 'OLDPACS', modalities: us }),
      startOrthanc({ aeTitle: 'NEWPACS', modalities: us }),
    ]);
    // Study 1: two 1024×1024 16-bit images (2 MiB each); study 2: four 128×128 images.
    gen = await generateStudies(join(work.dir, 'generated'), {
      studies: 2,
      instances: 2,
      rows: (s) => (s === 1 ? 1024 : 128),
    });
    for (const f of gen.files) await source.upload(f);
    planPath = writePlan({
      dir: work.dir,
      local: { port: localPort },
      source: { host: source.host, port: source.dicomPort, calledAe: source.aeTitle },
      target: { host: target.host, port: target.dicomPort, calledAe: target.aeTitle },
      extra: {
        spool: { dir: join(work.dir, 'spool'), maxBytes: 1 * MiB },
        transfer: { quietPeriod: '1s', retries: { maxAttempts: 3, backoff: { base: '1s', cap: '2s' } } },
      },
    });
  }, 300_000);

  afterAll(async () => {
    await Promise.all([source?.stop(), target?.stop()]);
    work?.remove();
  });

  it('fails that study with SPOOL_TOO_SMALL and its cause, moves the rest, and ends (exit 1)', async () => {
    const incoming = join(work.dir, 'spool', 'incoming');
    const child = startMigrate(planPath, [], { logFile: join(work.dir, 'migrate.log') });
    let maxSeen = 0;
    const sampler = setInterval(() => (maxSeen = Math.max(maxSeen, folderBytes(incoming))), 20);
    // Before the fix the large study was refused and released every 5 s for ever: the run never ended.
    const killer = setTimeout(() => child.kill('SIGKILL'), 150_000);
    const exit = await child.exited;
    clearInterval(sampler);
    clearTimeout(killer);
    if (exit.code !== 1) console.log(child.log().slice(-4000));
    expect(exit.code).toBe(1);
    expect(maxSeen).toBeLessThanOrEqual(1 * MiB);
    const ctx = await openMigration(planPath);
    try {
      const [large, small] = gen.studyUids;
      const ledger = new Map((await allLedger(ctx.store)).map((r) => [r.studyUid, r]));
      expect(ledger.get(small!)?.status).toBe('verified');
      expect(ledger.get(large!)).toMatchObject({ status: 'failed', errorCode: 'SPOOL_TOO_SMALL' });
      const outcomes = (await ctx.store.listInstanceOutcomes()).filter(
        (o) => o.category === 'spool-too-small',
      );
      expect(outcomes.length).toBeGreaterThan(0);
      for (const o of outcomes)
        expect(o.cause).toMatch(
          /larger than the whole spool \(spool\.maxBytes 1048576 bytes.*raise spool\.maxBytes/,
        );
      // Nothing of the large study reached the target; the small one is there whole.
      const held = await orthancHoldings(target);
      expect(held.size).toBe(2);
    } finally {
      await ctx.close();
    }
  }, 300_000);
});
