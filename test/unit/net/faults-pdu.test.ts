/**
 * Malformed and unexpected PDUs from a peer (unknown type, a valid type with broken lengths, over the
 * negotiated maximum, out of sequence), and a peer that accepts with a maximum PDU of 4 KB. Our side aborts
 * with the PS3.8 reason and reports `protocol-error`, never a crash; with 4 KB every P-DATA-TF we send fits and
 * the data arrive byte-identical. After each, the next association to a working peer succeeds.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { requestAssociation } from '../../../src/net/association/request.js';
import type { NetFailure } from '../../../src/net/errors.js';
import { openChannel } from '../../../src/net/peer.js';
import { cEcho } from '../../../src/net/services/echo.js';
import { VERIFICATION } from '../../../src/net/services/sop-classes.js';
import { type SendableInstance, storeInstances } from '../../../src/net/services/store-scu.js';
import { encodeAbort, encodeAssociateAc, encodeAssociateRq } from '../../../src/net/ul/pdu.js';
import { hasCorpus } from '../../harness/corpus.js';
import { datasetBytes } from '../../harness/dicom-file.js';
import {
  PduTap,
  type WorkingScp,
  checkWorkingAssociation,
  corpusRows,
  guardProcess,
  sendable,
  startWorkingScp,
} from '../../harness/fault-kit.js';
import { startProxy } from '../../harness/proxy.js';
import {
  type PeerConnection,
  type ScriptedPeer,
  type Step,
  abortsIn,
  encodePData,
  startScriptedPeer,
} from '../../harness/scripted-peer.js';
import { makeTempDir, removeTempDir } from '../../harness/tmp.js';

const FAST = { connectMs: 1_000, artimMs: 1_000, associationMs: 1_000, releaseMs: 1_000 };
const OPEN: Step[] = [{ do: 'expect', pdu: 'associate-rq' }, { do: 'accept' }];
const ECHO_CONTEXT = [{ abstractSyntax: VERIFICATION, transferSyntaxes: ['1.2.840.10008.1.2'] }];
const P_DATA = 0x04;

/** An A-ASSOCIATE-AC answering `c`'s RQ, accepting everything, with user information sub-items `extra` appended raw. */
function acFor(c: PeerConnection, extra: Buffer = Buffer.alloc(0), maxPdu = 16_384): Buffer {
  const rq = c.associateRq!;
  const ac = encodeAssociateAc({
    calledAeTitle: rq.calledAeTitle,
    callingAeTitle: rq.callingAeTitle,
    presentationContexts: rq.presentationContexts.map((pc) => ({
      id: pc.id,
      result: 0,
      transferSyntax: pc.transferSyntaxes[0]!,
    })),
    userInformation: {
      maxPduLength: maxPdu,
      implementationClassUid: '1.2.3.4',
      roleSelections: [],
      extendedNegotiations: [],
      otherItems: [],
    },
  });
  if (extra.length === 0) return ac;
  // the user information item is last: grow it and the PDU by `extra`
  const out = Buffer.concat([ac, extra]);
  out.writeUInt32BE(out.length - 6, 2);
  let p = 6 + 68;
  while (out[p] !== 0x50) p += 4 + out.readUInt16BE(p + 2);
  out.writeUInt16BE(out.readUInt16BE(p + 2) + extra.length, p + 2);
  return out;
}

describe.skipIf(!hasCorpus())('PDU faults', { timeout: 5_000 }, () => {
  let dir: string;
  let scp: WorkingScp;
  let small: SendableInstance;
  let medium: SendableInstance[];
  let peer: ScriptedPeer | undefined;
  const guard = guardProcess();

  beforeAll(async () => {
    dir = makeTempDir('faults-pdu');
    scp = await startWorkingScp(dir);
    small = await sendable(corpusRows(2_000, 20_000, 1)[0]!);
    medium = await Promise.all(corpusRows(200_000, 600_000, 2).map(sendable));
  });
  afterAll(async () => {
    await scp.server.close();
    guard.dispose();
    removeTempDir(dir);
  });
  afterEach(async () => {
    await peer?.stop();
    peer = undefined;
    expect(guard.errors.splice(0)).toEqual([]);
  });

  const expectNextAssociationWorks = async () => {
    const w = await checkWorkingAssociation(scp, small);
    expect(w.echoStatus).toBe(0);
    expect(w.outcome?.ok).toBe(true);
    expect(w.identical).toBe(true);
  };

  const request = (p: ScriptedPeer, maxPduLength?: number) =>
    requestAssociation({
      host: p.host,
      port: p.port,
      callingAeTitle: 'FAULT_SCU',
      calledAeTitle: 'SCRIPTED',
      contexts: ECHO_CONTEXT,
      timeouts: FAST,
      maxPduLength,
    });

  /** Open an association, send a C-ECHO-RQ, let the peer misbehave: the echo's failure. */
  const echoFailure = async (p: ScriptedPeer, maxPduLength?: number): Promise<NetFailure> => {
    const ch = await openChannel(
      {
        host: p.host,
        port: p.port,
        aeTitle: 'SCRIPTED',
        callingAeTitle: 'FAULT_SCU',
        timeouts: FAST,
        maxPduLength,
      },
      ECHO_CONTEXT,
    );
    if (!ch.ok) throw new Error(`association failed: ${ch.error.message}`);
    const r = await cEcho(ch.value, 2_000);
    if (r.ok) throw new Error('the echo succeeded');
    return r.error;
  };

  /** The A-ABORTs the peer received, once its script (which ends by expecting one) is done. */
  const abortsReceived = async (p: ScriptedPeer) => {
    const c = await p.connection(1);
    await c.scriptDone;
    expect(c.scriptError).toBeUndefined();
    return abortsIn(c.received);
  };

  /** After the misbehaviour the peer expects our A-ABORT and closes. */
  const ABORTED: Step[] = [{ do: 'expect', pdu: 'abort' }, { do: 'close' }];

  it('an unknown PDU type during data transfer: protocol-error, and we abort with reason 1 (unrecognized PDU)', async () => {
    peer = await startScriptedPeer([...OPEN, { do: 'receive' }, { do: 'garbage' }, ...ABORTED]);
    const f = await echoFailure(peer);
    expect(f).toMatchObject({ kind: 'no-response', cause: { kind: 'protocol-error' } });
    expect(f.kind === 'no-response' && f.cause?.message).toMatch(/unknown PDU type 0x0a/);
    const c = await peer.connection(1);
    await c.scriptDone;
    expect(c.scriptError).toBeUndefined();
    expect(abortsIn(c.received)).toEqual([{ source: 2, reason: 1 }]);
    await expectNextAssociationWorks();
  });

  it('an unknown PDU type instead of the A-ASSOCIATE-AC: protocol-error', async () => {
    peer = await startScriptedPeer([{ do: 'expect', pdu: 'associate-rq' }, { do: 'garbage' }, ...ABORTED]);
    const r = await request(peer);
    expect(r).toMatchObject({ ok: false, error: { kind: 'protocol-error' } });
    expect(await abortsReceived(peer)).toEqual([{ source: 2, reason: 1 }]);
    await expectNextAssociationWorks();
  });

  it('garbage instead of the A-ASSOCIATE-AC from a peer that then stays silent: protocol-error without waiting for ARTIM', async () => {
    peer = await startScriptedPeer([
      { do: 'expect', pdu: 'associate-rq' },
      { do: 'garbage' },
      { do: 'silent' },
    ]);
    const t0 = Date.now();
    const r = await requestAssociation({
      host: peer.host,
      port: peer.port,
      callingAeTitle: 'FAULT_SCU',
      calledAeTitle: 'SCRIPTED',
      contexts: ECHO_CONTEXT,
      timeouts: { ...FAST, artimMs: 4_000 },
    });
    expect(r).toMatchObject({ ok: false, error: { kind: 'protocol-error' } });
    expect(Date.now() - t0).toBeLessThan(1_000);
    await expectNextAssociationWorks();
  });

  it('garbage during data transfer from a peer that then stays silent: the pending request fails at once, not after ARTIM', async () => {
    peer = await startScriptedPeer([...OPEN, { do: 'receive' }, { do: 'garbage' }, { do: 'silent' }]);
    const ch = await openChannel(
      {
        host: peer.host,
        port: peer.port,
        aeTitle: 'SCRIPTED',
        callingAeTitle: 'FAULT_SCU',
        timeouts: { ...FAST, artimMs: 4_000 },
      },
      ECHO_CONTEXT,
    );
    if (!ch.ok) throw new Error(ch.error.message);
    const t0 = Date.now();
    const r = await cEcho(ch.value, 4_000);
    expect(r).toMatchObject({ ok: false, error: { kind: 'no-response', cause: { kind: 'protocol-error' } } });
    expect(Date.now() - t0).toBeLessThan(1_000);
    expect(ch.value.ended).toBe(true);
    await expectNextAssociationWorks();
  });

  it('a P-DATA-TF whose PDV length overruns the PDU: protocol-error, abort reason 6 (invalid parameter value)', async () => {
    const broken = Buffer.from([P_DATA, 0, 0, 0, 0, 10, 0, 0, 0x10, 0, 1, 3, 1, 2, 3, 4]);
    peer = await startScriptedPeer([...OPEN, { do: 'receive' }, { do: 'send', bytes: broken }, ...ABORTED]);
    const f = await echoFailure(peer);
    expect(f).toMatchObject({ kind: 'no-response', cause: { kind: 'protocol-error' } });
    expect(await abortsReceived(peer)).toEqual([{ source: 2, reason: 6 }]);
    await expectNextAssociationWorks();
  });

  it('a P-DATA-TF with trailing bytes after its last PDV: protocol-error', async () => {
    const pdu = encodePData(1, true, Buffer.alloc(8), 16_384)[0]!;
    const broken = Buffer.concat([pdu, Buffer.from([0xee, 0xee, 0xee])]);
    broken.writeUInt32BE(broken.length - 6, 2);
    peer = await startScriptedPeer([...OPEN, { do: 'receive' }, { do: 'send', bytes: broken }, ...ABORTED]);
    const f = await echoFailure(peer);
    expect(f).toMatchObject({ kind: 'no-response', cause: { kind: 'protocol-error' } });
    await expectNextAssociationWorks();
  });

  it('an A-ASSOCIATE-AC whose item length overruns the PDU: protocol-error, abort reason 6', async () => {
    peer = await startScriptedPeer([
      { do: 'expect', pdu: 'associate-rq' },
      {
        do: 'send',
        bytes: (c) => {
          const ac = acFor(c);
          ac.writeUInt16BE(0xfff0, 6 + 68 + 2); // the application context item
          return ac;
        },
      },
      ...ABORTED,
    ]);
    const r = await request(peer);
    expect(r).toMatchObject({ ok: false, error: { kind: 'protocol-error' } });
    expect(await abortsReceived(peer)).toEqual([{ source: 2, reason: 6 }]);
    await expectNextAssociationWorks();
  });

  // Sub-items too short for their own fixed fields (a UID length, role bytes): decoded as garbage, not a crash.
  const SHORT_SUB_ITEMS: [string, Buffer][] = [
    ['a role selection sub-item of length 0', Buffer.from([0x54, 0, 0, 0])],
    ['a role selection sub-item of length 1', Buffer.from([0x54, 0, 0, 1, 0])],
    ['a role selection whose UID length overruns it', Buffer.from([0x54, 0, 0, 4, 0, 9, 0x31, 0x2e])],
    ['an extended negotiation sub-item of length 1', Buffer.from([0x56, 0, 0, 1, 0])],
    ['an extended negotiation whose UID length overruns it', Buffer.from([0x56, 0, 0, 3, 0, 9, 0x31])],
    ['a maximum length sub-item of length 2', Buffer.from([0x51, 0, 0, 2, 0, 0])],
  ];

  it.each(SHORT_SUB_ITEMS)('an A-ASSOCIATE-AC with %s: protocol-error, no crash', async (_what, sub) => {
    peer = await startScriptedPeer([
      { do: 'expect', pdu: 'associate-rq' },
      { do: 'send', bytes: (c) => acFor(c, sub) },
      ...ABORTED,
    ]);
    const r = await request(peer);
    expect(r).toMatchObject({ ok: false, error: { kind: 'protocol-error' } });
    expect(await abortsReceived(peer)).toEqual([{ source: 2, reason: 6 }]);
    await expectNextAssociationWorks();
  });

  it('an A-ABORT with a wrong length: protocol-error', async () => {
    const broken = Buffer.concat([encodeAbort(0, 0), Buffer.from([0, 0])]);
    broken.writeUInt32BE(6, 2);
    peer = await startScriptedPeer([...OPEN, { do: 'receive' }, { do: 'send', bytes: broken }, ...ABORTED]);
    const f = await echoFailure(peer);
    expect(f).toMatchObject({ kind: 'no-response', cause: { kind: 'protocol-error' } });
    await expectNextAssociationWorks();
  });

  it('a control PDU claiming 2 GB: protocol-error at once, nothing buffered', async () => {
    const huge = Buffer.from([0x03, 0, 0x7f, 0xff, 0xff, 0xff, 0, 1, 1, 1]);
    peer = await startScriptedPeer([
      { do: 'expect', pdu: 'associate-rq' },
      { do: 'send', bytes: huge },
      ...ABORTED,
    ]);
    const r = await request(peer);
    expect(r).toMatchObject({ ok: false, error: { kind: 'protocol-error' } });
    await expectNextAssociationWorks();
  });

  it('a P-DATA-TF larger than the maximum we declared: protocol-error, abort reason 6', async () => {
    peer = await startScriptedPeer([
      ...OPEN,
      { do: 'receive' },
      { do: 'send', bytes: encodePData(1, false, Buffer.alloc(8_000), 9_000)[0]! },
      ...ABORTED,
    ]);
    const f = await echoFailure(peer, 4_096);
    expect(f).toMatchObject({ kind: 'no-response', cause: { kind: 'protocol-error' } });
    expect(f.kind === 'no-response' && f.cause?.message).toMatch(/exceeds the negotiated maximum of 4096/);
    expect(await abortsReceived(peer)).toEqual([{ source: 2, reason: 6 }]);
    await expectNextAssociationWorks();
  });

  it('an A-ASSOCIATE-RQ during data transfer (unexpected PDU): protocol-error, abort reason 2', async () => {
    const rq = encodeAssociateRq({
      calledAeTitle: 'X',
      callingAeTitle: 'Y',
      presentationContexts: [
        { id: 1, abstractSyntax: VERIFICATION, transferSyntaxes: ['1.2.840.10008.1.2'] },
      ],
      userInformation: {
        maxPduLength: 0,
        implementationClassUid: '1.2.3',
        roleSelections: [],
        extendedNegotiations: [],
        otherItems: [],
      },
    });
    peer = await startScriptedPeer([...OPEN, { do: 'receive' }, { do: 'send', bytes: rq }, ...ABORTED]);
    const f = await echoFailure(peer);
    expect(f).toMatchObject({ kind: 'no-response', cause: { kind: 'protocol-error' } });
    expect(await abortsReceived(peer)).toEqual([{ source: 2, reason: 2 }]);
    await expectNextAssociationWorks();
  });

  it('a P-DATA-TF before the A-ASSOCIATE-AC: protocol-error', async () => {
    peer = await startScriptedPeer([
      { do: 'expect', pdu: 'associate-rq' },
      { do: 'send', bytes: encodePData(1, true, Buffer.alloc(10), 1_000)[0]! },
      ...ABORTED,
    ]);
    const r = await request(peer);
    expect(r).toMatchObject({ ok: false, error: { kind: 'protocol-error' } });
    expect(await abortsReceived(peer)).toEqual([{ source: 2, reason: 2 }]);
    await expectNextAssociationWorks();
  });

  it('a response PDU cut short by a closed connection: no-response caused by closed', async () => {
    peer = await startScriptedPeer([
      ...OPEN,
      { do: 'receive' },
      { do: 'send', bytes: encodePData(1, true, Buffer.alloc(100), 1_000)[0]!.subarray(0, 40) },
      { do: 'close' },
    ]);
    const f = await echoFailure(peer);
    expect(f).toMatchObject({ kind: 'no-response', cause: { kind: 'closed' } });
    await expectNextAssociationWorks();
  });

  it('a peer that accepts with a maximum PDU of 4 KB: every P-DATA-TF we send fits, and the data sets arrive byte-identical', async () => {
    peer = await startScriptedPeer([
      { do: 'expect', pdu: 'associate-rq' },
      { do: 'accept', maxPdu: 4_096 },
      { do: 'serve' },
      { do: 'close' },
    ]);
    const outcomes = await storeInstances(
      { host: peer.host, port: peer.port, aeTitle: 'SCRIPTED', callingAeTitle: 'FAULT_SCU', timeouts: FAST },
      medium,
    );
    expect(outcomes.map((o) => o.ok)).toEqual([true, true]);
    const c = await peer.connection(1);
    await c.scriptDone;
    expect(c.scriptError).toBeUndefined();
    const pdata = c.received.filter((p) => p.type === P_DATA);
    const total = medium.reduce((n, i) => n + i.datasetLength, 0);
    expect(pdata.length).toBeGreaterThan(total / 4_096);
    for (const p of pdata) expect(p.length).toBeLessThanOrEqual(4_096);
    // the PDUs are filled, not merely small: all but the last of each data set are exactly 4 KB
    expect(pdata.filter((p) => p.length === 4_096).length).toBeGreaterThanOrEqual(
      pdata.length - 2 * medium.length,
    );
    expect(c.messages.map((m) => m.command.AffectedSOPInstanceUID)).toEqual(
      medium.map((i) => i.sopInstanceUid),
    );
    c.messages.forEach((m, i) => expect(m.dataset.equals(datasetBytes(medium[i]!.path))).toBe(true));
    await expectNextAssociationWorks();
  });

  it('our SCP with a 4 KB maximum PDU, through a proxy: our SCU sends P-DATA-TF of at most 4 KB, the stored files are byte-identical', async () => {
    const dir4k = makeTempDir('faults-4k');
    const scp4k = await startWorkingScp(dir4k, { maxPduLength: 4_096 });
    const up = new PduTap();
    const proxy = await startProxy({
      targetHost: '127.0.0.1',
      targetPort: scp4k.server.port,
      onData: (d, chunk) => d === 'upstream' && up.push(chunk),
    });
    try {
      const outcomes = await storeInstances(scp4k.peer({ port: proxy.port }), medium);
      expect(outcomes.map((o) => o.ok)).toEqual([true, true]);
      const pdata = up.pdus.filter((p) => p.type === P_DATA);
      expect(pdata.length).toBeGreaterThan(medium.reduce((n, i) => n + i.datasetLength, 0) / 4_096);
      expect(Math.max(...pdata.map((p) => p.length))).toBe(4_096);
      for (const i of medium) {
        const stored = scp4k.stored.find((s) => s.ok && s.instance.sopInstanceUid === i.sopInstanceUid);
        expect(stored?.ok).toBe(true);
        if (stored?.ok) expect(datasetBytes(stored.instance.path).equals(datasetBytes(i.path))).toBe(true);
      }
    } finally {
      await proxy.stop();
      await scp4k.server.close();
      removeTempDir(dir4k);
    }
    await expectNextAssociationWorks();
  });
});
