import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeSmallDataset, type SmallDataset } from '../../../src/dicom/small-dataset.js';
import { storeInstances, type SendableInstance } from '../../../src/net/services/store-scu.js';
import { receivedDigest, sha256From, startTestScp, type TestScp } from '../../harness/net-peer.js';
import { makeTempDir, removeTempDir } from '../../harness/tmp.js';

// storeInstances over several associations: each instance's data set bytes must go with its own C-STORE,
// whatever the workers do with the shared queue and the prefetch of the next file.

const SC = '1.2.840.10008.5.1.4.1.1.7';

describe('storeInstances with parallel associations', () => {
  let scp: TestScp;
  let dir: string;
  const instances: SendableInstance[] = [];

  beforeAll(async () => {
    dir = makeTempDir('parallel');
    for (let i = 1; i <= 60; i++) {
      const uid = `1.2.826.0.1.3680043.2.1143.99.${i}`;
      const ds: SmallDataset = new Map<number, { vr: string; value: string | Buffer }>([
        [0x00080016, { vr: 'UI', value: SC }],
        [0x00080018, { vr: 'UI', value: uid }],
        // A different length and content for each file.
        [0x7fe00010, { vr: 'OB', value: Buffer.alloc(1000 + i * 37, i) }],
      ]);
      const path = join(dir, `${i}.bin`);
      writeFileSync(path, encodeSmallDataset(ds, { explicit: true }));
      instances.push({
        path,
        sopClassUid: SC,
        sopInstanceUid: uid,
        transferSyntaxUid: '1.2.840.10008.1.2.1',
        datasetOffset: 0,
        datasetLength: readFileSync(path).length,
      });
    }
    scp = await startTestScp({ aeTitle: 'PARALLEL' });
  });
  afterAll(async () => {
    await scp?.stop();
    removeTempDir(dir);
  });

  it('sends each data set with its own command, on 3 associations', async () => {
    const outcomes = await storeInstances(scp.peer(), instances, { associations: 3 });
    expect(outcomes.filter((o) => !o.ok)).toEqual([]);
    expect(scp.associations).toHaveLength(3);
    const received = await Promise.all(scp.files().map(receivedDigest));
    const wrong: string[] = [];
    for (const inst of instances) {
      const r = received.find((x) => 'sopInstanceUid' in x && x.sopInstanceUid === inst.sopInstanceUid);
      if (!r || 'error' in r || r.sha256 !== (await sha256From(inst.path, 0)))
        wrong.push(inst.sopInstanceUid);
    }
    expect(wrong).toEqual([]);
  });
});
