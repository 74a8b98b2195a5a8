import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AssociationServer } from '../../../src/net/association/server.js';
import { startScp, storageAcceptPolicy } from '../../../src/net/services/scp.js';
import { storeInstances, type SendableInstance } from '../../../src/net/services/store-scu.js';
import { FolderStoreTarget, type StoreTarget } from '../../../src/net/services/store-target.js';
import { makeTempDir, removeTempDir } from '../../harness/tmp.js';

// Some peers abort the association on particular instances (DCMTK on a command UID it cannot parse, on an odd
// fragment). Each such instance fails; the instances after it must still be tried: the reconnect budget is for
// an unreachable peer (consecutive failures), not a count of bad files over the whole run.

describe('storeInstances: a peer that aborts on some instances', () => {
  let dir: string;
  let server: AssociationServer;
  const instances: SendableInstance[] = [];
  let opened = 0;

  beforeAll(async () => {
    dir = makeTempDir('reconnect');
    const path = join(dir, 'ds.bin');
    writeFileSync(path, Buffer.alloc(64));
    for (let i = 0; i < 12; i++) {
      // Every other instance is one the peer aborts on.
      const uid = i % 2 === 0 ? `1.2.3.${i}.666` : `1.2.3.${i}`;
      instances.push({
        path,
        sopClassUid: '1.2.840.10008.5.1.4.1.1.7',
        sopInstanceUid: uid,
        transferSyntaxUid: '1.2.840.10008.1.2.1',
        datasetOffset: 0,
        datasetLength: 64,
      });
    }
    const folder = new FolderStoreTarget(join(dir, 'out'));
    const aborting: StoreTarget = {
      open: (req) => {
        const sink = folder.open(req);
        if (!req.sopInstanceUid.endsWith('.666')) return sink;
        return {
          write: () => {
            throw new Error('this peer aborts on .666');
          },
          end: () => sink.end(),
          abort: () => sink.abort(),
        };
      },
    };
    server = await startScp({
      aeTitle: 'ABORTS',
      port: 0,
      host: '127.0.0.1',
      policy: storageAcceptPolicy(),
      handlers: { store: aborting, onAssociation: () => void opened++ },
    });
  });
  afterAll(async () => {
    await server?.close();
    removeTempDir(dir);
  });

  it('fails each aborted instance and stores every other one', async () => {
    const outcomes = await storeInstances(
      { host: '127.0.0.1', port: server.port, aeTitle: 'ABORTS', callingAeTitle: 'PACSHIFT' },
      instances,
    );
    expect(outcomes).toHaveLength(instances.length);
    const stored = outcomes
      .filter((o) => o.ok)
      .map((o) => o.instance.sopInstanceUid)
      .sort();
    expect(stored).toEqual(
      instances
        .filter((i) => !i.sopInstanceUid.endsWith('.666'))
        .map((i) => i.sopInstanceUid)
        .sort(),
    );
    for (const o of outcomes.filter((x) => !x.ok)) {
      expect(o.instance.sopInstanceUid).toMatch(/\.666$/);
      if (!o.ok) expect(o.failure?.kind).toBe('no-response');
      // Sent once more, first on a new association: the peer aborted again, so the object is the cause.
      if (!o.ok) expect(o.abortedAgain).toBe(true);
    }
    // 6 aborting instances, each tried twice: 12 associations besides the first.
    expect(opened).toBeGreaterThanOrEqual(13);
  });
});
