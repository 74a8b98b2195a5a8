import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readInstanceInfo } from '../../../src/dicom/part10.js';
import { encodeSmallDataset, type SmallDataset } from '../../../src/dicom/small-dataset.js';
import { storeInstances, type SendableInstance } from '../../../src/net/services/store-scu.js';
import { PdvLengths, startTestScp, type TestScp } from '../../harness/net-peer.js';
import { startProxy, type Proxy } from '../../harness/proxy.js';
import { makeTempDir, removeTempDir } from '../../harness/tmp.js';

// PS3.8 Annex E: every PDV fragment has an even length (DCMTK aborts the association otherwise: "Odd Fragment
// Length"). Real files have odd-length data sets (a Deflate stream without its pad byte, an odd Pixel Data
// length), and a peer may announce an odd maximum PDU length.

const SC = '1.2.840.10008.5.1.4.1.1.7';

describe('PDV fragments are even', () => {
  let dir: string;
  let odd: SendableInstance;
  let even: SendableInstance;
  const scps: TestScp[] = [];
  const proxies: Proxy[] = [];

  const file = (name: string, uid: string, pixelBytes: number): SendableInstance => {
    const ds: SmallDataset = new Map<number, { vr: string; value: string | Buffer }>([
      [0x00080016, { vr: 'UI', value: SC }],
      [0x00080018, { vr: 'UI', value: uid }],
    ]);
    let bytes = encodeSmallDataset(ds, { explicit: true });
    // Pixel Data with an odd length as real equipment writes it (the encoder would pad it).
    const h = Buffer.alloc(12);
    h.writeUInt16LE(0x7fe0, 0);
    h.writeUInt16LE(0x0010, 2);
    h.write('OB', 4, 'latin1');
    h.writeUInt32LE(pixelBytes, 8);
    bytes = Buffer.concat([bytes, h, Buffer.alloc(pixelBytes, 7)]);
    const path = join(dir, name);
    writeFileSync(path, bytes);
    return {
      path,
      sopClassUid: SC,
      sopInstanceUid: uid,
      transferSyntaxUid: '1.2.840.10008.1.2.1',
      datasetOffset: 0,
      datasetLength: bytes.length,
    };
  };

  async function sendVia(maxPduLength: number | undefined, instances: SendableInstance[]) {
    const scp = await startTestScp({ aeTitle: 'EVEN', maxPduLength });
    scps.push(scp);
    const pdvs = new PdvLengths();
    const proxy = await startProxy({
      targetHost: scp.host,
      targetPort: scp.port,
      onData: (d, c) => d === 'upstream' && pdvs.push(c),
    });
    proxies.push(proxy);
    const outcomes = await storeInstances({ ...scp.peer(), host: proxy.host, port: proxy.port }, instances);
    return { scp, pdvs, outcomes };
  }

  beforeAll(() => {
    dir = makeTempDir('pdv-even');
    odd = file('odd.bin', '1.2.3.1', 70_001);
    even = file('even.bin', '1.2.3.2', 70_000);
  });
  afterAll(async () => {
    for (const p of proxies) await p.stop();
    for (const s of scps) await s.stop();
    removeTempDir(dir);
  });

  it('an odd-length data set goes out in even fragments, padded with one NUL at its end; a pacshift SCP drops the pad', async () => {
    expect(odd.datasetLength % 2).toBe(1);
    const { scp, pdvs, outcomes } = await sendVia(undefined, [odd]);
    expect(outcomes.every((o) => o.ok)).toBe(true);
    const data = pdvs.fragments.filter((f) => !f.command);
    expect(data.length).toBeGreaterThan(0);
    expect(data.filter((f) => f.length % 2 === 1)).toEqual([]);
    expect(data.reduce((n, f) => n + f.length, 0)).toBe(odd.datasetLength + 1);
    // What the pacshift SCP writes is the file's data set exactly: the pad after the last element is not written
    // (before, it was: a stray byte after the last element that no reader could parse).
    const received = readFileSync(scp.files()[0]!);
    const original = readFileSync(odd.path);
    expect(received.subarray(received.length - original.length)).toEqual(original);
    expect((await readInstanceInfo(scp.files()[0]!)).ok).toBe(true);
  });

  it('a peer announcing an odd maximum PDU length still gets even fragments, none above its maximum', async () => {
    const { pdvs, outcomes } = await sendVia(16_385, [even, odd]);
    expect(outcomes.every((o) => o.ok)).toBe(true);
    expect(pdvs.fragments.filter((f) => f.length % 2 === 1)).toEqual([]);
    expect(Math.max(...pdvs.fragments.map((f) => f.length + 6))).toBeLessThanOrEqual(16_385);
  });
});
