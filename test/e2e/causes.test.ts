/**
 * Causes that name what happened (issue 7 item 7), against Orthanc and pacshift's own listener:
 * - instances whose UIDs a File Meta cannot hold (PS3.5 9.1), held by an Orthanc source: our listener refuses
 *   their C-MOVE sub-operations (0117). Orthanc then answers the C-MOVE with A702 "out of resources"; before,
 *   that was their cause, and the study was retried with back-off until its attempts ran out. Now: "refused by
 *   pacshift's listener (0x0117 …)", recorded at once, not asked for again, the rest of the study verified.
 * - an object Orthanc (as the target) aborts the association on — a SOP Instance UID of 68 characters: before,
 *   NO_ANSWER, retried five times, "check its load". Now it is sent once more on a new association, aborted
 *   again, and quarantined with a cause naming the abort, the study's other instances verified.
 */
import { mkdirSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readInstanceInfo } from '../../src/dicom/part10.js';
import { openMigration } from '../../src/run/context.js';
import { hasCorpus } from '../../src/util/corpus.js';
import { allLedger } from '../harness/accounting.js';
import { corpusDir } from '../harness/corpus.js';
import { e2eDir, runMigrate, writePlan } from '../harness/migration.js';
import { startOrthanc, type Orthanc } from '../harness/orthanc.js';
import { freePort } from '../harness/ports.js';
import { peers } from '../harness/process.js';

/** A SOP Instance UID of 64 hexadecimal digits: not a UID (PS3.5 9.1). */
const BAD_UIDS = ['pydicom/pydicom-data/bad_sequence.dcm'];
const GOOD = ['highdicom/ct_image.dcm', 'highdicom/sr_document.dcm'];
const LONG_UID = 'weasis-dicom-tools/dcm4che3/img/jpeg2000-multiframe-multifragments.dcm';

const uidOf = async (rel: string) => {
  const r = await readInstanceInfo(join(corpusDir(), rel));
  if (!r.ok) throw new Error(`${rel}: ${r.error.message}`);
  return { sop: r.value.sopInstanceUid, study: r.value.studyInstanceUid! };
};

const transfer = { quietPeriod: '1s', retries: { maxAttempts: 3, backoff: { base: '1s', cap: '2s' } } };
const verify = { sample: { percent: 100, minStudies: 0, seed: 1 } };

describe.skipIf(!peers.orthanc || !hasCorpus())('causes that name what happened', () => {
  let work: ReturnType<typeof e2eDir>;
  let source: Orthanc;
  let target: Orthanc;
  let localPort: number;

  beforeAll(async () => {
    work = e2eDir('e2e-causes');
    localPort = await freePort();
    const us = { pacshift: { aeTitle: 'PACSHIFT', host: '127.0.0.1', port: localPort } };
    [source, target] = await Promise.all([
      startOrthanc({ aeTitle: 'OLDPACS', modalities: us }),
      startOrthanc({ aeTitle: 'NEWPACS', modalities: us }),
    ]);
  }, 120_000);
  afterAll(async () => {
    await Promise.all([source?.stop(), target?.stop()]);
    work?.remove();
  });

  it('instances our listener refuses (UIDs a file meta cannot hold): that cause, at once, no back-off', async () => {
    for (const f of [...BAD_UIDS, ...GOOD]) await source.upload(join(corpusDir(), f));
    const dir = join(work.dir, 'listener');
    mkdirSync(dir);
    const planPath = writePlan({
      dir,
      local: { port: localPort },
      source: { host: source.host, port: source.dicomPort, calledAe: source.aeTitle },
      target: { host: target.host, port: target.dicomPort, calledAe: target.aeTitle },
      extra: { transfer, verify },
    });
    const run = await runMigrate(planPath, [], { logFile: join(dir, 'migrate.log'), timeoutMs: 300_000 });
    const ctx = await openMigration(planPath);
    try {
      const outcomes = new Map((await ctx.store.listInstanceOutcomes()).map((o) => [o.sopInstanceUid, o]));
      for (const f of BAD_UIDS) {
        const { sop, study } = await uidOf(f);
        const o = outcomes.get(sop);
        expect({ f, cause: o?.cause }).toMatchObject({
          f,
          cause: expect.stringMatching(
            /refused by pacshift's listener \(0x0117 SOP Instance UID violates the UID rules/,
          ),
        });
        const job = (await ctx.store.getJobByStudy(study))!;
        // Quarantined at once with the status our listener answered; no failed attempt (before: the attempts were
        // used up on 0xA702, with back-off).
        const q = (await ctx.store.listQuarantine()).find((x) => x.sopInstanceUid === sop);
        expect({ status: q?.status, category: q?.category }).toEqual({
          status: 0x0117,
          category: 'refused-by-listener',
        });
        expect({ f, attempts: job.attempts, code: job.lastErrorCode }).toEqual({
          f,
          attempts: 0,
          code: null,
        });
      }
      const ledger = await allLedger(ctx.store);
      expect(ledger.filter((r) => r.errorCode === '0xA702')).toEqual([]);
      for (const f of GOOD) {
        const inst = await ctx.store.getInstance((await uidOf(f)).sop);
        expect({ f, v: inst?.verifyOutcome }).toEqual({ f, v: 'verified' });
      }
    } finally {
      await ctx.close();
    }
    expect(run.log).not.toMatch(/out of resources/i);
  }, 300_000);

  it('an object the target aborts the association on: quarantined after one more try, the abort named', async () => {
    const dir = join(work.dir, 'abort');
    const folder = join(dir, 'source');
    mkdirSync(folder, { recursive: true });
    // Read in place: the folder source holds links to the corpus files.
    for (const f of [LONG_UID, ...GOOD])
      symlinkSync(join(corpusDir(), f), join(folder, f.replace(/\//g, '_')));
    const planPath = writePlan({
      dir,
      local: { port: await freePort() },
      source: { host: '-', port: 1, calledAe: '-' },
      target: { host: target.host, port: target.dicomPort, calledAe: target.aeTitle },
      extra: { source: { type: 'folder', path: folder }, transfer, verify },
    });
    const run = await runMigrate(planPath, [], { logFile: join(dir, 'migrate.log'), timeoutMs: 300_000 });
    const ctx = await openMigration(planPath);
    try {
      const { sop, study } = await uidOf(LONG_UID);
      const q = (await ctx.store.listQuarantine()).find((x) => x.sopInstanceUid === sop);
      expect(q?.cause).toMatch(
        /the target aborted the association on this instance, again on a new association/,
      );
      expect(q?.cause).not.toMatch(/load/);
      const job = (await ctx.store.getJobByStudy(study))!;
      expect(job.attempts).toBe(0); // no failed attempt
      expect(job.lastErrorCode).not.toBe('NO_ANSWER');
      for (const f of GOOD) {
        const inst = await ctx.store.getInstance((await uidOf(f)).sop);
        expect({ f, v: inst?.verifyOutcome }).toEqual({ f, v: 'verified' });
      }
    } finally {
      await ctx.close();
    }
    void run;
  }, 300_000);
});
