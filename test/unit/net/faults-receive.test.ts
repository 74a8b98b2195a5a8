/**
 * Faults while our SCP receives: the sender aborts, resets or sends garbage after half a data set has arrived
 * (more than one write batch, so a temporary file exists on disk). The SCP's association ends with the typed
 * failure, the temporary file is removed, nothing is left under the final name, and the SCP keeps serving.
 */
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CommandField, DATASET_PRESENT, NO_DATASET } from '../../../src/net/dimse/command.js';
import { openChannel } from '../../../src/net/peer.js';
import { FolderStoreTarget } from '../../../src/net/services/store-target.js';
import { startScp, storageAcceptPolicy } from '../../../src/net/services/scp.js';
import {
  type SendableInstance,
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
  eventually,
  filesIn,
  guardProcess,
  sendable,
  startWorkingScp,
} from '../../harness/fault-kit.js';
import { startProxy } from '../../harness/proxy.js';
import { type Step, abortsIn, runScriptedClient } from '../../harness/scripted-peer.js';
import { makeTempDir, removeTempDir } from '../../harness/tmp.js';

/** More than the store target's write batch (1 MiB), less than the file: a temporary file exists, incomplete. */
const HALF = 1_200_000;

describe.skipIf(!hasCorpus())('faults while our SCP receives', { timeout: 5_000 }, () => {
  let dir: string;
  let scp: WorkingScp;
  let small: SendableInstance;
  let large: SendableInstance;
  let largeDataset: Buffer;
  const guard = guardProcess();

  beforeAll(async () => {
    dir = makeTempDir('faults-recv');
    scp = await startWorkingScp(dir);
    small = await sendable(corpusRows(2_000, 20_000, 1)[0]!);
    large = await sendable(corpusRows(1_400_000, 4_000_000, 1)[0]!);
    largeDataset = datasetBytes(large.path);
    expect(large.datasetLength).toBeGreaterThan(HALF + 100_000);
  });
  afterAll(async () => {
    await scp.server.close();
    guard.dispose();
    removeTempDir(dir);
  });
  afterEach(async () => {
    expect(guard.errors.splice(0)).toEqual([]);
  });

  const partFiles = () => filesIn(dir).filter((f) => f.endsWith('.part'));
  const finalFiles = () => filesIn(dir).filter((f) => f.startsWith(large.sopInstanceUid));

  /** The last association the SCP accepted and how it ended; then: temp file gone, no final file, the SCP still works. */
  const expectCleanAfter = async (kind: string, extra: Record<string, unknown> = {}) => {
    const ended = await scp.ended.at(-1)!;
    expect(ended).toMatchObject({ kind, ...extra });
    await eventually(() => partFiles().length === 0, 2_000, 'temporary file removed');
    expect(finalFiles()).toEqual([]);
    expect(scp.stored.filter((s) => s.ok && s.instance.sopInstanceUid === large.sopInstanceUid)).toEqual([]);
    const w = await checkWorkingAssociation(scp, small);
    expect(w.echoStatus).toBe(0);
    expect(w.identical).toBe(true);
  };

  /** A sender that associates and streams the first HALF bytes of the large data set, then waits for the temporary file. */
  const halfDataset = (): Step[] => [
    {
      do: 'request',
      calledAeTitle: scp.aeTitle,
      callingAeTitle: 'HALF_SENDER',
      contexts: [{ id: 1, abstractSyntax: large.sopClassUid, transferSyntaxes: [large.transferSyntaxUid] }],
    },
    { do: 'expect', pdu: 'associate-ac' },
    {
      do: 'send-message',
      contextId: 1,
      command: {
        CommandField: CommandField.C_STORE_RQ,
        MessageID: 1,
        AffectedSOPClassUID: large.sopClassUid,
        AffectedSOPInstanceUID: large.sopInstanceUid,
        Priority: 0,
        CommandDataSetType: DATASET_PRESENT,
      },
      dataset: largeDataset,
      datasetBytes: HALF,
    },
    { do: 'wait', until: () => partFiles().length === 1, timeoutMs: 2_000 },
  ];

  it('the sender aborts after half a data set: aborted (source 0), temporary file removed', async () => {
    const c = await runScriptedClient('127.0.0.1', scp.server.port, [
      ...halfDataset(),
      { do: 'abort' },
      { do: 'close' },
    ]);
    await c.scriptDone;
    expect(c.scriptError).toBeUndefined();
    await expectCleanAfter('aborted', { source: 0, reason: 0 });
  });

  it('the sender resets the connection after half a data set: closed, temporary file removed', async () => {
    const c = await runScriptedClient('127.0.0.1', scp.server.port, [...halfDataset(), { do: 'reset' }]);
    await c.scriptDone;
    expect(c.scriptError).toBeUndefined();
    await expectCleanAfter('closed');
  });

  it('the sender closes (FIN) after half a data set: closed, temporary file removed', async () => {
    const c = await runScriptedClient('127.0.0.1', scp.server.port, [...halfDataset(), { do: 'close' }]);
    await c.scriptDone;
    await expectCleanAfter('closed');
  });

  it('garbage after half a data set: we abort (unrecognized PDU), protocol-error, temporary file removed', async () => {
    const c = await runScriptedClient('127.0.0.1', scp.server.port, [
      ...halfDataset(),
      { do: 'garbage' },
      { do: 'expect', pdu: 'abort' },
      { do: 'close' },
    ]);
    await c.scriptDone;
    expect(c.scriptError).toBeUndefined();
    expect(abortsIn(c.received)).toEqual([{ source: 2, reason: 1 }]);
    await expectCleanAfter('protocol-error');
  });

  it('a data set fragment on a context without a command: we abort, protocol-error', async () => {
    const steps: Step[] = [
      halfDataset()[0]!,
      halfDataset()[1]!,
      { do: 'send', bytes: Buffer.from([0x04, 0, 0, 0, 0, 10, 0, 0, 0, 6, 1, 2, 1, 2, 3, 4]) },
      { do: 'expect', pdu: 'abort' },
      { do: 'close' },
    ];
    const c = await runScriptedClient('127.0.0.1', scp.server.port, steps);
    await c.scriptDone;
    expect(c.scriptError).toBeUndefined();
    expect(await scp.ended.at(-1)).toMatchObject({ kind: 'protocol-error' });
    const w = await checkWorkingAssociation(scp, small);
    expect(w.identical).toBe(true);
  });

  it('a second C-STORE command before the first data set ended: we abort (protocol-error), both temporary files go', async () => {
    const [request, ac, store, wait] = halfDataset();
    const second: Step = {
      do: 'send-message',
      contextId: 1,
      command: {
        ...(store as Extract<Step, { do: 'send-message' }>).command,
        MessageID: 2,
        AffectedSOPInstanceUID: `${large.sopInstanceUid}.2`,
      },
      dataset: largeDataset,
      datasetBytes: HALF,
    };
    const c = await runScriptedClient('127.0.0.1', scp.server.port, [
      request!,
      ac!,
      store!,
      wait!,
      second,
      { do: 'expect', pdu: 'abort' },
      { do: 'close' },
    ]);
    await c.scriptDone;
    expect(c.scriptError).toBeUndefined();
    await expectCleanAfter('protocol-error');
    expect(filesIn(dir).filter((f) => f.includes(large.sopInstanceUid))).toEqual([]);
  });

  it('a data set whose last fragment comes on another presentation context: we abort (protocol-error), nothing stored', async () => {
    const [request, ac, store] = halfDataset();
    const twoContexts = {
      ...(request as Extract<Step, { do: 'request' }>),
      contexts: [
        { id: 1, abstractSyntax: large.sopClassUid, transferSyntaxes: [large.transferSyntaxUid] },
        { id: 3, abstractSyntax: '1.2.840.10008.1.1', transferSyntaxes: ['1.2.840.10008.1.2'] },
      ],
    };
    // an empty last data set fragment (PDV of length 2) on context 3 while the data set runs on context 1
    const endElsewhere = Buffer.from([0x04, 0, 0, 0, 0, 6, 0, 0, 0, 2, 3, 2]);
    const c = await runScriptedClient('127.0.0.1', scp.server.port, [
      twoContexts,
      ac!,
      { ...(store as Extract<Step, { do: 'send-message' }>), datasetBytes: 10_000 },
      { do: 'send', bytes: endElsewhere },
      { do: 'expect', pdu: 'abort' },
      { do: 'close' },
    ]);
    await c.scriptDone;
    expect(c.scriptError).toBeUndefined();
    await expectCleanAfter('protocol-error');
  });

  it('a C-STORE-RQ that announces no data set: a failure status, no crash, and the SCP keeps serving', async () => {
    const [request, ac, store] = halfDataset();
    const noData: Step = {
      do: 'send-message',
      contextId: 1,
      command: {
        ...(store as Extract<Step, { do: 'send-message' }>).command,
        CommandDataSetType: NO_DATASET,
      },
    };
    const c = await runScriptedClient('127.0.0.1', scp.server.port, [
      request!,
      ac!,
      noData,
      { do: 'receive' },
      { do: 'release-rq' },
      { do: 'expect', pdu: 'release-rp' },
      { do: 'close' },
    ]);
    await c.scriptDone;
    expect(c.scriptError).toBeUndefined();
    expect(c.messages[0]!.command).toMatchObject({
      CommandField: CommandField.C_STORE_RSP,
      MessageIDBeingRespondedTo: 1,
      Status: 0xc000,
    });
    expect(await scp.ended.at(-1)).toBeUndefined();
    expect(finalFiles()).toEqual([]);
    const w = await checkWorkingAssociation(scp, small);
    expect(w.identical).toBe(true);
  });

  it('a request handler that throws (a provider bug): the association is aborted naming the error, no unhandled rejection', async () => {
    const ended: Promise<unknown>[] = [];
    const buggy = await startScp({
      aeTitle: 'BUGGY',
      port: 0,
      host: '127.0.0.1',
      policy: storageAcceptPolicy(),
      handlers: {
        onAssociation: (a) => ended.push(a.whenEnded()),
        onOtherRequest: () => Promise.reject(new Error('provider bug')),
      },
    });
    try {
      const find: Step = {
        do: 'send-message',
        contextId: 1,
        command: {
          CommandField: CommandField.C_FIND_RQ,
          MessageID: 1,
          AffectedSOPClassUID: large.sopClassUid,
          Priority: 0,
          CommandDataSetType: NO_DATASET,
        },
      };
      const steps = halfDataset()
        .slice(0, 2)
        .map((st) => (st.do === 'request' ? { ...st, calledAeTitle: 'BUGGY' } : st));
      const c = await runScriptedClient('127.0.0.1', buggy.port, [
        ...steps,
        find,
        { do: 'expect', pdu: 'abort' },
        { do: 'close' },
      ]);
      await c.scriptDone;
      expect(c.scriptError).toBeUndefined();
      expect(await ended[0]).toMatchObject({ kind: 'local', message: expect.stringMatching(/provider bug/) });
      // the server survives: the next association is served
      const again = await runScriptedClient('127.0.0.1', buggy.port, [
        ...steps,
        { do: 'release-rq' },
        { do: 'expect', pdu: 'release-rp' },
        { do: 'close' },
      ]);
      await again.scriptDone;
      expect(again.scriptError).toBeUndefined();
    } finally {
      await buggy.close();
    }
  });

  it('an SCP whose folder cannot be created: no crash, and each C-STORE is answered A700 naming the cause', async () => {
    const blocker = join(dir, 'a-file');
    writeFileSync(blocker, 'not a directory');
    const ended: Promise<unknown>[] = [];
    const target = new FolderStoreTarget(join(blocker, 'received'));
    // nothing is stored for a while: the failed mkdir must not surface as an unhandled rejection meanwhile
    await new Promise((r) => setTimeout(r, 50));
    expect(guard.errors).toEqual([]);
    const broken = await startScp({
      aeTitle: 'NO_FOLDER',
      port: 0,
      host: '127.0.0.1',
      policy: storageAcceptPolicy(),
      handlers: { store: target, onAssociation: (a) => ended.push(a.whenEnded()) },
    });
    try {
      const [o] = await storeInstances(
        { host: '127.0.0.1', port: broken.port, aeTitle: 'NO_FOLDER', callingAeTitle: 'FAULT_SCU' },
        [small],
      );
      expect(o).toMatchObject({ ok: false, status: 0xa700, errorComment: expect.stringMatching(/ENOTDIR/) });
    } finally {
      await broken.close();
      rmSync(blocker);
    }
  });

  it('an A-RELEASE-RQ right behind the last fragment of a C-STORE: the response comes first, then the A-RELEASE-RP', async () => {
    const [request, ac, store] = halfDataset();
    const smallDataset = datasetBytes(small.path);
    const c = await runScriptedClient('127.0.0.1', scp.server.port, [
      {
        ...(request as Extract<Step, { do: 'request' }>),
        contexts: [{ id: 1, abstractSyntax: small.sopClassUid, transferSyntaxes: [small.transferSyntaxUid] }],
      },
      ac!,
      {
        do: 'send-message',
        contextId: 1,
        command: {
          ...(store as Extract<Step, { do: 'send-message' }>).command,
          AffectedSOPClassUID: small.sopClassUid,
          AffectedSOPInstanceUID: small.sopInstanceUid,
        },
        dataset: smallDataset,
      },
      { do: 'release-rq' },
      { do: 'receive' },
      { do: 'expect', pdu: 'release-rp' },
      { do: 'close' },
    ]);
    await c.scriptDone;
    expect(c.scriptError).toBeUndefined();
    expect(c.messages[0]?.command).toMatchObject({ CommandField: CommandField.C_STORE_RSP, Status: 0 });
    expect(await scp.ended.at(-1)).toBeUndefined();
  });

  it('our SCP shuts down while half a data set has arrived: it aborts, the sender sees the abort, no file is left', async () => {
    const ownDir = makeTempDir('faults-shutdown');
    const closing = await startWorkingScp(ownDir);
    const ownParts = () => filesIn(ownDir).filter((f) => f.endsWith('.part'));
    try {
      const steps = halfDataset().map((st) =>
        st.do === 'wait' ? { ...st, until: () => ownParts().length === 1 } : st,
      );
      const c = await runScriptedClient('127.0.0.1', closing.server.port, [...steps, { do: 'silent' }]);
      await c.scriptDone;
      expect(c.scriptError).toBeUndefined();
      await closing.server.close();
      expect(await closing.ended[0]).toMatchObject({ kind: 'local' });
      await c.otherSideClosed;
      expect(abortsIn(c.received)).toEqual([{ source: 0, reason: 0 }]);
      await eventually(() => ownParts().length === 0, 2_000, 'temporary file removed');
      expect(filesIn(ownDir)).toEqual([]);
      c.socket.destroy();
    } finally {
      await closing.server.close();
      removeTempDir(ownDir);
    }
    const w = await checkWorkingAssociation(scp, small);
    expect(w.identical).toBe(true);
  });

  it('the connection is cut (RST) in the middle of our data set (through a proxy): closed on both sides, no file', async () => {
    const proxy = await startProxy({ targetHost: '127.0.0.1', targetPort: scp.server.port });
    proxy.cutAfterBytes(HALF, 'upstream', { mode: 'reset', once: true });
    try {
      const ch = await openChannel(scp.peer({ port: proxy.port }), proposalsFor([large]));
      expect(ch.ok).toBe(true);
      if (!ch.ok) return;
      const o = await storeOne(ch.value, large, { timeoutMs: 4_000 });
      expect(o).toMatchObject({ ok: false, failure: { kind: 'no-response', cause: { kind: 'closed' } } });
      await expectCleanAfter('closed');
      // the same proxy, fault spent: the file goes through whole
      const w = await checkWorkingAssociation(
        { ...scp, peer: (x = {}) => scp.peer({ port: proxy.port, ...x }) },
        large,
      );
      expect(w.outcome?.ok).toBe(true);
      expect(w.identical).toBe(true);
    } finally {
      await proxy.stop();
      for (const f of finalFiles()) rmSync(join(dir, f));
    }
  });
});
