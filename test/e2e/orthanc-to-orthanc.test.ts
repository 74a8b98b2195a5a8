/**
 * End to end against real peers: the whole corpus uploaded into one Orthanc (through its REST API),
 * `pacshift migrate` (a child process) into another Orthanc, then every SOP Instance UID the source
 * holds is looked up in the target through Orthanc's own REST API. Each is either verified by pacshift
 * and held exactly once by the target, or reported with its cause (quarantine, instance outcome,
 * ledger) — none silently missing. The state afterwards has no contradictions.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openMigration } from '../../src/run/context.js';
import { hasCorpus } from '../../src/util/corpus.js';
import {
  accountFor,
  allLedger,
  orthancCopies,
  orthancHoldings,
  stateContradictions,
  type Holdings,
} from '../harness/accounting.js';
import { corpusFiles } from '../harness/corpus.js';
import { e2eDir, runMigrate, writePlan } from '../harness/migration.js';
import { startOrthanc, type Orthanc } from '../harness/orthanc.js';
import { freePort } from '../harness/ports.js';
import { peers } from '../harness/process.js';

/** Orthanc 1.10.1 dies (SIGSEGV) on this file's upload: left out of the source. */
const ORTHANC_CRASHES = ['orthanc-tests/2026-05-06-Deeply-Nested-Sequence.dcm'];

describe.skipIf(!peers.orthanc || !hasCorpus())('migrate: Orthanc → Orthanc, the whole corpus', () => {
  let work: ReturnType<typeof e2eDir>;
  let tmp: string;
  let source: Orthanc;
  let target: Orthanc;
  let planPath: string;
  let sourceHoldings: Holdings;
  const uploadFailures: string[] = [];

  beforeAll(async () => {
    work = e2eDir('e2e-o2o');
    tmp = work.dir;
    const localPort = await freePort();
    const us = { pacshift: { aeTitle: 'PACSHIFT', host: '127.0.0.1', port: localPort } };
    [source, target] = await Promise.all([
      startOrthanc({ aeTitle: 'OLDPACS', modalities: us }),
      startOrthanc({ aeTitle: 'NEWPACS', modalities: us }),
    ]);
    for (const f of corpusFiles().filter((p) => !ORTHANC_CRASHES.some((c) => p.endsWith(c)))) {
      await source.upload(f).catch((e: Error) => uploadFailures.push(`${f}: ${e.message.slice(0, 120)}`));
    }
    if (source.process.exitStatus())
      throw new Error(`source Orthanc died during the upload:\n${source.logTail(20)}`);
    sourceHoldings = await orthancHoldings(source);
    planPath = writePlan({
      dir: tmp,
      local: { port: localPort },
      source: { host: source.host, port: source.dicomPort, calledAe: source.aeTitle },
      target: { host: target.host, port: target.dicomPort, calledAe: target.aeTitle },
      extra: {
        transfer: { quietPeriod: '2s', retries: { maxAttempts: 3, backoff: { base: '1s', cap: '2s' } } },
        verify: { level: 'pixels', sample: { percent: 100, minStudies: 0, seed: 1 } },
      },
    });
  }, 600_000);

  afterAll(async () => {
    await Promise.all([source?.stop(), target?.stop()]);
    work?.remove();
  });

  it('every instance the source holds is verified at the target (Orthanc REST) or reported with its cause', async () => {
    const run = await runMigrate(planPath, [], { logFile: join(tmp, 'migrate.log'), timeoutMs: 900_000 });
    const ctx = await openMigration(planPath);
    try {
      const targetHoldings = await orthancHoldings(target);
      const acc = await accountFor(ctx.store, sourceHoldings.keys(), targetHoldings);
      const summary = {
        sourceFiles: corpusFiles().length,
        uploadFailures: uploadFailures.length,
        sourceInstances: acc.source,
        verified: acc.verified.length,
        withCause: acc.withCause.length,
        unaccounted: acc.unaccounted.length,
        verifiedButWrong: acc.verifiedButWrong.length,
        seconds: run.seconds,
        exit: run.code,
      };
      console.log('Orthanc → Orthanc', JSON.stringify(summary));
      for (const w of acc.withCause)
        console.log(
          `  not verified: ${w.sopInstanceUid} [${w.where} ${String(w.status)}] ${w.cause.slice(0, 200)} (at target: ${w.atTarget})`,
        );
      if (acc.unaccounted.length || acc.verifiedButWrong.length) console.log(run.log.slice(-5000));
      expect(acc.unaccounted).toEqual([]);
      // A retrieve failed by a status carries that status as its code (0xHHHH), for the report to explain.
      const miscoded = (await allLedger(ctx.store)).filter((r) => {
        const m = /^retrieve \S+: (0x[0-9A-F]{4}) /.exec(r.error ?? '');
        return m && r.errorCode !== m[1];
      });
      expect(miscoded.map((r) => [r.errorCode, r.error])).toEqual([]);
      expect(acc.verifiedButWrong).toEqual([]);
      // What Orthanc's own REST API says, one UID at a time, for the verified ones.
      for (const uid of acc.verified)
        expect({ uid, copies: await orthancCopies(target, uid) }).toEqual({ uid, copies: 1 });
      expect(acc.verified.length).toBeGreaterThan(0.9 * acc.source);
      const problems = await stateContradictions(
        ctx.store,
        targetHoldings,
        {
          incoming: join(ctx.plan.spool.dir, 'incoming'),
          quarantine: join(ctx.plan.spool.dir, 'quarantine'),
        },
        { finished: true },
      );
      expect(problems).toEqual([]);
    } finally {
      await ctx.close();
    }
  }, 900_000);
});
