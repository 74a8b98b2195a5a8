import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { AssociationServer, ServerEvent } from '../../../src/net/association/server.js';
import { DEFAULT_IDLE_TIMEOUT_MS } from '../../../src/net/association/server.js';
import { CommandField } from '../../../src/net/dimse/command.js';
import { openChannel, type Peer } from '../../../src/net/peer.js';
import { cEcho } from '../../../src/net/services/echo.js';
import { cFind } from '../../../src/net/services/find-scu.js';
import { buildIdentifier } from '../../../src/net/services/identifier.js';
import { respond, startScp, storageAcceptPolicy } from '../../../src/net/services/scp.js';
import { UNCOMPRESSED_LE, VERIFICATION } from '../../../src/net/services/sop-classes.js';

// An association that says nothing must not hold an SCP slot forever: after `idleTimeoutMs` without a
// byte either way and no operation in progress, the SCP sends A-ABORT and reports a typed event. The
// tests use a short timeout option instead of waiting out the default.

const IDLE_MS = 300;
/** For the associations that must stay: long enough that a loaded machine's late timers do not matter. */
const LONG_IDLE_MS = 1500;

describe('SCP idle timeout', () => {
  let server: AssociationServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  const start = async (opts: { idleTimeoutMs?: number }, events: ServerEvent[]) => {
    server = await startScp({
      aeTitle: 'IDLE',
      port: 0,
      host: '127.0.0.1',
      policy: storageAcceptPolicy(),
      idleTimeoutMs: opts.idleTimeoutMs,
      onEvent: (e) => events.push(e),
      handlers: {},
    });
    return server;
  };
  const peer = (port: number): Peer => ({
    aeTitle: 'IDLE',
    host: '127.0.0.1',
    port,
    callingAeTitle: 'SILENT',
  });

  it('has a documented default', () => {
    expect(DEFAULT_IDLE_TIMEOUT_MS).toBeGreaterThan(0);
  });

  it('a silent association is aborted after the idle timeout, with a typed event', async () => {
    const events: ServerEvent[] = [];
    const s = await start({ idleTimeoutMs: IDLE_MS }, events);
    const ch = await openChannel(peer(s.port), [
      { abstractSyntax: VERIFICATION, transferSyntaxes: UNCOMPRESSED_LE },
    ]);
    expect(ch.ok).toBe(true);
    if (!ch.ok) return;
    expect(s.active.size).toBe(1);
    // Say nothing: the SCP aborts (generous bound: a loaded machine).
    const failure = await ch.value.assoc.whenEnded();
    expect(failure?.kind).toBe('aborted');
    expect(events).toEqual([
      expect.objectContaining({ kind: 'idle-timeout', callingAeTitle: 'SILENT', idleTimeoutMs: IDLE_MS }),
    ]);
    await expect.poll(() => s.active.size, { timeout: 10_000 }).toBe(0);
  });

  it('an association that keeps talking is not aborted', async () => {
    const events: ServerEvent[] = [];
    const s = await start({ idleTimeoutMs: LONG_IDLE_MS }, events);
    const ch = await openChannel(peer(s.port), [
      { abstractSyntax: VERIFICATION, transferSyntaxes: UNCOMPRESSED_LE },
    ]);
    if (!ch.ok) throw new Error(ch.error.message);
    // Echo every LONG_IDLE_MS / 5 for three idle periods.
    for (let i = 0; i < 15; i++) {
      const r = await cEcho(ch.value);
      expect(r.ok).toBe(true);
      await new Promise((r) => setTimeout(r, LONG_IDLE_MS / 5));
    }
    expect(events).toEqual([]);
    expect(ch.value.assoc.isEstablished).toBe(true);
    await ch.value.assoc.release();
  });

  it('an operation in progress longer than the timeout is not idle', async () => {
    const events: ServerEvent[] = [];
    server = await startScp({
      aeTitle: 'IDLE',
      port: 0,
      host: '127.0.0.1',
      policy: { transferSyntaxesFor: () => 'any' },
      idleTimeoutMs: IDLE_MS,
      onEvent: (e) => events.push(e),
      handlers: {
        // A C-FIND that takes ten idle periods before it answers (a slow database).
        onOtherRequest: async (msg, ch) => {
          await new Promise((r) => setTimeout(r, IDLE_MS * 10));
          await respond(ch, msg, CommandField.C_FIND_RSP, 0x0000);
          return true;
        },
      },
    });
    const ch = await openChannel(peer(server.port), [
      { abstractSyntax: '1.2.840.10008.5.1.4.1.2.2.1', transferSyntaxes: UNCOMPRESSED_LE },
    ]);
    if (!ch.ok) throw new Error(ch.error.message);
    const q = cFind(ch.value, buildIdentifier('STUDY', { StudyInstanceUID: '' }), {
      model: 'study',
      timeoutMs: 60_000,
    });
    for await (const _ of q.matches) void _;
    const r = await q.done;
    expect(r.ok ? 'answered' : r.error).toBe('answered');
    expect(events).toEqual([]);
    await ch.value.assoc.release();
  });

  it('a socket that never sends A-ASSOCIATE-RQ is closed (ARTIM, not the idle timer)', async () => {
    const events: ServerEvent[] = [];
    server = await startScp({
      aeTitle: 'IDLE',
      port: 0,
      host: '127.0.0.1',
      policy: storageAcceptPolicy(),
      timeouts: { artimMs: IDLE_MS },
      idleTimeoutMs: 60_000,
      onEvent: (e) => events.push(e),
      handlers: {},
    });
    const sock = net.connect(server.port, '127.0.0.1');
    await new Promise<void>((r) => sock.once('connect', () => r()));
    await new Promise<void>((r) => sock.once('close', () => r()));
    expect(server.active.size).toBe(0);
  });
});
