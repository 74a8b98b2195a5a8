/**
 * What `pacshift check` can and cannot prove against real archives, measured: the C-MOVE of a UID
 * that does not exist (A801 only from archives that look the destination up first), and the round
 * trip of one real instance to our listener, the only end-to-end proof.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkMoveRoundTrip, checkSource } from '../../src/inventory/source-check.js';
import type { Peer } from '../../src/net/peer.js';
import { hasCorpus, wellFormedUncompressed } from '../harness/corpus.js';
import { startDcmqrscp, type Dcmqrscp } from '../harness/dcmqrscp.js';
import { startOrthanc, type Orthanc } from '../harness/orthanc.js';
import { freePort } from '../harness/ports.js';
import { peers } from '../harness/process.js';

const peerAt = (port: number, aeTitle: string): Peer => ({
  host: '127.0.0.1',
  port,
  aeTitle,
  callingAeTitle: 'PACSHIFT',
  dimseTimeoutMs: 20_000,
});
/** A small, well-formed, uncompressed file (dcmqrscp only moves uncompressed). */
const sample = () =>
  wellFormedUncompressed()
    .filter((r) => r.transferSyntax === 'Explicit VR Little Endian' && r.size < 200_000)
    .sort((a, b) => a.path.localeCompare(b.path))[0]!;

describe.skipIf(!peers.orthanc || !hasCorpus())('check against Orthanc 1.10', () => {
  let orthanc: Orthanc;
  let listenPort: number;
  beforeAll(async () => {
    listenPort = await freePort();
    orthanc = await startOrthanc({
      aeTitle: 'ORTHANC',
      modalities: {
        us: { aeTitle: 'PACSHIFT', host: '127.0.0.1', port: listenPort },
        elsewhere: { aeTitle: 'WRONGADDR', host: '127.0.0.1', port: await freePort() },
      },
    });
    await orthanc.upload(sample().absPath);
  });
  afterAll(async () => orthanc?.stop());

  it('answers C000 to the C-MOVE of a UID it does not hold, known destination or not: inconclusive (warn)', async () => {
    for (const destination of ['PACSHIFT', 'UNKNOWN']) {
      const checks = await checkSource(peerAt(orthanc.dicomPort, 'ORTHANC'), {
        model: 'study',
        retrieve: 'c-move',
        moveDestination: destination,
      });
      expect(checks.map((c) => [c.name, c.outcome])).toEqual([
        ['echo', 'pass'],
        ['find', 'pass'],
        ['move-destination', 'warn'],
      ]);
      expect(checks[2]!.status).toBe('0xC000');
    }
  });

  it('moves one real instance to our listener: pass when Orthanc holds our address, fail otherwise', async () => {
    const listen = {
      aeTitle: 'PACSHIFT',
      host: '127.0.0.1',
      port: listenPort,
      allow: [{ aeTitle: 'ORTHANC' }],
    };
    const ok = await checkMoveRoundTrip(peerAt(orthanc.dicomPort, 'ORTHANC'), {
      model: 'study',
      destination: 'PACSHIFT',
      listen,
    });
    expect(ok.outcome).toBe('pass');
    expect(ok.detail).toContain(`${sample().sopInstanceUid} arrived at PACSHIFT`);
    expect(ok.detail).toContain('from ORTHANC');

    // Orthanc knows WRONGADDR, at an address where nobody listens: nothing reaches our listener.
    const wrong = await checkMoveRoundTrip(peerAt(orthanc.dicomPort, 'ORTHANC'), {
      model: 'study',
      destination: 'WRONGADDR',
      listen: { ...listen, aeTitle: 'WRONGADDR' },
      waitMs: 2000,
    });
    expect(wrong.outcome).toBe('fail');
    expect(wrong.detail).toMatch(/nothing arrived/);

    // A title Orthanc does not know.
    const unknown = await checkMoveRoundTrip(peerAt(orthanc.dicomPort, 'ORTHANC'), {
      model: 'study',
      destination: 'UNKNOWN',
      listen,
      waitMs: 1000,
    });
    expect(unknown.outcome).toBe('fail');
    expect(unknown.detail).toMatch(/A801|nothing arrived/);
  });
});

describe.skipIf(!peers.dcmtk || !hasCorpus())('check against dcmqrscp 3.6.7', () => {
  let dcmqrscp: Dcmqrscp;
  let listenPort: number;
  beforeAll(async () => {
    listenPort = await freePort();
    dcmqrscp = await startDcmqrscp({
      aeTitle: 'DCMQRSCP',
      files: [sample().absPath],
      peers: [{ aeTitle: 'PACSHIFT', host: '127.0.0.1', port: listenPort }],
    });
  });
  afterAll(async () => dcmqrscp?.stop());

  it('answers 0000 to the C-MOVE of a UID it does not hold, even to an unknown destination: the probe cannot tell', async () => {
    const checks = await checkSource(peerAt(dcmqrscp.port, 'DCMQRSCP'), {
      model: 'study',
      retrieve: 'c-move',
      moveDestination: 'UNKNOWN',
    });
    expect(checks.find((c) => c.name === 'move-destination')).toMatchObject({
      outcome: 'pass',
      status: '0x0000',
    });
  });

  it('the round trip tells: the known destination receives the instance, the unknown one is refused (A801)', async () => {
    const listen = {
      aeTitle: 'PACSHIFT',
      host: '127.0.0.1',
      port: listenPort,
      allow: [{ aeTitle: 'DCMQRSCP' }],
    };
    const ok = await checkMoveRoundTrip(peerAt(dcmqrscp.port, 'DCMQRSCP'), {
      model: 'study',
      destination: 'PACSHIFT',
      listen,
    });
    expect(ok.outcome).toBe('pass');
    const unknown = await checkMoveRoundTrip(peerAt(dcmqrscp.port, 'DCMQRSCP'), {
      model: 'study',
      destination: 'UNKNOWN',
      listen,
      waitMs: 1000,
    });
    expect(unknown).toMatchObject({ outcome: 'fail', status: '0xA801' });
  });
});
