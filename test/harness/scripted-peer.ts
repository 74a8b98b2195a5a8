/**
 * A small scripted DICOM peer for fault injection, in the spirit of pynetdicom's tests/parrot.py: a TCP server
 * (or client) that follows a list of steps — expect a PDU, accept or reject an association, read a DIMSE request
 * (or only its first N data set bytes), answer it, abort, close, send garbage, stay silent — and records every PDU
 * it receives, byte for byte, so a test can check what our side put on the wire.
 *
 *   const peer = await startScriptedPeer([
 *     { do: 'expect', pdu: 'associate-rq' },
 *     { do: 'accept', maxPdu: 4096 },
 *     { do: 'receive', afterDatasetBytes: 10_000 },
 *     { do: 'abort' },
 *   ]);
 *
 * Control PDUs are built with our encoders (src/net/ul/pdu.ts), P-DATA-TF and anything broken from raw bytes.
 * Incoming bytes are framed here, independently of src/net/ul/pdu-reader.ts (the code under test).
 * A step that waits gives up after `stepTimeoutMs` (default 5 s) and records a script error: never a hang.
 */
import net from 'node:net';
import { type Command, NO_DATASET, decodeCommand, encodeCommand } from '../../src/net/dimse/command.js';
import { PduType } from '../../src/net/ul/constants.js';
import {
  type AssociateAc,
  type AssociateRq,
  type PresentationContextAc,
  decodeControlPdu,
  encodeAbort,
  encodeAssociateAc,
  encodeAssociateRj,
  encodeAssociateRq,
  encodeReleaseRp,
  encodeReleaseRq,
} from '../../src/net/ul/pdu.js';

export type PduName =
  'associate-rq' | 'associate-ac' | 'associate-rj' | 'p-data' | 'release-rq' | 'release-rp' | 'abort';

export const PDU_TYPE: Record<PduName, number> = {
  'associate-rq': PduType.AssociateRq,
  'associate-ac': PduType.AssociateAc,
  'associate-rj': PduType.AssociateRj,
  'p-data': PduType.PDataTf,
  'release-rq': PduType.ReleaseRq,
  'release-rp': PduType.ReleaseRp,
  abort: PduType.Abort,
};

const NAME_OF = new Map(Object.entries(PDU_TYPE).map(([k, v]) => [v, k as PduName]));
const pduName = (type: number): string => NAME_OF.get(type) ?? `0x${type.toString(16).padStart(2, '0')}`;

/** A PDU as received: its type, its length field, and every byte of it (header included). */
export interface RawPdu {
  type: number;
  /** The PDU length field (bytes after the 6-byte header). */
  length: number;
  raw: Buffer;
}

/** A DIMSE message the peer received (possibly cut short by a `receive` with `afterDatasetBytes`). */
export interface ReceivedMessage {
  contextId: number;
  command: Command;
  /** Data set bytes received so far (empty when none). */
  readonly dataset: Buffer;
  readonly datasetLength: number;
  /** The last data set fragment arrived (or the message has no data set). */
  complete: boolean;
  /** The script has answered it (a `serve` step does not answer it again). */
  answered: boolean;
}

export interface ContextProposal {
  id: number;
  abstractSyntax: string;
  transferSyntaxes: string[];
}

export type Step =
  /** The next PDU must be of this type (else the script fails). */
  | { do: 'expect'; pdu: PduName }
  /** Answer the received A-ASSOCIATE-RQ with an AC: every context accepted with its first transfer syntax unless `refuse` says a result. */
  | { do: 'accept'; maxPdu?: number; refuse?: (pc: ContextProposal) => number | undefined }
  | { do: 'reject'; result: number; source: number; reason: number }
  /** Read one DIMSE message (command, then data set); with `afterDatasetBytes`, stop once that many data set bytes arrived. */
  | { do: 'receive'; afterDatasetBytes?: number }
  /** Answer the last request received: a response command with this status, in PDUs of at most `maxPdu` (default: the other side's maximum). */
  | { do: 'respond'; status: number; comment?: string; maxPdu?: number }
  /** A store/echo SCP: answer every request not yet answered (status from `status`, default 0000) until A-RELEASE-RQ (answered) or A-ABORT. */
  | { do: 'serve'; status?: (command: Command) => number }
  /** Raw bytes, built by the test. */
  | { do: 'send'; bytes: Buffer | ((c: PeerConnection) => Buffer) }
  /** A DIMSE message in P-DATA-TF PDUs of at most `maxPdu`; with `datasetBytes`, only that much of the data set (no last fragment). */
  | {
      do: 'send-message';
      contextId: number;
      command: Command;
      dataset?: Buffer;
      maxPdu?: number;
      datasetBytes?: number;
    }
  /** Client mode: send an A-ASSOCIATE-RQ. */
  | {
      do: 'request';
      calledAeTitle: string;
      callingAeTitle: string;
      contexts: ContextProposal[];
      maxPdu?: number;
    }
  | { do: 'release-rq' }
  | { do: 'release-rp' }
  | { do: 'abort'; source?: number; reason?: number }
  /** Half-close with a FIN, then keep recording until the other side closes. */
  | { do: 'close' }
  /** Destroy the socket with a TCP RST. */
  | { do: 'reset' }
  /** An unknown PDU type (default) or the given bytes. */
  | { do: 'garbage'; bytes?: Buffer }
  /** Do nothing more, not even answer a FIN: keep the connection open and keep recording what arrives. */
  | { do: 'silent' }
  | { do: 'wait'; until: () => boolean | Promise<boolean>; timeoutMs?: number }
  | { do: 'sleep'; ms: number };

export interface PeerConnection {
  readonly id: number;
  /** Every PDU received, in order, including those after the script ended. */
  readonly received: RawPdu[];
  readonly messages: ReceivedMessage[];
  associateRq?: AssociateRq;
  associateAc?: AssociateAc;
  /** Set when a step could not be carried out (unexpected PDU, timeout, connection gone). */
  scriptError?: string;
  /** Resolves when the script has run (or failed). */
  readonly scriptDone: Promise<void>;
  /** Resolves when the socket is fully closed, with who closed it first (a silent script never answers a FIN: use `otherSideClosed`). */
  readonly closed: Promise<{ by: 'other-side' | 'script'; at: number }>;
  /** Resolves when the other side sent a FIN or the connection broke: the time it happened. */
  readonly otherSideClosed: Promise<number>;
  /** Bytes received so far. */
  bytesReceived: number;
}

export interface ScriptOptions {
  stepTimeoutMs?: number;
}

const DEFAULT_MAX_PDU = 16_384;

/** P-DATA-TF PDUs for one message stream: the data cut into PDVs so that each PDU's length field is at most `maxPdu`. */
export function encodePData(
  contextId: number,
  command: boolean,
  data: Buffer,
  maxPdu: number,
  last = true,
): Buffer[] {
  const room = maxPdu - 6;
  if (room < 1) throw new Error(`maximum PDU ${maxPdu} leaves no room for data`);
  const out: Buffer[] = [];
  let off = 0;
  do {
    const n = Math.min(room, data.length - off);
    const isLast = last && off + n >= data.length;
    const h = Buffer.alloc(12);
    h[0] = PduType.PDataTf;
    h.writeUInt32BE(n + 6, 2);
    h.writeUInt32BE(n + 2, 6);
    h[10] = contextId;
    h[11] = (command ? 1 : 0) | (isLast ? 2 : 0);
    out.push(Buffer.concat([h, data.subarray(off, off + n)]));
    off += n;
  } while (off < data.length);
  return out;
}

/** A PDU of a type no DICOM peer knows, with a plausible length. */
export const GARBAGE_PDU = Buffer.from([0x0a, 0x00, 0x00, 0x00, 0x00, 0x04, 0xde, 0xad, 0xbe, 0xef]);

/** The PDVs of a P-DATA-TF body (independent of the code under test). Throws on broken lengths. */
export function parsePdvs(
  body: Buffer,
): { contextId: number; command: boolean; last: boolean; data: Buffer }[] {
  const out: { contextId: number; command: boolean; last: boolean; data: Buffer }[] = [];
  let p = 0;
  while (p < body.length) {
    if (p + 6 > body.length) throw new Error('truncated PDV header');
    const len = body.readUInt32BE(p);
    if (len < 2 || p + 4 + len > body.length) throw new Error(`PDV length ${len} overruns its PDU`);
    const mch = body[p + 5]!;
    out.push({
      contextId: body[p + 4]!,
      command: (mch & 1) === 1,
      last: (mch & 2) === 2,
      data: body.subarray(p + 6, p + 4 + len),
    });
    p += 4 + len;
  }
  return out;
}

class Message implements ReceivedMessage {
  complete = false;
  answered = false;
  datasetLength = 0;
  private parts: Buffer[] = [];
  constructor(
    readonly contextId: number,
    readonly command: Command,
  ) {}
  add(data: Buffer): void {
    this.parts.push(Buffer.from(data));
    this.datasetLength += data.length;
  }
  get dataset(): Buffer {
    if (this.parts.length !== 1) this.parts = [Buffer.concat(this.parts)];
    return this.parts[0]!;
  }
}

class Connection implements PeerConnection {
  readonly received: RawPdu[] = [];
  readonly messages: ReceivedMessage[] = [];
  associateRq?: AssociateRq;
  associateAc?: AssociateAc;
  scriptError?: string;
  scriptDone!: Promise<void>;
  readonly closed: Promise<{ by: 'other-side' | 'script'; at: number }>;
  readonly otherSideClosed: Promise<number>;
  bytesReceived = 0;

  private buf = Buffer.alloc(0);
  private queue: RawPdu[] = [];
  private waiter: (() => void) | undefined;
  private isClosed = false;
  private silent = false;
  private closedBy: 'other-side' | 'script' = 'other-side';
  /** The message being assembled from P-DATA (command parts, then data set). */
  private partial: { contextId: number; commandParts: Buffer[]; message?: Message } | undefined;
  /** Messages complete but not yet consumed by a step. */
  private completed: ReceivedMessage[] = [];

  constructor(
    readonly id: number,
    readonly socket: net.Socket,
    private readonly stepTimeoutMs: number,
  ) {
    socket.on('error', () => undefined);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    this.closed = new Promise((resolve) => {
      socket.once('close', () => {
        this.isClosed = true;
        this.wake();
        resolve({ by: this.closedBy, at: Date.now() });
      });
    });
    this.otherSideClosed = new Promise((resolve) => {
      socket.once('end', () => resolve(Date.now()));
      socket.once('close', () => resolve(Date.now()));
    });
    socket.on('end', () => {
      // the other side half-closed: finish our side too (a FIN answered with a FIN), unless told to stay silent
      if (!this.silent && !socket.destroyed) socket.end();
    });
  }

  private onData(chunk: Buffer): void {
    this.bytesReceived += chunk.length;
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : Buffer.from(chunk);
    while (this.buf.length >= 6) {
      const length = this.buf.readUInt32BE(2);
      if (this.buf.length < 6 + length) break;
      const pdu: RawPdu = { type: this.buf[0]!, length, raw: this.buf.subarray(0, 6 + length) };
      this.buf = this.buf.subarray(6 + length);
      this.received.push(pdu);
      this.queue.push(pdu);
    }
    this.wake();
  }

  private wake(): void {
    const w = this.waiter;
    this.waiter = undefined;
    w?.();
  }

  /** The next unconsumed PDU, or a reason why there is none. */
  private async nextPdu(): Promise<RawPdu | string> {
    const deadline = Date.now() + this.stepTimeoutMs;
    for (;;) {
      const p = this.queue.shift();
      if (p) return p;
      if (this.isClosed) return 'connection closed';
      const left = deadline - Date.now();
      if (left <= 0) return `nothing received within ${this.stepTimeoutMs} ms`;
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiter = () => {
          clearTimeout(t);
          resolve();
        };
      });
    }
  }

  private write(b: Buffer | Buffer[]): void {
    if (this.socket.destroyed || this.socket.writableEnded) return;
    for (const x of Array.isArray(b) ? b : [b]) this.socket.write(x);
  }

  /** The other side's maximum PDU length, from its RQ or AC. */
  private otherMaxPdu(): number {
    const n = (this.associateRq ?? this.associateAc)?.userInformation.maxPduLength ?? 0;
    return n > 0 ? n : DEFAULT_MAX_PDU;
  }

  /** Consume P-DATA until one message is complete (or `afterDatasetBytes` of its data set arrived). */
  private async receiveMessage(afterDatasetBytes?: number): Promise<ReceivedMessage | string> {
    for (;;) {
      const done = this.completed.shift();
      if (done) return done;
      const m = this.partial?.message;
      if (m && afterDatasetBytes !== undefined && m.datasetLength >= afterDatasetBytes) return m;
      const pdu = await this.nextPdu();
      if (typeof pdu === 'string') return pdu;
      if (pdu.type !== PduType.PDataTf) return `expected P-DATA-TF, got ${pduName(pdu.type)}`;
      for (const pdv of parsePdvs(pdu.raw.subarray(6))) this.onPdv(pdv);
    }
  }

  private onPdv(pdv: { contextId: number; command: boolean; last: boolean; data: Buffer }): void {
    this.partial ??= { contextId: pdv.contextId, commandParts: [] };
    const part = this.partial;
    const finish = (m: ReceivedMessage) => {
      m.complete = true;
      this.completed.push(m);
      this.partial = undefined;
    };
    if (pdv.command) {
      part.commandParts.push(Buffer.from(pdv.data));
      if (!pdv.last) return;
      const command = decodeCommand(Buffer.concat(part.commandParts));
      part.message = new Message(pdv.contextId, command);
      this.messages.push(part.message);
      if (command.CommandDataSetType === NO_DATASET) finish(part.message);
      return;
    }
    if (!part.message) throw new Error('data set fragment before its command');
    part.message.add(pdv.data);
    if (pdv.last) finish(part.message);
  }

  private respond(req: ReceivedMessage, status: number, comment?: string, maxPdu?: number): void {
    req.answered = true;
    const c = req.command;
    const rsp = encodeCommand({
      CommandField: c.CommandField | 0x8000,
      MessageIDBeingRespondedTo: c.MessageID,
      AffectedSOPClassUID: c.AffectedSOPClassUID,
      AffectedSOPInstanceUID: c.AffectedSOPInstanceUID,
      CommandDataSetType: NO_DATASET,
      Status: status,
      ErrorComment: comment,
    });
    this.write(encodePData(req.contextId, true, rsp, maxPdu ?? this.otherMaxPdu()));
  }

  private async expect(name: PduName): Promise<RawPdu | string> {
    const pdu = await this.nextPdu();
    if (typeof pdu === 'string') return `expected ${name}: ${pdu}`;
    if (pdu.type !== PDU_TYPE[name]) return `expected ${name}, got ${pduName(pdu.type)}`;
    if (name === 'associate-rq')
      this.associateRq = decodeControlPdu(pdu.type, pdu.raw.subarray(6)) as AssociateRq;
    if (name === 'associate-ac')
      this.associateAc = decodeControlPdu(pdu.type, pdu.raw.subarray(6)) as AssociateAc;
    return pdu;
  }

  /** Runs one step; a string is the reason the script stops. */
  private async step(s: Step): Promise<string | undefined> {
    switch (s.do) {
      case 'expect': {
        const r = await this.expect(s.pdu);
        return typeof r === 'string' ? r : undefined;
      }
      case 'accept': {
        const rq = this.associateRq;
        if (!rq) return 'accept: no A-ASSOCIATE-RQ received';
        const contexts: PresentationContextAc[] = rq.presentationContexts.map((pc) => {
          const refused = s.refuse?.(pc);
          return refused
            ? { id: pc.id, result: refused, transferSyntax: '' }
            : { id: pc.id, result: 0, transferSyntax: pc.transferSyntaxes[0]! };
        });
        this.write(
          encodeAssociateAc({
            calledAeTitle: rq.calledAeTitle,
            callingAeTitle: rq.callingAeTitle,
            presentationContexts: contexts,
            userInformation: {
              maxPduLength: s.maxPdu ?? DEFAULT_MAX_PDU,
              implementationClassUid: '1.2.826.0.1.3680043.10.1444.99',
              implementationVersionName: 'SCRIPTED',
              roleSelections: rq.userInformation.roleSelections,
              extendedNegotiations: [],
              otherItems: [],
            },
          }),
        );
        return undefined;
      }
      case 'reject':
        this.write(encodeAssociateRj(s.result, s.source, s.reason));
        return undefined;
      case 'receive': {
        const m = await this.receiveMessage(s.afterDatasetBytes);
        return typeof m === 'string' ? `receive: ${m}` : undefined;
      }
      case 'respond': {
        const req = this.messages.at(-1);
        if (!req) return 'respond: no request received';
        this.respond(req, s.status, s.comment, s.maxPdu);
        return undefined;
      }
      case 'serve':
        return this.serve(s.status ?? (() => 0x0000));
      case 'send':
        this.write(typeof s.bytes === 'function' ? s.bytes(this) : s.bytes);
        return undefined;
      case 'send-message': {
        const max = s.maxPdu ?? this.otherMaxPdu();
        this.write(encodePData(s.contextId, true, encodeCommand(s.command), max));
        if (s.dataset) {
          const n = s.datasetBytes ?? s.dataset.length;
          this.write(encodePData(s.contextId, false, s.dataset.subarray(0, n), max, n >= s.dataset.length));
        }
        return undefined;
      }
      case 'request':
        this.write(
          encodeAssociateRq({
            calledAeTitle: s.calledAeTitle,
            callingAeTitle: s.callingAeTitle,
            presentationContexts: s.contexts,
            userInformation: {
              maxPduLength: s.maxPdu ?? DEFAULT_MAX_PDU,
              implementationClassUid: '1.2.826.0.1.3680043.10.1444.99',
              implementationVersionName: 'SCRIPTED',
              roleSelections: [],
              extendedNegotiations: [],
              otherItems: [],
            },
          }),
        );
        return undefined;
      case 'release-rq':
        this.write(encodeReleaseRq());
        return undefined;
      case 'release-rp':
        this.write(encodeReleaseRp());
        return undefined;
      case 'abort':
        this.write(encodeAbort(s.source ?? 0, s.reason ?? 0));
        return undefined;
      case 'close':
        if (!this.isClosed) this.closedBy = 'script';
        this.socket.end();
        return undefined;
      case 'reset':
        if (!this.isClosed) this.closedBy = 'script';
        if (!this.socket.destroyed) this.socket.resetAndDestroy();
        return undefined;
      case 'garbage':
        this.write(s.bytes ?? GARBAGE_PDU);
        return undefined;
      case 'silent':
        this.silent = true;
        return undefined;
      case 'wait': {
        const deadline = Date.now() + (s.timeoutMs ?? this.stepTimeoutMs);
        while (!(await s.until())) {
          if (Date.now() > deadline) return 'wait: condition not met in time';
          await new Promise((r) => setTimeout(r, 5));
        }
        return undefined;
      }
      case 'sleep':
        await new Promise((r) => setTimeout(r, s.ms));
        return undefined;
    }
  }

  private async serve(status: (c: Command) => number): Promise<string | undefined> {
    for (;;) {
      const head = this.queue[0];
      if (!head) {
        const p = await this.nextPdu();
        if (typeof p === 'string') return p === 'connection closed' ? undefined : `serve: ${p}`;
        this.queue.unshift(p);
        continue;
      }
      if (head.type === PduType.ReleaseRq) {
        this.queue.shift();
        this.write(encodeReleaseRp());
        return undefined;
      }
      if (head.type === PduType.Abort) return undefined;
      const m = await this.receiveMessage();
      if (typeof m === 'string') return `serve: ${m}`;
      if (!m.answered) this.respond(m, status(m.command));
    }
  }

  run(steps: Step[]): void {
    this.scriptDone = (async () => {
      for (const [i, s] of steps.entries()) {
        let why: string | undefined;
        try {
          why = await this.step(s);
        } catch (e) {
          why = (e as Error).message;
        }
        if (why !== undefined) {
          this.scriptError = `step ${i} (${s.do}): ${why}`;
          return;
        }
      }
    })();
  }

  destroy(): void {
    if (!this.socket.destroyed) this.socket.destroy();
  }
}

export interface ScriptedPeer {
  readonly host: string;
  readonly port: number;
  /** Connections accepted so far, in order (the first is connections[0], id 1). */
  readonly connections: PeerConnection[];
  /** The n-th connection (from 1), once it is accepted. */
  connection(n: number, timeoutMs?: number): Promise<PeerConnection>;
  stop(): Promise<void>;
}

/**
 * Listen on a free loopback port; each accepted connection runs the script (or `script(n)` for the n-th).
 */
export function startScriptedPeer(
  script: Step[] | ((n: number) => Step[]),
  options: ScriptOptions = {},
): Promise<ScriptedPeer> {
  const conns: Connection[] = [];
  const waiters: (() => void)[] = [];
  const server = net.createServer({ allowHalfOpen: true }, (socket) => {
    socket.setNoDelay(true);
    const c = new Connection(conns.length + 1, socket, options.stepTimeoutMs ?? 5_000);
    conns.push(c);
    c.run(typeof script === 'function' ? script(c.id) : script);
    for (const w of waiters.splice(0)) w();
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: '127.0.0.1', port: 0 }, () => {
      const addr = server.address() as net.AddressInfo;
      resolve({
        host: '127.0.0.1',
        port: addr.port,
        connections: conns,
        async connection(n, timeoutMs = 5_000) {
          const deadline = Date.now() + timeoutMs;
          while (!conns[n - 1]) {
            if (Date.now() > deadline)
              throw new Error(`scripted peer: no connection ${n} within ${timeoutMs} ms`);
            await new Promise<void>((r) => {
              const t = setTimeout(r, 50);
              waiters.push(() => {
                clearTimeout(t);
                r();
              });
            });
          }
          return conns[n - 1]!;
        },
        stop: () =>
          new Promise<void>((done) => {
            for (const c of conns) c.destroy();
            server.close(() => done());
          }),
      });
    });
  });
}

/** Client mode: connect to host:port and run the steps (start with a `request`). Destroy it with `socket.destroy()` if needed. */
export function runScriptedClient(
  host: string,
  port: number,
  steps: Step[],
  options: ScriptOptions = {},
): Promise<PeerConnection & { socket: net.Socket }> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host, port, allowHalfOpen: true });
    socket.once('error', reject);
    socket.once('connect', () => {
      socket.off('error', reject);
      socket.setNoDelay(true);
      const c = new Connection(1, socket, options.stepTimeoutMs ?? 5_000);
      c.run(steps);
      resolve(c);
    });
  });
}

/** The A-ABORT PDUs among received PDUs, decoded. */
export function abortsIn(pdus: readonly RawPdu[]): { source: number; reason: number }[] {
  return pdus.filter((p) => p.type === PduType.Abort).map((p) => ({ source: p.raw[8]!, reason: p.raw[9]! }));
}
