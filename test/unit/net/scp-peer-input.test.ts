import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeSmallDataset, type SmallDataset } from '../../../src/dicom/small-dataset.js';
import { openChannel } from '../../../src/net/peer.js';
import { proposalsFor, storeOne, type SendableInstance } from '../../../src/net/services/store-scu.js';
import { readInstanceInfo } from '../../../src/dicom/part10.js';
import { startTestScp, type TestScp } from '../../harness/net-peer.js';
import { makeTempDir, removeTempDir } from '../../harness/tmp.js';

// A storage SCP takes its file meta from what the peer sends (command UIDs, calling AE title). Values a real peer
// sends that cannot go into a meta must give the sender a typed status, never take the SCP process down.

const SC = '1.2.840.10008.5.1.4.1.1.7';
const EXPLICIT_LE = '1.2.840.10008.1.2.1';

describe('storage SCP: peer values that cannot go into a file meta', () => {
  let scp: TestScp;
  let dir: string;
  let file: string;
  const inst = (sopInstanceUid: string): SendableInstance => ({
    path: file,
    sopClassUid: SC,
    sopInstanceUid,
    transferSyntaxUid: EXPLICIT_LE,
    datasetOffset: 0,
    datasetLength: encoded.length,
  });
  const ds: SmallDataset = new Map([
    [0x00080016, { vr: 'UI', value: SC }],
    [0x00080018, { vr: 'UI', value: '1.2.3.4' }],
  ]);
  const encoded = encodeSmallDataset(ds, { explicit: true });

  beforeAll(async () => {
    dir = makeTempDir('peer-input');
    file = join(dir, 'ds.bin');
    writeFileSync(file, encoded);
    scp = await startTestScp({ aeTitle: 'INPUT_SCP' });
  });
  afterAll(async () => {
    await scp?.stop();
    removeTempDir(dir);
  });

  it('refuses a SOP Instance UID that breaks the UID rules with 0117, and the association goes on', async () => {
    // 67 characters (the corpus has such a file from real equipment), then one that is not a UID at all.
    const tooLong = '1.2.826.0.1.3680043.2.1143.7567016219912961108887122553257011601.11';
    const notUid = 'dccc9599087131742838cc1162a630fea87ba9bf61ac09bfda90d4adfa5ddaed';
    const ch = await openChannel(scp.peer(), proposalsFor([inst('1.2.3')]));
    expect(ch.ok).toBe(true);
    if (!ch.ok) return;
    for (const uid of [tooLong, notUid, '']) {
      const o = await storeOne(ch.value, inst(uid));
      expect(o.ok, uid).toBe(false);
      expect(o.status, uid).toBe(0x0117);
      expect(o.entry?.action).toBe('quarantine');
      expect(o.errorComment).toMatch(/UID/);
    }
    const good = await storeOne(ch.value, inst('1.2.3.4'));
    expect(good.ok).toBe(true);
    expect(good.status).toBe(0);
    await ch.value.assoc.release();
    expect(scp.files()).toHaveLength(1);
  });

  it('stores from a calling AE title that cannot go into (0002,0016), leaving the source AE out', async () => {
    const ch = await openChannel({ ...scp.peer(), callingAeTitle: 'BAD\\AE' }, proposalsFor([inst('1.2.3')]));
    expect(ch.ok).toBe(true);
    if (!ch.ok) return;
    const o = await storeOne(ch.value, inst('1.2.3.5'));
    await ch.value.assoc.release();
    expect(o.ok).toBe(true);
    const path = scp.files().find((f) => f.includes('1.2.3.5'))!;
    const info = await readInstanceInfo(path);
    expect(info.ok).toBe(true);
    if (info.ok) expect(info.value.meta.sourceAeTitle).toBeUndefined();
  });
});
