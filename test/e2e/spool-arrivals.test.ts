/**
 * An arrival the spool cannot read is never dropped without a word (issue 7, item 2). The source is a
 * built-in archive; one of its files is damaged in place after indexing (same size, same mtime, so the
 * archive sends it as indexed): its Pixel Data length now runs past the end of the data set. What our
 * listener receives is then unreadable. It must be refused (0xC000, with the reader's cause), kept in
 * the quarantine (once, however often the source sends it), recorded against its study in the state
 * database (an instance outcome and a `spool.unreadable` event), and nothing left in `incoming/`.
 * Before: `Spool.add` returned silently, a copy per attempt piled up in `incoming/`, and the instance was
 * "not sent by the source".
 */
import { closeSync, openSync, readdirSync, readFileSync, readSync, utimesSync, writeSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startArchive, type Archive } from '../../src/archive/archive.js';
import { readInstanceInfo } from '../../src/dicom/part10.js';
import { generateDemoArchive, type DemoManifest } from '../../src/demo/generate.js';
import { CODE_ACTIONS } from '../../src/report/actions.js';
import { collectReport } from '../../src/report/collect.js';
import { allLedger } from '../harness/accounting.js';
import { e2eDir, writePlan } from '../harness/migration.js';
import { openPipeline, type Pipeline } from '../harness/pipeline.js';
import { freePort } from '../harness/ports.js';

/** (7FE0,0010) OW in explicit VR little endian: tag, VR, two reserved bytes; a 4-byte length follows. */
const PIXEL_DATA_OW = Buffer.from([0xe0, 0x7f, 0x10, 0x00, 0x4f, 0x57, 0x00, 0x00]);

/** A whole second, so that an mtime set again is exactly the one the archive indexed. */
const MTIME = 1_700_000_000;

/** Makes the file's Pixel Data claim 64 KiB more than it holds, keeping its size and (whole-second) mtime. */
function damageInPlace(path: string): void {
  const at = readFileSync(path).lastIndexOf(PIXEL_DATA_OW);
  if (at < 0) throw new Error(`no Pixel Data OW in ${path}`);
  const fd = openSync(path, 'r+');
  try {
    const len = Buffer.alloc(4);
    readSync(fd, len, 0, 4, at + 8);
    len.writeUInt32LE(len.readUInt32LE(0) + 0x10000, 0);
    writeSync(fd, len, 0, 4, at + 8);
  } finally {
    closeSync(fd);
  }
  utimesSync(path, MTIME, MTIME);
}

describe('an arrival the spool cannot read (built-in archives)', () => {
  let work: ReturnType<typeof e2eDir>;
  let source: Archive;
  let target: Archive;
  let manifest: DemoManifest;
  let p: Pipeline;

  beforeEach(async () => {
    work = e2eDir('e2e-spool-arrivals');
    const localPort = await freePort();
    manifest = await generateDemoArchive(join(work.dir, 'source-archive'), { studiesPerPatient: 1, seed: 5 });
    for (const f of readdirSync(manifest.dir)) utimesSync(join(manifest.dir, f), MTIME, MTIME);
    source = await startArchive({
      dir: manifest.dir,
      port: 0,
      host: '127.0.0.1',
      aeTitle: 'OLDPACS',
      peers: { PACSHIFT: { host: '127.0.0.1', port: localPort } },
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
          retries: { maxAttempts: 2, backoff: { base: '200ms', cap: '1s' } },
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

  it('is refused, quarantined once, recorded against its study with its cause, and not left in incoming/', async () => {
    // A CT study of several images; its second image is damaged at the source.
    let victim: { path: string; sopInstanceUid: string; studyUid: string } | undefined;
    for (const f of (await readdir(manifest.dir)).sort()) {
      const r = await readInstanceInfo(join(manifest.dir, f));
      if (!r.ok || !f.endsWith('.0.1.dcm') || r.value.sopClassUid !== '1.2.840.10008.5.1.4.1.1.2') continue;
      victim = {
        path: join(manifest.dir, f),
        sopInstanceUid: r.value.sopInstanceUid,
        studyUid: r.value.studyInstanceUid!,
      };
      break;
    }
    expect(victim).toBeDefined();
    const v = victim!;
    damageInPlace(v.path);
    expect((await readInstanceInfo(v.path)).ok).toBe(false);
    await p.engine();
    await new Promise((r) => setTimeout(r, 600)); // the back-off (200 ms, then 400 ms): a second attempt
    await p.engine();

    // Nothing unreadable waits in incoming/ (what is there, if anything, reads).
    for (const f of await readdir(p.spool.incoming))
      expect({ f, ok: (await readInstanceInfo(join(p.spool.incoming, f))).ok }).toEqual({ f, ok: true });
    // Kept once in the quarantine, however often it arrived.
    const kept = (await readdir(p.spool.quarantine)).filter((f) => f.startsWith(`${v.sopInstanceUid}.`));
    expect(kept).toHaveLength(1);
    // Recorded against its study, with the reader's cause and where the object is.
    const outcomes = (await p.ctx.store.listInstanceOutcomes(v.studyUid)).filter(
      (o) => o.sopInstanceUid === v.sopInstanceUid && o.category === 'unreadable-arrival',
    );
    expect(outcomes.length).toBeGreaterThan(0);
    for (const o of outcomes) {
      expect(o.status).toBe(0xc000);
      expect(o.cause).toMatch(/^arrived unreadable \(truncated: .*\); kept as .*quarantine/);
    }
    const events = await p.ctx.store.listEvents({ studyUid: v.studyUid, kind: 'spool.unreadable' });
    expect(events.map((e) => e.sopInstanceUid)).toContain(v.sopInstanceUid);
    // The report explains it as what it is (not as the 0xC000 we answered).
    const report = await collectReport(p.ctx.store, { name: 'e2e', logPhi: false });
    const group = report.instanceFailures.find((g) => g.category === 'unreadable-arrival');
    expect(group).toMatchObject({
      phase: 'retrieve',
      status: '0xC000',
      action: CODE_ACTIONS.UNREADABLE_ARRIVAL,
    });
    // Not a study that is done: the instance is not at the target.
    const row = (await allLedger(p.ctx.store)).find((r) => r.studyUid === v.studyUid);
    expect(row?.status).not.toBe('verified');
    // The study's other instances moved.
    const others = (await p.ctx.store.listInstances(v.studyUid, 'all')).filter(
      (i) => i.sopInstanceUid !== v.sopInstanceUid,
    );
    expect(others.length).toBeGreaterThan(0);
    for (const i of others)
      expect({ uid: i.sopInstanceUid, stored: i.storedAt !== null }).toEqual({
        uid: i.sopInstanceUid,
        stored: true,
      });
  }, 60_000);
});
