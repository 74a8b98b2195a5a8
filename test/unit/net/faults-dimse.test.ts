/**
 * Faults on an established association while our SCU works: the peer aborts in the middle of our data set,
 * closes or resets the connection, releases instead of answering, stays silent past the DIMSE timeout, or
 * answers a C-STORE with a failure status. Each is a typed result (a NetFailure kind, or a status with its
 * action from the status table); nothing hangs or escapes; the next association to a working peer succeeds.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { NetFailure } from '../../../src/net/errors.js';
import { CommandField, NO_DATASET, encodeCommand } from '../../../src/net/dimse/command.js';
import { type Peer, openChannel } from '../../../src/net/peer.js';
import { cEcho } from '../../../src/net/services/echo.js';
import { VERIFICATION } from '../../../src/net/services/sop-classes.js';
import {
  type SendableInstance,
  type StoreOutcome,
  proposalsFor,
  storeInstances,
  storeOne,
} from '../../../src/net/services/store-scu.js';
import { hasCorpus } from '../../harness/corpus.js';
import { datasetBytes } from '../../harness/dicom-file.js';
import {
  type WorkingScp,
  checkWorkingAssociation,
  corpusRows,
  guardProcess,
  sendable,
  startWorkingScp,
} from '../../harness/fault-kit.js';
import {
  type ScriptedPeer,
  type Step,
  abortsIn,
  encodePData,
  startScriptedPeer,
} from '../../harness/scripted-peer.js';
import { startProxy } from '../../harness/proxy.js';
import { makeTempDir, removeTempDir } from '../../harness/tmp.js';

const FAST = { connectMs: 1_000, artimMs: 1_000, associationMs: 1_000, releaseMs: 1_000 };
const OPEN: Step[] = [{ do: 'expect', pdu: 'associate-rq' }, { do: 'accept' }];

const failureOf = (o: StoreOutcome | undefined): NetFailure | undefined =>
  o && !o.ok ? o.failure : undefined;

describe.skipIf(!hasCorpus())('DIMSE faults', { timeout: 5_000 }, () => {
  let dir: string;
  let scp: WorkingScp;
  let small: SendableInstance;
  let medium: SendableInstance[];
  let peer: ScriptedPeer | undefined;
  const guard = guardProcess();

  beforeAll(async () => {
    dir = makeTempDir('faults-dimse');
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

  const scripted = (p: ScriptedPeer, o: Partial<Peer> = {}): Peer => ({
    host: p.host,
    port: p.port,
    aeTitle: 'SCRIPTED',
    callingAeTitle: 'FAULT_SCU',
    timeouts: FAST,
    dimseTimeoutMs: 2_000,
    ...o,
  });

  const expectNextAssociationWorks = async () => {
    const w = await checkWorkingAssociation(scp, small);
    expect(w.echoStatus).toBe(0);
    expect(w.outcome?.ok).toBe(true);
    expect(w.identical).toBe(true);
  };

  const echoOn = async (p: ScriptedPeer, timeoutMs = 2_000) => {
    const ch = await openChannel(scripted(p), [
      { abstractSyntax: VERIFICATION, transferSyntaxes: ['1.2.840.10008.1.2'] },
    ]);
    if (!ch.ok) throw new Error(`association failed: ${ch.error.message}`);
    return { ch: ch.value, result: await cEcho(ch.value, timeoutMs) };
  };

  it('the peer aborts in the middle of our data set: no-response caused by aborted (its source and reason)', async () => {
    peer = await startScriptedPeer([
      ...OPEN,
      { do: 'receive', afterDatasetBytes: 50_000 },
      { do: 'abort', source: 2, reason: 0 },
      { do: 'silent' },
    ]);
    const outcomes = await storeInstances(scripted(peer), [medium[0]!], { maxReconnects: 0 });
    expect(outcomes).toHaveLength(1);
    expect(failureOf(outcomes[0])).toMatchObject({
      kind: 'no-response',
      cause: { kind: 'aborted', source: 2, reason: 0 },
    });
    const conn = await peer.connection(1);
    expect(conn.scriptError).toBeUndefined();
    // the abort came in the middle of the data set (the peer read no further)
    expect(conn.messages[0]!.datasetLength).toBeGreaterThanOrEqual(50_000);
    expect(conn.messages[0]!.datasetLength).toBeLessThan(medium[0]!.datasetLength);
    await expectNextAssociationWorks();
  });

  it('after an abort mid data set storeInstances opens a new association: the aborted instance goes again first, then the rest, intact', async () => {
    peer = await startScriptedPeer((n) =>
      n === 1
        ? [...OPEN, { do: 'receive', afterDatasetBytes: 50_000 }, { do: 'abort' }, { do: 'silent' }]
        : [...OPEN, { do: 'serve' }, { do: 'close' }],
    );
    const outcomes = await storeInstances(scripted(peer), medium);
    // One abort on an instance is not held against it: sent once more, it is stored (store-outcome.ts
    // quarantines only an instance the peer aborts on again).
    expect(outcomes.map((o) => [o.instance.sopInstanceUid, o.ok])).toEqual([
      [medium[0]!.sopInstanceUid, true],
      [medium[1]!.sopInstanceUid, true],
    ]);
    expect(peer.connections).toHaveLength(2);
    const second = peer.connections[1]!;
    await second.scriptDone;
    expect(second.scriptError).toBeUndefined();
    expect(second.messages.map((m) => m.command.AffectedSOPInstanceUID)).toEqual(
      medium.map((m) => m.sopInstanceUid),
    );
    for (const [i, m] of second.messages.entries())
      expect(m.dataset.equals(datasetBytes(medium[i]!.path))).toBe(true);
    await expectNextAssociationWorks();
  });

  it('the peer closes the connection (FIN) mid association: no-response caused by closed', async () => {
    peer = await startScriptedPeer([...OPEN, { do: 'receive' }, { do: 'close' }]);
    const { result } = await echoOn(peer);
    expect(result).toMatchObject({ ok: false, error: { kind: 'no-response', cause: { kind: 'closed' } } });
    await expectNextAssociationWorks();
  });

  it('the peer resets the connection in the middle of our data set: no-response caused by closed', async () => {
    peer = await startScriptedPeer([...OPEN, { do: 'receive', afterDatasetBytes: 50_000 }, { do: 'reset' }]);
    const [o] = await storeInstances(scripted(peer), [medium[0]!], { maxReconnects: 0 });
    expect(failureOf(o)).toMatchObject({ kind: 'no-response', cause: { kind: 'closed' } });
    await expectNextAssociationWorks();
  });

  it('the peer releases instead of answering: no-response (the association ended cleanly)', async () => {
    peer = await startScriptedPeer([
      ...OPEN,
      { do: 'receive' },
      { do: 'release-rq' },
      { do: 'expect', pdu: 'release-rp' },
      { do: 'close' },
    ]);
    const { ch, result } = await echoOn(peer);
    expect(result).toMatchObject({ ok: false, error: { kind: 'no-response' } });
    // released, not broken: no transport failure behind the missing response
    expect(result.ok ? 'ok' : result.error.kind === 'no-response' && result.error.cause).toBeUndefined();
    expect(await ch.assoc.whenEnded()).toBeUndefined();
    const conn = await peer.connection(1);
    await conn.scriptDone;
    expect(conn.scriptError).toBeUndefined();
    await expectNextAssociationWorks();
  });

  it('the peer aborts instead of answering a C-ECHO: no-response caused by aborted', async () => {
    peer = await startScriptedPeer([
      ...OPEN,
      { do: 'receive' },
      { do: 'abort', source: 0, reason: 0 },
      { do: 'silent' },
    ]);
    const { result } = await echoOn(peer);
    expect(result).toMatchObject({
      ok: false,
      error: { kind: 'no-response', cause: { kind: 'aborted', source: 0, reason: 0 } },
    });
    await expectNextAssociationWorks();
  });

  it('a peer silent past the DIMSE timeout: timeout (dimse) when the timer fires, and the peer gets an A-ABORT', async () => {
    peer = await startScriptedPeer([...OPEN, { do: 'receive' }, { do: 'silent' }]);
    const t0 = Date.now();
    const { ch, result } = await echoOn(peer, 200);
    const elapsed = Date.now() - t0;
    expect(result).toMatchObject({ ok: false, error: { kind: 'timeout', phase: 'dimse' } });
    expect(elapsed).toBeGreaterThanOrEqual(190);
    expect(elapsed).toBeLessThan(1_000);
    const conn = await peer.connection(1);
    await expect.poll(() => abortsIn(conn.received)).toEqual([{ source: 0, reason: 0 }]);
    expect(ch.assoc.isEstablished).toBe(false);
    await expectNextAssociationWorks();
  });

  it('a C-STORE answered by nobody within dimseTimeoutMs: the outcome is a DIMSE timeout', async () => {
    peer = await startScriptedPeer([...OPEN, { do: 'receive' }, { do: 'silent' }]);
    const [o] = await storeInstances(scripted(peer, { dimseTimeoutMs: 200 }), [small], { maxReconnects: 0 });
    expect(failureOf(o)).toMatchObject({ kind: 'timeout', phase: 'dimse' });
    await expectNextAssociationWorks();
  });

  const STATUSES = [
    { hex: 'A700', status: 0xa700, ok: false, action: 'retry-backoff' },
    { hex: '0122', status: 0x0122, ok: false, action: 'quarantine-capability-gap' },
    { hex: 'A900', status: 0xa900, ok: false, action: 'quarantine' },
    { hex: 'C000', status: 0xc000, ok: false, action: 'retry-other-syntax-then-quarantine' },
    { hex: '0111', status: 0x0111, ok: false, action: 'compare-content' },
    { hex: 'B000', status: 0xb000, ok: true, action: 'accept-warning-verify' },
    { hex: '0000', status: 0x0000, ok: true, action: 'verify' },
  ];

  it.each(STATUSES)(
    'a C-STORE-RSP with status $hex: ok=$ok, action $action, and the association carries on',
    async ({ status, ok, action }) => {
      peer = await startScriptedPeer([
        ...OPEN,
        {
          do: 'serve',
          status: (c) =>
            c.CommandField === CommandField.C_STORE_RQ &&
            c.AffectedSOPInstanceUID === medium[0]!.sopInstanceUid
              ? status
              : 0,
        },
        { do: 'close' },
      ]);
      const outcomes = await storeInstances(scripted(peer), medium);
      const first = outcomes.find((o) => o.instance.sopInstanceUid === medium[0]!.sopInstanceUid)!;
      const second = outcomes.find((o) => o.instance.sopInstanceUid === medium[1]!.sopInstanceUid)!;
      expect(first).toMatchObject({ ok, status, entry: { action } });
      // a status is the peer's answer, never a NetFailure
      expect(first.ok ? undefined : first.failure).toBeUndefined();
      expect(second).toMatchObject({ ok: true, status: 0 });
      // a failure status is an answer, not a broken association: one association for both
      expect(peer.connections).toHaveLength(1);
      await expectNextAssociationWorks();
    },
  );

  it('an early A700 after the first 50 KB, while we still send: that instance gets the status, its data set still completes, the next one goes through', async () => {
    peer = await startScriptedPeer([
      ...OPEN,
      { do: 'receive', afterDatasetBytes: 50_000 },
      { do: 'respond', status: 0xa700 },
      { do: 'serve' },
      { do: 'close' },
    ]);
    const outcomes = await storeInstances(scripted(peer), medium);
    expect(outcomes.map((o) => [o.ok, o.ok ? o.status : (o.status ?? o.failure?.kind)])).toEqual([
      [false, 0xa700],
      [true, 0],
    ]);
    expect(outcomes[0]).toMatchObject({ entry: { action: 'retry-backoff' } });
    const c = await peer.connection(1);
    await c.scriptDone;
    expect(c.scriptError).toBeUndefined();
    expect(c.messages).toHaveLength(2);
    c.messages.forEach((m, i) => {
      expect(m.complete).toBe(true);
      expect(m.dataset.equals(datasetBytes(medium[i]!.path))).toBe(true);
    });
    await expectNextAssociationWorks();
  });

  it('a failure status with an error comment: the comment is reported with the action', async () => {
    peer = await startScriptedPeer([
      ...OPEN,
      { do: 'receive' },
      { do: 'respond', status: 0xa700, comment: 'disk full' },
      { do: 'expect', pdu: 'release-rq' },
      { do: 'release-rp' },
      { do: 'close' },
    ]);
    const [o] = await storeInstances(scripted(peer), [small]);
    expect(o).toMatchObject({
      ok: false,
      status: 0xa700,
      errorComment: 'disk full',
      entry: { action: 'retry-backoff', category: 'failure' },
    });
    await expectNextAssociationWorks();
  });

  /** A P-DATA-TF carrying one complete command set on a context. */
  const commandPdu = (contextId: number, command: Buffer) =>
    encodePData(contextId, true, command, 16_384)[0]!;

  it('a response whose command set does not decode: we abort, no-response caused by protocol-error', async () => {
    peer = await startScriptedPeer([
      ...OPEN,
      { do: 'receive' },
      { do: 'send', bytes: commandPdu(1, Buffer.from([0, 0, 0, 1, 0xff, 0, 0, 0])) },
      { do: 'expect', pdu: 'abort' },
      { do: 'close' },
    ]);
    const { result } = await echoOn(peer);
    expect(result).toMatchObject({
      ok: false,
      error: {
        kind: 'no-response',
        cause: { kind: 'protocol-error', message: expect.stringMatching(/malformed command set/) },
      },
    });
    await expectNextAssociationWorks();
  });

  it('a response on a presentation context that was never proposed: we abort, protocol-error', async () => {
    const rsp = encodeCommand({
      CommandField: CommandField.C_ECHO_RSP,
      MessageIDBeingRespondedTo: 1,
      CommandDataSetType: NO_DATASET,
      Status: 0,
    });
    peer = await startScriptedPeer([
      ...OPEN,
      { do: 'receive' },
      { do: 'send', bytes: commandPdu(99, rsp) },
      { do: 'expect', pdu: 'abort' },
      { do: 'close' },
    ]);
    const { result } = await echoOn(peer);
    expect(result).toMatchObject({
      ok: false,
      error: {
        kind: 'no-response',
        cause: { kind: 'protocol-error', message: expect.stringMatching(/context 99/) },
      },
    });
    await expectNextAssociationWorks();
  });

  it('a response to a message we never sent is ignored; ours then times out (dimse)', async () => {
    const stray = encodeCommand({
      CommandField: CommandField.C_ECHO_RSP,
      MessageIDBeingRespondedTo: 4242,
      CommandDataSetType: NO_DATASET,
      Status: 0,
    });
    peer = await startScriptedPeer([
      ...OPEN,
      { do: 'receive' },
      { do: 'send', bytes: commandPdu(1, stray) },
      { do: 'silent' },
    ]);
    const { result } = await echoOn(peer, 300);
    expect(result).toMatchObject({ ok: false, error: { kind: 'timeout', phase: 'dimse' } });
    await expectNextAssociationWorks();
  });

  it('a connection that goes silent in the middle of our data set (half-open, through a proxy): DIMSE timeout, then ARTIM frees our side', async () => {
    const proxy = await startProxy({ targetHost: '127.0.0.1', targetPort: scp.server.port });
    proxy.cutAfterBytes(100_000, 'upstream', { mode: 'blackhole', once: true });
    try {
      const ch = await openChannel(
        scp.peer({ port: proxy.port, timeouts: { ...FAST, artimMs: 300 } }),
        proposalsFor([medium[0]!]),
      );
      if (!ch.ok) throw new Error(ch.error.message);
      const t0 = Date.now();
      const o = await storeOne(ch.value, medium[0]!, { timeoutMs: 300 });
      expect(failureOf(o)).toMatchObject({ kind: 'timeout', phase: 'dimse' });
      expect(Date.now() - t0).toBeLessThan(1_000);
      // our A-ABORT cannot get through; ARTIM closes the transport (AA-2) instead of waiting for the peer forever
      expect(await ch.value.assoc.whenEnded()).toMatchObject({ kind: 'local' });
      expect(Date.now() - t0).toBeLessThan(1_500);
      expect(ch.value.assoc.state).toBe('Sta1');
      // the same proxy, fault spent: a whole file goes through
      const w = await checkWorkingAssociation(
        { ...scp, peer: (x = {}) => scp.peer({ port: proxy.port, ...x }) },
        medium[1]!,
      );
      expect(w.identical).toBe(true);
    } finally {
      await proxy.stop();
    }
    await expectNextAssociationWorks();
  });
});
