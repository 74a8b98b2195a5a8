/**
 * Who may send us data (issue 7 item 16). The migration's C-MOVE listener accepted the source's AE title from any
 * host and any instance: a forged copy sent under that title replaced the real one, and `pacshift verify` reported
 * it verified while the target held the forged PatientID. Now the listener accepts only the source's AE from the
 * source's host (by default) and only instances a running retrieve waits for (with the Move Originator Message ID
 * of our C-MOVE when the source sends one, as Orthanc does); anything else is refused and logged. And verification
 * compares what arrived with what the source's inventory holds, so a forged copy that got in is not verified.
 *
 * - Orthanc → Orthanc, `pacshift migrate` as a child process, while DCMTK's storescu sends a forged copy (same SOP
 *   Instance UID, another PatientID, written with dcmodify into a temp file) to the listener under the source's AE
 *   title, over and over: refused, never verified, the target holds the real PatientID.
 * - A forged copy already in the spool when the migration starts (it arrived before, while nobody checked): the
 *   engine sends it, and verification catches it (attribute mismatch, "source"), never verified.
 */
import { copyFileSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startArchive, type Archive } from '../../src/archive/archive.js';
import { readInstanceInfo } from '../../src/dicom/part10.js';
import { runVerify } from '../../src/verify/index.js';
import { corpusDir, hasCorpus } from '../harness/corpus.js';
import { e2eDir, writePlan } from '../harness/migration.js';
import { startOrthanc, type Orthanc } from '../harness/orthanc.js';
import { openPipeline } from '../harness/pipeline.js';
import { freePort } from '../harness/ports.js';
import { peers, runTool } from '../harness/process.js';
import { storescu } from '../harness/scu.js';
import { listenerBookOf } from '../../src/transfer/listener-book.js';

async function waitFor(ok: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** One study of explicit VR little endian MR files in 4 series (dcm_qa/dcm_qa_nih/20180918Si), and another study. */
const STUDY = 'dcm_qa/dcm_qa_nih/20180918Si';
const OTHER = 'highdicom/ct_image.dcm';
const FORGED_ID = 'FORGED-999';
/** An IPv4 address of this machine that is not loopback: a connection from it is not from source.host. */
const external = Object.values(networkInterfaces())
  .flat()
  .find((a) => a && a.family === 'IPv4' && !a.internal)?.address;

async function siemensFiles(): Promise<string[]> {
  const { readdirSync } = await import('node:fs');
  return readdirSync(join(corpusDir(), STUDY), { recursive: true })
    .map(String)
    .filter((f) => f.endsWith('.dcm'))
    .sort()
    .map((f) => join(corpusDir(), STUDY, f));
}

/** A copy of `file` whose PatientID is FORGED_ID (DCMTK dcmodify on a temp copy; the corpus is read only). */
async function forge(file: string, dir: string): Promise<{ path: string; uid: string }> {
  const path = join(dir, 'forged.dcm');
  copyFileSync(file, path);
  const r = await runTool('dcmodify', ['-nb', '-m', `(0010,0020)=${FORGED_ID}`, path]);
  if (r.code !== 0) throw new Error(`dcmodify: ${r.stderr}`);
  const info = await readInstanceInfo(path);
  if (!info.ok) throw new Error(info.error.message);
  return { path, uid: info.value.sopInstanceUid };
}

async function orthancPatientIds(o: Orthanc, uid: string): Promise<string[]> {
  const ids = await o.rest.post<string[]>('/tools/find', {
    Level: 'Instance',
    Query: { SOPInstanceUID: uid },
  });
  const out: string[] = [];
  for (const id of ids) {
    const tags = await o.rest.get<Record<string, string>>(`/instances/${id}/simplified-tags`);
    out.push(tags.PatientID ?? '');
  }
  return out;
}

describe.skipIf(!peers.orthanc || !peers.dcmtk || !hasCorpus())(
  'a forged copy sent to the migration listener',
  () => {
    const work = e2eDir('forged');
    let source: Orthanc;
    let target: Orthanc;
    let localPort: number;

    beforeAll(async () => {
      localPort = await freePort();
      const us = { pacshift: { aeTitle: 'PACSHIFT', host: '127.0.0.1', port: localPort } };
      [source, target] = await Promise.all([
        startOrthanc({ aeTitle: 'OLDPACS', modalities: us }),
        startOrthanc({ aeTitle: 'NEWPACS', modalities: us }),
      ]);
      for (const f of [...(await siemensFiles()), join(corpusDir(), OTHER)]) await source.upload(f);
    }, 120_000);
    afterAll(async () => {
      await Promise.all([source?.stop(), target?.stop()]);
      work.remove();
    });

    it('during an Orthanc → Orthanc migration (storescu, the source AE title): refused, never verified', async () => {
      const dir = join(work.dir, 'during');
      mkdirSync(dir);
      const files = await siemensFiles();
      const forged = await forge(files[3]!, dir);
      const planPath = writePlan({
        dir,
        local: { port: localPort },
        source: { host: source.host, port: source.dicomPort, calledAe: source.aeTitle },
        target: { host: target.host, port: target.dicomPort, calledAe: target.aeTitle },
        extra: {
          transfer: { quietPeriod: '1s', retries: { maxAttempts: 3, backoff: { base: '1s', cap: '2s' } } },
          verify: { sample: { percent: 100, minStudies: 0, seed: 1 } },
        },
      });
      // The listener on every interface, to show the host check: the plan's default allows OLDPACS from
      // source.host (127.0.0.1) only.
      writeFileSync(
        planPath,
        JSON.stringify({
          ...JSON.parse(readFileSync(planPath, 'utf8')),
          local: { aeTitle: 'PACSHIFT', host: '0.0.0.0', port: localPort },
        }),
      );
      const logs: string[] = [];
      const p = await openPipeline(planPath, (m) => logs.push(m));
      const forger = (host: string) =>
        storescu({ host, port: localPort, aeTitle: 'PACSHIFT' }, [forged.path], {
          callingAe: 'OLDPACS',
          networkTimeoutS: 5,
        });
      try {
        await p.prepare();
        // From another address of this machine: the source's AE title is not enough.
        if (external) {
          const r = await forger(external);
          expect(r.ok).toBe(false);
          expect(logs.join('\n')).toMatch(/refused an association from .*OLDPACS is not allowed from/);
        }
        // From the source's host, while no retrieve waits for it: refused (0124), recorded with its UID.
        await forger('127.0.0.1');
        expect(p.receiver.refused).toBeGreaterThanOrEqual(1);
        expect(logs.join('\n')).toContain(
          `receiver refused instance ${forged.uid} from OLDPACS at 127.0.0.1: 0x0124`,
        );
        // During the migration, again and again.
        let running = true;
        let sent = 0;
        const loop = (async () => {
          while (running) {
            await forger('127.0.0.1').catch(() => undefined);
            sent++;
          }
        })();
        await p.engine();
        await runVerify(p.ctx, { sample: { percent: 100, minStudies: 0 } });
        running = false;
        await loop;
        const inst = await p.ctx.store.getInstance(forged.uid);
        const atTarget = await orthancPatientIds(target, forged.uid);
        const verified = inst?.verifyOutcome === 'verified';
        console.log(
          `forged copies sent ${sent + 1}, refused ${p.receiver.refused}; instance ${inst?.verifyOutcome}; sent with PatientID ${inst?.header?.PatientID === FORGED_ID ? 'forged' : 'real'}; target holds ${atTarget.map((x) => (x === FORGED_ID ? 'forged' : 'real')).join(', ')}`,
        );
        // Never verified while the target holds the forged PatientID, nor while what pacshift sent carries it.
        expect(verified && atTarget.includes(FORGED_ID)).toBe(false);
        expect(verified && inst?.header?.PatientID === FORGED_ID).toBe(false);
        // Verified means the target holds the real one only.
        if (verified) expect(atTarget).toEqual([atTarget[0]]);
      } finally {
        await p.close();
      }
    }, 300_000);
  },
);

describe.skipIf(!peers.dcmtk || !hasCorpus())(
  'a forged copy that got in while a retrieve waited for it',
  () => {
    const work = e2eDir('forged-spool');
    let src: Archive;
    let dst: Archive;

    afterAll(async () => {
      await src?.close();
      await dst?.close();
      work.remove();
    });

    it('is sent, and caught by verification against the source inventory: not verified', async () => {
      const served = join(work.dir, 'served');
      mkdirSync(served);
      const files = await siemensFiles();
      for (const [i, f] of files.entries()) symlinkSync(f, join(served, `${i}.dcm`));
      const forged = await forge(files[2]!, work.dir);
      const localPort = await freePort();
      src = await startArchive({
        dir: served,
        port: 0,
        host: '127.0.0.1',
        aeTitle: 'OLDPACS',
        peers: { PACSHIFT: { host: '127.0.0.1', port: localPort } },
      });
      dst = await startArchive({
        dir: join(work.dir, 'target'),
        port: 0,
        host: '127.0.0.1',
        aeTitle: 'NEWPACS',
      });
      const planPath = writePlan({
        dir: work.dir,
        local: { port: localPort },
        source: { host: '127.0.0.1', port: src.port, calledAe: 'OLDPACS' },
        target: { host: '127.0.0.1', port: dst.port, calledAe: 'NEWPACS' },
        extra: { transfer: { quietPeriod: '300ms' } },
      });
      const p = await openPipeline(planPath);
      try {
        await p.prepare();
        // The forger is quick: its copy (storescu, the source's AE title, no Move Originator Message ID) lands
        // while a retrieve waits for that UID, before the source's own copy. The listener takes it on its UID
        // and records that it did.
        const w = listenerBookOf(p.spool).wait('forger-window', [forged.uid]);
        const r = await storescu({ host: '127.0.0.1', port: localPort, aeTitle: 'PACSHIFT' }, [forged.path], {
          callingAe: 'OLDPACS',
        });
        w.done();
        expect(r.ok, r.stderr).toBe(true);
        await waitFor(() => p.spool.get(forged.uid).length > 0);
        await p.engine();
        await runVerify(p.ctx, { sample: { percent: 100, minStudies: 0 } });
        const inst = await p.ctx.store.getInstance(forged.uid);
        expect(inst?.header?.PatientID).toBe(FORGED_ID); // what went to the target
        expect(inst?.verifyOutcome).toBe('attribute-mismatch');
        expect(JSON.stringify(inst?.verifyDetail)).toMatch(/"keyword":"PatientID","seenIn":"source"/);
        // Every other instance of the study: verified.
        const others = (await p.ctx.store.listInstances(inst!.studyUid, 'all')).filter(
          (i) => i.sopInstanceUid !== forged.uid,
        );
        expect(others.map((i) => i.verifyOutcome)).toEqual(others.map(() => 'verified'));
      } finally {
        await p.close();
      }
    }, 120_000);
  },
);
