/**
 * An odd-length data set through the whole pacshift → pacshift path: `pacshift serve` (the built-in archive) as the
 * source answering C-MOVE, the migration's listener writing the spool, a built-in archive as the target. The
 * corpus file highdicom/dx_image.dcm has Pixel Data of odd length (35659), so its data set is odd: PDV fragments are
 * even, it travels with one NUL. Before the fix the listener wrote that NUL after the last element, the spool could
 * not read the arrival, and the study ended "not sent by the source".
 */
import { symlinkSync } from 'node:fs';
import { mkdir, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startArchive, type Archive } from '../../src/archive/archive.js';
import { readInstanceInfo } from '../../src/dicom/part10.js';
import { runVerify } from '../../src/verify/index.js';
import { corpusDir, hasCorpus } from '../harness/corpus.js';
import { datasetBytes } from '../harness/dicom-file.js';
import { e2eDir, writePlan } from '../harness/migration.js';
import { openPipeline, type Pipeline } from '../harness/pipeline.js';
import { freePort } from '../harness/ports.js';

describe.skipIf(!hasCorpus())('an odd-length data set, pacshift serve → migrate → pacshift archive', () => {
  let work: ReturnType<typeof e2eDir>;
  let source: Archive;
  let target: Archive;
  let p: Pipeline;
  const file = () => join(corpusDir(), 'highdicom/dx_image.dcm');

  beforeAll(async () => {
    work = e2eDir('e2e-odd');
    const localPort = await freePort();
    const served = join(work.dir, 'served');
    await mkdir(served);
    // Read in place: the archive serves a link to the corpus file.
    symlinkSync(file(), join(served, 'dx_image.dcm'));
    source = await startArchive({
      dir: served,
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
          quietPeriod: '300ms',
          retries: { maxAttempts: 2, backoff: { base: '100ms', cap: '1s' } },
        },
      },
    });
    p = await openPipeline(planPath);
    await p.prepare();
  }, 60_000);

  afterAll(async () => {
    await p?.close();
    await source?.close();
    await target?.close();
    work?.remove();
  });

  it('arrives byte for byte, readable, and ends verified', async () => {
    const info = await readInstanceInfo(file());
    expect(info.ok && info.value.datasetLength % 2).toBe(1);
    const uid = info.ok ? info.value.sopInstanceUid : '';
    await p.engine();
    const summary = await runVerify(p.ctx, { sample: { percent: 100, minStudies: 0 } });
    const inst = await p.ctx.store.getInstance(uid);
    expect({ outcome: inst?.verifyOutcome, detail: inst?.verifyDetail }).toMatchObject({
      outcome: 'verified',
    });
    expect(summary.withProblems).toBe(0);
    // The target archive holds the source's data set exactly, in a file its reader (and ours) reads.
    const held = (await readdir(join(work.dir, 'target-archive'), { recursive: true }))
      .map((f) => join(work.dir, 'target-archive', String(f)))
      .filter((f) => f.endsWith('.dcm'));
    const copies = [];
    for (const f of held) {
      const r = await readInstanceInfo(f);
      if (r.ok && r.value.sopInstanceUid === uid) copies.push(f);
    }
    expect(copies).toHaveLength(1);
    expect(datasetBytes(copies[0]!).equals(datasetBytes(file()))).toBe(true);
  }, 60_000);
});
