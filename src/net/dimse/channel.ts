/**
 * The DIMSE layer over one association: assembles commands and data sets from PDVs, sends
 * messages (data sets streamed from files), matches responses to requests, and hands incoming
 * requests to the services. Every request ends with a response or a typed failure.
 */
import type { Association, PDataHandler } from '../association/association.js';
import type { PresentationContext } from '../association/types.js';
import type { NetFailure } from '../errors.js';
import {
  type Command,
  CommandDecodeError,
  commandName,
  decodeCommand,
  encodeCommand,
  hasDataset,
} from './command.js';
import { type DatasetSource, applyPatch, streamFileRange } from './dataset-source.js';

/** Receives a data set as it streams in. `write` may return a promise: reading pauses until it settles. */
export interface DatasetSink<R = unknown> {
  write(chunk: Buffer): void | Promise<void>;
  end(): Promise<R>;
  /** The data set did not complete (association ended). Clean up. */
  abort(): void;
}

export interface IncomingMessage {
  contextId: number;
  context: PresentationContext;
  command: Command;
  /** A buffered data set (small), or what the sink returned for a streamed one. */
  dataset?: Buffer;
  sinkResult?: unknown;
}

export interface ChannelHandlers {
  /** Requests from the peer (SCP services, or C-STORE sub-operations during a C-GET). */
  onRequest?(msg: IncomingMessage, channel: DimseChannel): Promise<void>;
  /** Choose where an incoming request's data set goes; undefined = buffer it in memory (small data sets). */
  sinkFor?(command: Command, context: PresentationContext): DatasetSink | undefined;
}

interface Pending {
  onResponse(msg: IncomingMessage): boolean; // true when final
  fail(f: NetFailure): void;
  timeoutMs: number;
  timer?: NodeJS.Timeout;
}

/** Buffered data sets above this size are refused (an identifier is never this large). */
const MAX_BUFFERED_DATASET = 64 * 1024 * 1024;

class BufferSink implements DatasetSink<Buffer> {
  private parts: Buffer[] = [];
  private size = 0;
  write(chunk: Buffer): void {
    this.size += chunk.length;
    if (this.size > MAX_BUFFERED_DATASET) throw new Error('buffered data set too large');
    this.parts.push(Buffer.from(chunk));
  }
  end(): Promise<Buffer> {
    return Promise.resolve(Buffer.concat(this.parts));
  }
  abort(): void {
    this.parts = [];
  }
}

const NUL = Buffer.from([0]);
/** A buffer of even length: itself, or itself and one NUL. */
const evenLength = (b: Buffer): Buffer => (b.length % 2 === 0 ? b : Buffer.concat([b, NUL]));

export class DimseChannel implements PDataHandler {
  private messageId = 0;
  private commandParts: Buffer[] = [];
  private current: { contextId: number; command: Command; sink: DatasetSink; buffered: boolean } | undefined;
  private pending = new Map<number, Pending>();
  private sendChain: Promise<unknown> = Promise.resolve();
  private deliverChain: Promise<unknown> = Promise.resolve();
  /** Messages handed to deliver() whose delivery (and, for a request, its handling) has not finished. */
  private undelivered = 0;
  private releaseWaiting = false;
  private sinkBacklog = 0;
  private closedWith: NetFailure | undefined | null = null;

  constructor(
    readonly assoc: Association,
    private handlers: ChannelHandlers = {},
  ) {
    assoc.setHandler(this);
  }

  setHandlers(h: ChannelHandlers): void {
    this.handlers = h;
  }

  nextMessageId(): number {
    this.messageId = (this.messageId % 0xffff) + 1;
    return this.messageId;
  }

  get ended(): boolean {
    return this.closedWith !== null;
  }

  // ------------------------------------------------------------------ receive

  pdvData(contextId: number, command: boolean, data: Buffer): void {
    if (command) {
      this.commandParts.push(Buffer.from(data));
      return;
    }
    const cur = this.current;
    if (!cur || cur.contextId !== contextId) {
      this.protocolError(`data set fragment on context ${contextId} without a command`);
      return;
    }
    let r: void | Promise<void>;
    try {
      r = cur.sink.write(data);
    } catch (e) {
      this.protocolError(`data set refused: ${(e as Error).message}`);
      return;
    }
    if (r) {
      if (this.sinkBacklog++ === 0) this.assoc.pauseReading();
      r.then(
        () => {
          if (--this.sinkBacklog === 0) this.assoc.resumeReading();
        },
        () => {
          if (--this.sinkBacklog === 0) this.assoc.resumeReading();
        },
      );
    }
  }

  pdvEnd(contextId: number, command: boolean, last: boolean): void {
    if (!last) return;
    if (command) {
      const buf = this.commandParts.length === 1 ? this.commandParts[0]! : Buffer.concat(this.commandParts);
      this.commandParts = [];
      let cmd: Command;
      try {
        cmd = decodeCommand(buf);
      } catch (e) {
        if (e instanceof CommandDecodeError) return this.protocolError(`malformed command set: ${e.message}`);
        throw e;
      }
      const ctx = this.assoc.context(contextId);
      if (!ctx || !ctx.accepted)
        return this.protocolError(`command on presentation context ${contextId}, which was not accepted`);
      // PS3.7 9.3.1: a message's data set follows its command; a new command before the last fragment is a protocol error
      // (and would orphan the data set being received, with its temporary file).
      if (this.current) {
        return this.protocolError(
          `${commandName(cmd.CommandField)} before the end of the data set of ${commandName(this.current.command.CommandField)}`,
        );
      }
      if (!hasDataset(cmd)) {
        this.deliver({ contextId, context: ctx, command: cmd });
        return;
      }
      const custom = (cmd.CommandField & 0x8000) === 0 ? this.handlers.sinkFor?.(cmd, ctx) : undefined;
      this.current = { contextId, command: cmd, sink: custom ?? new BufferSink(), buffered: !custom };
      return;
    }
    const cur = this.current;
    if (!cur) return this.protocolError('end of a data set without a command');
    if (cur.contextId !== contextId) {
      return this.protocolError(
        `data set begun on presentation context ${cur.contextId} ended on ${contextId}`,
      );
    }
    this.current = undefined;
    const ctx = this.assoc.context(contextId)!;
    const done = cur.sink.end();
    this.deliver(
      done.then(
        (res) =>
          cur.buffered
            ? { contextId, context: ctx, command: cur.command, dataset: res as Buffer }
            : { contextId, context: ctx, command: cur.command, sinkResult: res },
        (e: unknown) => ({ contextId, context: ctx, command: cur.command, sinkResult: { error: e } }),
      ),
    );
  }

  /** Deliver messages in the order they arrived, even when a sink finishes asynchronously. */
  private deliver(msg: IncomingMessage | Promise<IncomingMessage>): void {
    // Counted from now, not from when the chain reaches it: a release asked for meanwhile (while a sink still
    // finishes) waits for this message's response.
    this.undelivered++;
    this.deliverChain = this.deliverChain
      .then(() => this.deliverOne(msg))
      .catch((e: unknown) => {
        // A handler threw (a bug in a service or a caller's callback): this association's state is unknown, so it goes,
        // with the error as its failure; the process and the other associations carry on, and later messages still flow.
        const message = `request or response handler failed: ${(e as Error)?.message ?? String(e)}`;
        (this.assoc as unknown as { failure?: NetFailure }).failure ??= { kind: 'local', message };
        this.assoc.abort();
      })
      .finally(() => {
        this.undelivered--;
        if (this.undelivered === 0 && !this.current && this.releaseWaiting) {
          this.releaseWaiting = false;
          this.assoc.answerRelease();
        }
      });
  }

  private async deliverOne(msg: IncomingMessage | Promise<IncomingMessage>): Promise<void> {
    const m = await msg;
    if ((m.command.CommandField & 0x8000) !== 0) {
      const id = m.command.MessageIDBeingRespondedTo ?? -1;
      const p = this.pending.get(id);
      if (!p) return; // a response to nothing we asked: ignore (logged by the caller if needed)
      this.armTimer(id, p);
      if (p.onResponse(m)) {
        clearTimeout(p.timer);
        this.pending.delete(id);
      }
      return;
    }
    if (!this.handlers.onRequest) {
      this.protocolError(`${commandName(m.command.CommandField)} not expected here`);
      return;
    }
    await this.handlers.onRequest(m, this);
  }

  releaseRequested(): boolean {
    if (this.undelivered > 0 || this.current) {
      this.releaseWaiting = true;
      return false;
    }
    return true;
  }

  closed(failure: NetFailure | undefined): void {
    this.closedWith = failure;
    if (this.current) {
      this.current.sink.abort();
      this.current = undefined;
    }
    const why: NetFailure = {
      kind: 'no-response',
      message: `association ended before the response${failure ? ` (${failure.kind}: ${failure.message})` : ''}`,
      cause: failure,
    };
    for (const [, p] of this.pending) {
      clearTimeout(p.timer);
      p.fail(why);
    }
    this.pending.clear();
  }

  private protocolError(message: string): void {
    (this.assoc as unknown as { failure?: NetFailure }).failure ??= { kind: 'protocol-error', message };
    this.assoc.abort();
  }

  // ------------------------------------------------------------------ send

  /** Send one message; resolves when written (or with the failure). Messages never interleave. */
  send(contextId: number, command: Command, dataset?: DatasetSource): Promise<NetFailure | undefined> {
    const run = async (): Promise<NetFailure | undefined> => {
      if (this.closedWith !== null)
        return this.closedWith ?? { kind: 'local', message: 'association released' };
      const f = await this.assoc.sendPData(contextId, true, encodeCommand(command), true);
      if (f) return f;
      if (dataset === undefined) return undefined;
      if (Buffer.isBuffer(dataset))
        return (await this.assoc.sendPData(contextId, false, evenLength(dataset), true)) ?? undefined;
      let failure: NetFailure | undefined;
      // PS3.8 Annex E: every fragment has an even length. An odd chunk keeps its last byte for the next one; an
      // odd-length data set (real files: a Deflate stream without its pad, an odd Pixel Data length) ends with
      // one NUL, the pad PS3.5 A.5 prescribes for Deflate. The bytes before it are the file's, unchanged.
      let carry: Buffer | undefined;
      const src = dataset;
      let at = 0;
      await streamFileRange(src, async (chunk, last) => {
        if (failure) return;
        const patched = applyPatch(chunk, at, src.patch);
        at += chunk.length;
        let data = carry ? Buffer.concat([carry, patched]) : patched;
        carry = undefined;
        if (data.length % 2 === 1) {
          if (last) data = evenLength(data);
          else {
            carry = Buffer.from(data.subarray(data.length - 1));
            data = data.subarray(0, data.length - 1);
          }
        }
        failure = (await this.assoc.sendPData(contextId, false, data, last)) ?? undefined;
      }).catch((e: unknown) => {
        // The file shrank or vanished since it was read. The peer has the command (and maybe part of the data
        // set): the message cannot be completed, so the association goes; the request fails with the cause.
        failure ??= {
          kind: 'local',
          message: `cannot read the data set from ${src.path}: ${(e as Error).message}`,
        };
        this.assoc.abort();
      });
      return failure;
    };
    const p = this.sendChain.then(run, run);
    this.sendChain = p.catch(() => undefined);
    return p;
  }

  /**
   * Send a request and collect its responses. `onResponse` returns true for the final response.
   * The DIMSE timeout runs from the request and restarts with each response; on expiry the
   * association is aborted (its state is then unknown) and the result is a timeout.
   */
  request<T>(
    contextId: number,
    command: Command,
    dataset: DatasetSource | undefined,
    opts: { timeoutMs: number; onResponse: (msg: IncomingMessage) => T | undefined },
  ): Promise<{ ok: true; value: T } | { ok: false; error: NetFailure }> {
    const id = command.MessageID!;
    return new Promise((resolve) => {
      const p: Pending = {
        timeoutMs: opts.timeoutMs,
        onResponse: (msg) => {
          const v = opts.onResponse(msg);
          if (v === undefined) return false;
          resolve({ ok: true, value: v });
          return true;
        },
        fail: (f) => resolve({ ok: false, error: f }),
      };
      this.pending.set(id, p);
      this.armTimer(id, p);
      void this.send(contextId, command, dataset).then((f) => {
        if (f && this.pending.get(id) === p) {
          clearTimeout(p.timer);
          this.pending.delete(id);
          resolve({
            ok: false,
            error: { kind: 'no-response', message: `request not sent: ${f.message}`, cause: f },
          });
        }
      });
    });
  }

  private armTimer(id: number, p: Pending): void {
    clearTimeout(p.timer);
    if (p.timeoutMs <= 0) return;
    p.timer = setTimeout(() => {
      if (this.pending.get(id) !== p) return;
      this.pending.delete(id);
      p.fail({
        kind: 'timeout',
        phase: 'dimse',
        message: `no response to message ${id} within ${p.timeoutMs} ms`,
      });
      this.assoc.abort();
    }, p.timeoutMs);
  }

  /** The accepted context for an abstract syntax (and optionally one of some transfer syntaxes). */
  findContext(abstractSyntax: string, transferSyntaxes?: readonly string[]): PresentationContext | undefined {
    return this.assoc.contexts.find(
      (c) =>
        c.accepted &&
        c.abstractSyntax === abstractSyntax &&
        (!transferSyntaxes || transferSyntaxes.includes(c.transferSyntax)),
    );
  }
}
