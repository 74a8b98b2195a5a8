/**
 * Faults while an association is being established or released: rejection (every reason of PS3.8 Table 9-21),
 * a peer that aborts or closes instead of answering, a peer silent past the association, release and ARTIM
 * timers, no acceptable context. Each ends in the typed NetFailure that says which, quickly, and the next
 * association to a working peer succeeds.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { requestAssociation } from '../../../src/net/association/request.js';
import { startAssociationServer } from '../../../src/net/association/server.js';
import type { NetFailure } from '../../../src/net/errors.js';
import { VERIFICATION } from '../../../src/net/services/sop-classes.js';
import { storeInstances, type SendableInstance } from '../../../src/net/services/store-scu.js';
import { storageAcceptPolicy } from '../../../src/net/services/scp.js';
import { encodeAssociateAc, encodeAssociateRq } from '../../../src/net/ul/pdu.js';
import { hasCorpus } from '../../harness/corpus.js';
import {
  type WorkingScp,
  checkWorkingAssociation,
  corpusRows,
  guardProcess,
  sendable,
  startWorkingScp,
} from '../../harness/fault-kit.js';
import {
  abortsIn,
  runScriptedClient,
  startScriptedPeer,
  type ScriptedPeer,
  type Step,
} from '../../harness/scripted-peer.js';
import { makeTempDir, removeTempDir } from '../../harness/tmp.js';

const ECHO_CONTEXT = [{ abstractSyntax: VERIFICATION, transferSyntaxes: ['1.2.840.10008.1.2'] }];
const FAST = { connectMs: 1_000, artimMs: 1_000, associationMs: 1_000, releaseMs: 1_000 };

const request = (peer: { host: string; port: number }, timeouts: Partial<typeof FAST> = {}) =>
  requestAssociation({
    host: peer.host,
    port: peer.port,
    callingAeTitle: 'FAULT_SCU',
    calledAeTitle: 'SCRIPTED',
    contexts: ECHO_CONTEXT,
    timeouts: { ...FAST, ...timeouts },
  });

const failureOf = <T>(r: { ok: true; value: T } | { ok: false; error: NetFailure }): NetFailure => {
  if (r.ok) throw new Error('expected a failure, the association was established');
  return r.error;
};

describe.skipIf(!hasCorpus())('association faults', { timeout: 5_000 }, () => {
  let dir: string;
  let scp: WorkingScp;
  let inst: SendableInstance;
  let peer: ScriptedPeer | undefined;
  const guard = guardProcess();

  beforeAll(async () => {
    dir = makeTempDir('faults-assoc');
    scp = await startWorkingScp(dir);
    inst = await sendable(corpusRows(2_000, 20_000, 1)[0]!);
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

  /** The next association, to a working pacshift SCP, in the same process. */
  const expectNextAssociationWorks = async () => {
    const w = await checkWorkingAssociation(scp, inst);
    expect(w.echoStatus).toBe(0);
    expect(w.outcome?.ok).toBe(true);
    expect(w.identical).toBe(true);
  };

  const REJECTIONS: [number, number, number, RegExp][] = [
    [1, 1, 1, /rejected-permanent.*service-user.*no-reason-given/],
    [1, 1, 2, /application-context-name-not-supported/],
    [1, 1, 3, /calling-AE-title-not-recognized/],
    [1, 1, 7, /called-AE-title-not-recognized/],
    [1, 2, 1, /service-provider \(ACSE\).*no-reason-given/],
    [1, 2, 2, /protocol-version-not-supported/],
    [2, 3, 1, /rejected-transient.*presentation.*temporary-congestion/],
    [2, 3, 2, /local-limit-exceeded/],
  ];

  it.each(REJECTIONS)(
    'A-ASSOCIATE-RJ result %i source %i reason %i is a typed rejection',
    async (result, source, reason, text) => {
      peer = await startScriptedPeer([
        { do: 'expect', pdu: 'associate-rq' },
        { do: 'reject', result, source, reason },
        { do: 'silent' },
      ]);
      const t0 = Date.now();
      const f = failureOf(await request(peer));
      expect(f).toMatchObject({ kind: 'rejected', result, source, reason });
      expect(f.message).toMatch(text);
      // AE-4: we close the transport ourselves, without waiting for the peer to do it
      expect(Date.now() - t0).toBeLessThan(900);
      const conn = await peer.connection(1);
      expect(conn.scriptError).toBeUndefined();
      expect((await conn.otherSideClosed) - t0).toBeLessThan(900);
      await expectNextAssociationWorks();
    },
  );

  it('storeInstances against a rejecting peer: every instance fails with the rejection, no retry', async () => {
    peer = await startScriptedPeer([
      { do: 'expect', pdu: 'associate-rq' },
      { do: 'reject', result: 1, source: 1, reason: 3 },
      { do: 'silent' },
    ]);
    const outcomes = await storeInstances(
      { host: peer.host, port: peer.port, aeTitle: 'SCRIPTED', callingAeTitle: 'FAULT_SCU', timeouts: FAST },
      [inst, { ...inst, sopInstanceUid: `${inst.sopInstanceUid}.9` }],
    );
    expect(outcomes).toHaveLength(2);
    for (const o of outcomes)
      expect(o).toMatchObject({ ok: false, failure: { kind: 'rejected', result: 1, source: 1, reason: 3 } });
    expect(peer.connections).toHaveLength(1);
    await expectNextAssociationWorks();
  });

  it('our SCP rejects a wrong called AE title (1/1/7) and an unknown calling AE (1/1/3), and keeps serving', async () => {
    const wrongCalled = failureOf(
      await requestAssociation({
        host: '127.0.0.1',
        port: scp.server.port,
        callingAeTitle: 'FAULT_SCU',
        calledAeTitle: 'NOT_HERE',
        contexts: ECHO_CONTEXT,
        timeouts: FAST,
      }),
    );
    expect(wrongCalled).toMatchObject({ kind: 'rejected', result: 1, source: 1, reason: 7 });

    const strict = await startAssociationServer({
      aeTitle: 'STRICT',
      port: 0,
      host: '127.0.0.1',
      allow: [{ aeTitle: 'KNOWN' }],
      policy: storageAcceptPolicy(),
      timeouts: FAST,
      onAssociation: () => undefined,
    });
    try {
      const unknownCalling = failureOf(
        await requestAssociation({
          host: '127.0.0.1',
          port: strict.port,
          callingAeTitle: 'STRANGER',
          calledAeTitle: 'STRICT',
          contexts: ECHO_CONTEXT,
          timeouts: FAST,
        }),
      );
      expect(unknownCalling).toMatchObject({ kind: 'rejected', result: 1, source: 1, reason: 3 });
    } finally {
      await strict.close();
    }
    await expectNextAssociationWorks();
  });

  it('a peer that aborts instead of answering the A-ASSOCIATE-RQ: aborted, with its source and reason', async () => {
    peer = await startScriptedPeer([
      { do: 'expect', pdu: 'associate-rq' },
      { do: 'abort', source: 2, reason: 0 },
      { do: 'silent' },
    ]);
    const f = failureOf(await request(peer));
    expect(f).toMatchObject({ kind: 'aborted', source: 2, reason: 0 });
    await expectNextAssociationWorks();
  });

  it('a peer that closes the connection instead of answering: closed', async () => {
    peer = await startScriptedPeer([{ do: 'expect', pdu: 'associate-rq' }, { do: 'close' }]);
    const f = failureOf(await request(peer));
    expect(f.kind).toBe('closed');
    // Said as what it usually is (a port that is not DICOM, or a peer dropping unknown callers), not as
    // a state of the Upper Layer table.
    expect(f.message).toMatch(/^the peer closed the connection without answering the association request/);
    expect(f.message).toMatch(/not a DICOM peer/);
    await expectNextAssociationWorks();
  });

  it('a peer that resets the connection instead of answering: closed', async () => {
    peer = await startScriptedPeer([{ do: 'expect', pdu: 'associate-rq' }, { do: 'reset' }]);
    const f = failureOf(await request(peer));
    expect(f.kind).toBe('closed');
    await expectNextAssociationWorks();
  });

  it('nothing listening: connect-failed', async () => {
    const gone = await startScriptedPeer([]);
    const port = gone.port;
    await gone.stop();
    const f = failureOf(await request({ host: '127.0.0.1', port }));
    expect(f).toMatchObject({ kind: 'connect-failed', code: 'ECONNREFUSED' });
    await expectNextAssociationWorks();
  });

  it('a peer silent past the association timeout: timeout (association), reported when the timer fires, and the peer gets an A-ABORT', async () => {
    peer = await startScriptedPeer([{ do: 'expect', pdu: 'associate-rq' }, { do: 'silent' }]);
    const t0 = Date.now();
    // ARTIM is long on purpose: the result must not wait for the transport to close
    const f = failureOf(await request(peer, { associationMs: 200, artimMs: 5_000 }));
    const elapsed = Date.now() - t0;
    expect(f).toMatchObject({ kind: 'timeout', phase: 'association' });
    expect(elapsed).toBeGreaterThanOrEqual(190);
    expect(elapsed).toBeLessThan(1_000);
    const conn = await peer.connection(1);
    await expect.poll(() => abortsIn(conn.received)).toEqual([{ source: 0, reason: 0 }]);
    await expectNextAssociationWorks();
  });

  it('a peer that never answers the A-RELEASE-RQ: timeout (release), and the peer gets an A-ABORT', async () => {
    peer = await startScriptedPeer([
      { do: 'expect', pdu: 'associate-rq' },
      { do: 'accept' },
      { do: 'expect', pdu: 'release-rq' },
      { do: 'silent' },
    ]);
    const r = await request(peer, { releaseMs: 200, artimMs: 5_000 });
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    const t0 = Date.now();
    const f = await r.value.release();
    expect(f).toMatchObject({ kind: 'timeout', phase: 'release' });
    expect(Date.now() - t0).toBeLessThan(1_000);
    const conn = await peer.connection(1);
    await expect.poll(() => abortsIn(conn.received)).toEqual([{ source: 0, reason: 0 }]);
    await expectNextAssociationWorks();
  });

  it('a peer that accepts none of the contexts: no-presentation-context, and the association is released', async () => {
    peer = await startScriptedPeer([
      { do: 'expect', pdu: 'associate-rq' },
      { do: 'accept', refuse: () => 3 },
      { do: 'expect', pdu: 'release-rq' },
      { do: 'release-rp' },
      { do: 'silent' },
    ]);
    const f = failureOf(await request(peer));
    expect(f.kind).toBe('no-presentation-context');
    const conn = await peer.connection(1);
    await conn.scriptDone;
    expect(conn.scriptError).toBeUndefined();
    await expectNextAssociationWorks();
  });

  it('ARTIM at our SCP: a client that connects and says nothing is dropped after artimMs', async () => {
    const artimDir = makeTempDir('faults-artim');
    const quick = await startWorkingScp(artimDir, { artimMs: 200 });
    try {
      const t0 = Date.now();
      const client = await runScriptedClient('127.0.0.1', quick.server.port, [{ do: 'silent' }]);
      await expect.poll(() => quick.server.active.size).toBe(1);
      const [assoc] = [...quick.server.active];
      const f = await assoc!.whenEnded();
      expect(f).toMatchObject({ kind: 'timeout', phase: 'artim' });
      const closedAt = await client.otherSideClosed;
      expect(closedAt - t0).toBeGreaterThanOrEqual(190);
      expect(closedAt - t0).toBeLessThan(1_500);
      client.socket.destroy();
      // the same server then serves a normal association
      const w = await checkWorkingAssociation(quick, inst);
      expect(w.echoStatus).toBe(0);
      expect(w.identical).toBe(true);
    } finally {
      await quick.server.close();
      removeTempDir(artimDir);
    }
  });

  it('a client that sends garbage instead of an A-ASSOCIATE-RQ gets an A-ABORT from our SCP, which keeps serving', async () => {
    const steps: Step[] = [{ do: 'garbage' }, { do: 'expect', pdu: 'abort' }, { do: 'close' }];
    const client = await runScriptedClient('127.0.0.1', scp.server.port, steps);
    await client.scriptDone;
    expect(client.scriptError).toBeUndefined();
    expect(abortsIn(client.received)).toHaveLength(1);
    await client.closed;
    await expect.poll(() => scp.server.active.size).toBe(0);
    await expectNextAssociationWorks();
  });

  it('a client whose A-ASSOCIATE-RQ carries a role selection sub-item of length 0 gets an A-ABORT, and our SCP keeps serving', async () => {
    const rq = encodeAssociateRq({
      calledAeTitle: scp.aeTitle,
      callingAeTitle: 'BROKEN',
      presentationContexts: [
        { id: 1, abstractSyntax: VERIFICATION, transferSyntaxes: ['1.2.840.10008.1.2'] },
      ],
      userInformation: {
        maxPduLength: 0,
        implementationClassUid: '1.2.3',
        roleSelections: [],
        extendedNegotiations: [],
        otherItems: [{ type: 0x54, data: Buffer.alloc(0) }],
      },
    });
    const client = await runScriptedClient('127.0.0.1', scp.server.port, [
      { do: 'send', bytes: rq },
      { do: 'expect', pdu: 'abort' },
      { do: 'close' },
    ]);
    await client.scriptDone;
    expect(client.scriptError).toBeUndefined();
    await client.closed;
    await expectNextAssociationWorks();
  });

  it('a release collision (the peer sends its own A-RELEASE-RQ): both released cleanly (PS3.8 Sta7 → Sta9 → Sta11)', async () => {
    peer = await startScriptedPeer([
      { do: 'expect', pdu: 'associate-rq' },
      { do: 'accept' },
      { do: 'expect', pdu: 'release-rq' },
      { do: 'release-rq' },
      { do: 'expect', pdu: 'release-rp' },
      { do: 'release-rp' },
      { do: 'silent' },
    ]);
    const r = await request(peer);
    if (!r.ok) throw new Error(r.error.message);
    expect(await r.value.release()).toBeUndefined();
    expect(r.value.state).toBe('Sta1');
    const conn = await peer.connection(1);
    await conn.scriptDone;
    expect(conn.scriptError).toBeUndefined();
    await expectNextAssociationWorks();
  });

  it('a peer that aborts instead of answering our A-RELEASE-RQ: release() is the abort', async () => {
    peer = await startScriptedPeer([
      { do: 'expect', pdu: 'associate-rq' },
      { do: 'accept' },
      { do: 'expect', pdu: 'release-rq' },
      { do: 'abort', source: 2, reason: 0 },
      { do: 'silent' },
    ]);
    const r = await request(peer);
    if (!r.ok) throw new Error(r.error.message);
    expect(await r.value.release()).toMatchObject({ kind: 'aborted', source: 2, reason: 0 });
    await expectNextAssociationWorks();
  });

  it('an A-ASSOCIATE-AC naming a transfer syntax we did not propose: that context is not accepted', async () => {
    peer = await startScriptedPeer([
      { do: 'expect', pdu: 'associate-rq' },
      {
        do: 'send',
        bytes: (c) =>
          encodeAssociateAc({
            calledAeTitle: c.associateRq!.calledAeTitle,
            callingAeTitle: c.associateRq!.callingAeTitle,
            presentationContexts: [{ id: 1, result: 0, transferSyntax: '1.2.840.10008.1.2.4.50' }],
            userInformation: {
              maxPduLength: 16_384,
              implementationClassUid: '1.2.3',
              roleSelections: [],
              extendedNegotiations: [],
              otherItems: [],
            },
          }),
      },
      { do: 'expect', pdu: 'release-rq' },
      { do: 'release-rp' },
      { do: 'close' },
    ]);
    const f = failureOf(await request(peer));
    expect(f.kind).toBe('no-presentation-context');
    await expectNextAssociationWorks();
  });

  it('ARTIM at our SCP: a client that sends part of an A-ASSOCIATE-RQ and stops is dropped after artimMs', async () => {
    const artimDir = makeTempDir('faults-artim2');
    const quick = await startWorkingScp(artimDir, { artimMs: 200 });
    try {
      const rq = encodeAssociateRq({
        calledAeTitle: quick.aeTitle,
        callingAeTitle: 'SLOW',
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
      const t0 = Date.now();
      const client = await runScriptedClient('127.0.0.1', quick.server.port, [
        { do: 'send', bytes: rq.subarray(0, 40) },
        { do: 'silent' },
      ]);
      const closedAt = await client.otherSideClosed;
      expect(closedAt - t0).toBeGreaterThanOrEqual(190);
      expect(closedAt - t0).toBeLessThan(1_500);
      await expect.poll(() => quick.server.active.size).toBe(0);
      client.socket.destroy();
      const w = await checkWorkingAssociation(quick, inst);
      expect(w.identical).toBe(true);
    } finally {
      await quick.server.close();
      removeTempDir(artimDir);
    }
  });

  /** An A-ASSOCIATE-RQ for the working SCP with another protocol version field (PS3.8 9.3.2). */
  const rqWithVersion = (version: number): Buffer => {
    const rq = encodeAssociateRq({
      calledAeTitle: scp.aeTitle,
      callingAeTitle: 'VERSIONED',
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
    rq.writeUInt16BE(version, 6);
    return rq;
  };

  it('an A-ASSOCIATE-RQ with bit 0 of the protocol version set, and other bits too, is accepted (PS3.8 9.3.2: test bit 0 only)', async () => {
    const client = await runScriptedClient('127.0.0.1', scp.server.port, [
      { do: 'send', bytes: rqWithVersion(0x0003) },
      { do: 'expect', pdu: 'associate-ac' },
      { do: 'release-rq' },
      { do: 'expect', pdu: 'release-rp' },
      { do: 'close' },
    ]);
    await client.scriptDone;
    expect(client.scriptError).toBeUndefined();
  });

  it('an A-ASSOCIATE-RQ without bit 0 of the protocol version is rejected 1/2/2 (protocol version not supported)', async () => {
    const client = await runScriptedClient('127.0.0.1', scp.server.port, [
      { do: 'send', bytes: rqWithVersion(0x0002) },
      { do: 'expect', pdu: 'associate-rj' },
      { do: 'close' },
    ]);
    await client.scriptDone;
    expect(client.scriptError).toBeUndefined();
    expect([...client.received[0]!.raw.subarray(7, 10)]).toEqual([1, 2, 2]);
    await expectNextAssociationWorks();
  });
});
