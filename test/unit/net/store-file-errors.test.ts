import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { storeInstances, type SendableInstance } from '../../../src/net/services/store-scu.js';
import { startTestScp, type TestScp } from '../../harness/net-peer.js';
import { makeTempDir, removeTempDir } from '../../harness/tmp.js';

// A file can shrink or vanish between reading its identifiers and sending it (another process, a full disk, a
// network mount). The sender must give that instance a typed outcome and go on, not reject a promise nobody awaits.

describe('store: a file that changed after it was read', () => {
  let scp: TestScp;
  let dir: string;
  let base: SendableInstance;

  beforeAll(async () => {
    dir = makeTempDir('file-errors');
    const path = join(dir, 'small.bin');
    writeFileSync(path, Buffer.alloc(100));
    base = {
      path,
      sopClassUid: '1.2.840.10008.5.1.4.1.1.7',
      sopInstanceUid: '1.2.3.1',
      transferSyntaxUid: '1.2.840.10008.1.2.1',
      datasetOffset: 0,
      datasetLength: 100,
    };
    scp = await startTestScp({ aeTitle: 'FILE_ERRORS' });
  });
  afterAll(async () => {
    await scp?.stop();
    removeTempDir(dir);
  });

  it('a shorter file and a missing one fail with a typed cause naming the file; the next file is stored', async () => {
    const shorter = { ...base, sopInstanceUid: '1.2.3.2', datasetLength: 3_000_000 };
    const missing = { ...base, sopInstanceUid: '1.2.3.3', path: join(dir, 'gone.bin') };
    const good = { ...base, sopInstanceUid: '1.2.3.4' };
    const outcomes = await Promise.race([
      storeInstances(scp.peer(), [shorter, missing, good]),
      new Promise<never>((_, reject) => setTimeout(() => reject(new Error('storeInstances hung')), 15_000)),
    ]);
    const of = (uid: string) => outcomes.find((o) => o.instance.sopInstanceUid === uid)!;
    for (const [inst, why] of [
      [shorter, /ended .* early/],
      [missing, /ENOENT/],
    ] as const) {
      const o = of(inst.sopInstanceUid);
      expect(o.ok).toBe(false);
      if (o.ok) continue;
      expect(o.failure?.message).toMatch(why);
      expect(o.failure?.message).toContain(inst.path);
    }
    expect(of(good.sopInstanceUid).ok).toBe(true);
    expect(scp.files()).toHaveLength(1);
  });
});
