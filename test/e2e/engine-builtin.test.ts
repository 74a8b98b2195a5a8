/**
 * The migration engine in-process between two built-in archives (no Debian package needed), where a
 * test has to act between two engine runs: an instance the source cannot deliver for a while, the
 * codes a failed retrieve leaves in the ledger, what the engine leaves behind on its abort signal.
 */
import { getEventListeners } from 'node:events';
import { readFileSync, writeFileSync } from 'node:fs';
import { readdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startArchive, type Archive } from '../../src/archive/archive.js';
import { readInstanceInfo } from '../../src/dicom/part10.js';
import { generateDemoArchive, type DemoManifest } from '../../src/demo/generate.js';
import { Spool } from '../../src/transfer/spool.js';
import { runVerify } from '../../src/verify/index.js';
import { allLedger } from '../harness/accounting.js';
import { e2eDir, writePlan } from '../harness/migration.js';
import { openPipeline, type Pipeline } from '../harness/pipeline.js';
import { freePort } from '../harness/ports.js';

describe('migration engine between built-in archives', () => {
  let work: ReturnType<typeof e2eDir>;
  let source: Archive;
  let target: Archive;
  let manifest: DemoManifest;
  let p: Pipeline;

  beforeEach(async () => {
    work = e2eDir('e2e-engine');
    const localPort = await freePort();
    manifest = await generateDemoArchive(join(work.dir, 'source-archive'), { studiesPerPatient: 2, seed: 3 });
    const us = { PACSHIFT: { host: '127.0.0.1', port: localPort } };
    source = await startArchive({
      dir: manifest.dir,
      port: 0,
      host: '127.0.0.1',
      aeTitle: 'OLDPACS',
      peers: us,
    });
    target = await startArchive({
      dir: join(work.dir, 'target-archive'),
      port: 0,
      host: '127.0.0.1',
      aeTitle: 'NEWPACS',
    });
    const planPath = writePlan({
      dir: work.dir,
      local: { port: localPort },
      source: { host: '127.0.0.1', port: source.port, calledAe: 'OLDPACS' },
      target: { host: '127.0.0.1', port: target.port, calledAe: 'NEWPACS' },
      extra: {
        transfer: {
          quietPeriod: '500ms',
          retries: { maxAttempts: 5, backoff: { base: '200ms', cap: '1s' } },
        },
      },
    });
    p = await openPipeline(planPath);
    await p.prepare();
  }, 60_000);

  afterEach(async () => {
    await p?.close();
    await source?.close();
    await target?.close();
    work?.remove();
  });

  /** The source file of each SOP Instance UID. */
  async function sourceFiles(): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    for (const f of await readdir(manifest.dir)) {
      const r = await readInstanceInfo(join(manifest.dir, f));
      if (r.ok) out.set(r.value.sopInstanceUid, join(manifest.dir, f));
    }
    return out;
  }

  async function studyWith(n: (count: number) => boolean): Promise<{ studyUid: string; uids: string[] }> {
    for (const row of await allLedger(p.ctx.store)) {
      const uids = (await p.ctx.store.listInstances(row.studyUid, 'all')).map((i) => i.sopInstanceUid);
      if (n(uids.length)) return { studyUid: row.studyUid, uids };
    }
    throw new Error('no such study in the demo data');
  }

  it('leaves no listener on its abort signal', async () => {
    const ac = new AbortController();
    const r = await p.engine({ signal: ac.signal });
    expect(r.finished).toBeGreaterThan(3);
    // Its pauses (at most 1 s each) may still be pending; once they are over, nothing is left behind.
    await new Promise((res) => setTimeout(res, 1100));
    expect(getEventListeners(ac.signal, 'abort').length).toBe(0);
  }, 60_000);

  it('a study whose instance came late is stored without leaving second copies in the spool', async () => {
    const { studyUid, uids } = await studyWith((n) => n >= 3);
    const files = await sourceFiles();
    const late = uids[1]!;
    const hidden = join(work.dir, 'hidden.dcm');
    await rename(files.get(late)!, hidden);
    await p.engine();
    const job = await p.ctx.store.getJobByStudy(studyUid);
    expect(job?.state).toBe('retrieving'); // waits for its retry
    expect(job?.lastErrorCode).toMatch(/NOT_DELIVERED|0xA702/);
    // The instance is back at the source; the retry fetches what is missing.
    await rename(hidden, files.get(late)!);
    await source.reindex();
    await new Promise((r) => setTimeout(r, 1200)); // back-off (at most 1 s)
    await p.engine();
    expect((await p.ctx.store.getJobByStudy(studyUid))?.state).toBe('stored');
    expect(await readdir(p.spool.incoming)).toEqual([]);
    for (const u of uids) expect(p.spool.get(u)).toEqual([]);
  }, 60_000);

  it('a restart frees the spooled files of instances stored before a crash (recorded stored, not deleted yet)', async () => {
    // What a run killed between recording its instances stored and deleting their files (send.ts)
    // leaves behind; here a first run keeps them (spool.keepAfterStore), so no kill has to hit that moment.
    const keep = { ...p.ctx.plan, spool: { ...p.ctx.plan.spool, keepAfterStore: true } };
    await p.engine({ plan: keep });
    const left = await readdir(p.spool.incoming);
    expect(left.length).toBe(manifest.instances);
    // The restart re-reads the spool (spool.open) and finds every one of them: stored, no job left to send them.
    const spool = new Spool(p.ctx.plan.spool.dir, p.ctx.plan.spool.maxBytes);
    expect((await spool.open()).recovered).toBe(left.length);
    await p.engine({ spool });
    expect({ files: await readdir(spool.incoming), bytes: spool.usedBytes }).toEqual({ files: [], bytes: 0 });
  }, 60_000);

  it('an instance without the study-level values its study has elsewhere (the demo PDF: no StudyTime, PatientSex…) verifies', async () => {
    await p.engine();
    const summary = await runVerify(p.ctx, { sample: { percent: 100, minStudies: 0 } });
    const pdf = await p.ctx.store.getInstance(manifest.refusedSopInstanceUid);
    expect({ outcome: pdf?.verifyOutcome, detail: pdf?.verifyDetail }).toMatchObject({ outcome: 'verified' });
    expect(summary.withProblems).toBe(0);
  }, 60_000);

  it('a spool holding the same instance twice (sent twice by a source, before a crash) keeps one copy; other content under the same UID stays', async () => {
    const files = [...(await sourceFiles()).values()].slice(0, 2);
    const spool = new Spool(join(work.dir, 'spool2'), 64 * 1024 * 1024);
    await spool.open();
    const [a, b] = files.map((f) => readFileSync(f));
    writeFileSync(join(spool.incoming, 'x.dcm'), a!);
    writeFileSync(join(spool.incoming, 'x.2.dcm'), a!);
    // another object claiming the same SOP Instance UID: a conflict, kept for the record
    const other = Buffer.from(a!);
    other.writeUInt8(other.readUInt8(other.length - 1) ^ 0xff, other.length - 1);
    writeFileSync(join(spool.incoming, 'x.3.dcm'), other);
    writeFileSync(join(spool.incoming, 'y.dcm'), b!);
    const reopened = new Spool(join(work.dir, 'spool2'), 64 * 1024 * 1024);
    const r = await reopened.open();
    expect(r.unreadable).toEqual([]);
    const left = (await readdir(reopened.incoming)).sort();
    expect(left.filter((f) => f === 'x.dcm' || f === 'x.2.dcm')).toHaveLength(1);
    expect(left.filter((f) => f !== 'x.dcm' && f !== 'x.2.dcm')).toEqual(['x.3.dcm', 'y.dcm']);
    expect(reopened.usedBytes).toBe(2 * a!.length + b!.length);
  });

  it('a retrieve the source answers with an out-of-resources status fails with that status as its code', async () => {
    const { studyUid, uids } = await studyWith((n) => n === 1);
    const files = await sourceFiles();
    // Overwritten after indexing: the source fails that sub-operation (a file that is gone is left out instead).
    await writeFile(files.get(uids[0]!)!, 'not DICOM any more');
    await p.engine();
    const job = (await p.ctx.store.getJobByStudy(studyUid))!;
    // The built-in archive answers A702 when every sub-operation failed (the first attempt; later ones
    // find the file gone from its index): a DICOM status, written 0xHHHH like every other.
    const failures = (await p.ctx.store.listEvents({ jobId: job.id, kind: 'job.failed' })).map(
      (e) => e.detail as { code: string; message: string },
    );
    const outOfResources = failures.filter((f) => /0xA702/.test(f.message));
    expect(outOfResources.length).toBeGreaterThan(0);
    expect(outOfResources.map((f) => f.code)).toEqual(outOfResources.map(() => '0xA702'));
  }, 60_000);
});
