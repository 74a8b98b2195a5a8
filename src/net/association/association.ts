/**
 * One DICOM association over one transport connection: drives the Upper Layer state machine
 * (../ul/state-machine.ts), frames P-DATA, and reports every ending as a typed value.
 */
import type net from 'node:net';
import { IMPLEMENTATION_CLASS_UID, IMPLEMENTATION_VERSION_NAME } from '../implementation.js';
import type { NetFailure } from '../errors.js';
import { PduType, describeAbort, describeReject } from '../ul/constants.js';
import {
  type AssociateAc,
  type AssociateRq,
  type ControlPdu,
  encodeAbort,
  encodeAssociateAc,
  encodeAssociateRj,
  encodeAssociateRq,
  encodeReleaseRp,
  encodeReleaseRq,
} from '../ul/pdu.js';
import { PduReader, type PduReaderEvent } from '../ul/pdu-reader.js';
import { type Action, type Event, type State, transition } from '../ul/state-machine.js';
import type { AssociationInfo, AssociationTimeouts, PresentationContext } from './types.js';

/** Receives P-DATA indications (the DIMSE layer). */
export interface PDataHandler {
  pdvData(contextId: number, command: boolean, data: Buffer): void;
  pdvEnd(contextId: number, command: boolean, last: boolean): void;
  /** The association ended (released: failure undefined). */
  closed(failure: NetFailure | undefined): void;
  /** The peer asked to release; return true to answer now (no operation in progress). */
  releaseRequested?(): boolean;
}

const PDV_HEADER = 12;
/** Upper bound on one PDV's data when the peer sets no limit. */
const MAX_FRAGMENT_WHEN_UNLIMITED = 1 << 20;

export class Association {
  state: State;
  info!: AssociationInfo;
  private readonly reader: PduReader;
  private handler: PDataHandler | undefined;
  private artim: NodeJS.Timeout | undefined;
  private phaseTimer: NodeJS.Timeout | undefined;
  private failure: NetFailure | undefined;
  private endedResolvers: ((f: NetFailure | undefined) => void)[] = [];
  private ended = false;
  private pendingAssociate: ((r: AssociateAc | NetFailure) => void) | undefined;
  private pendingRelease: ((f: NetFailure | undefined) => void) | undefined;
  private contextsById = new Map<number, PresentationContext>();
  /** Set by the acceptor to decide an incoming A-ASSOCIATE-RQ. */
  onAssociateRequest: ((rq: AssociateRq) => void) | undefined;

  constructor(
    readonly socket: net.Socket,
    readonly role: 'requestor' | 'acceptor',
    readonly ourMaxPdu: number,
    readonly timeouts: AssociationTimeouts,
  ) {
    this.state = role === 'requestor' ? 'Sta4' : 'Sta1';
    this.reader = new PduReader(ourMaxPdu, (e) => this.onReaderEvent(e));
    socket.on('data', (chunk: Buffer) => this.reader.push(chunk));
    const where = socket.remoteAddress ? `${socket.remoteAddress}:${socket.remotePort}` : 'the peer';
    socket.on('error', (e: NodeJS.ErrnoException) => {
      // 'close' follows and the state machine reports it; a TLS alert (e.g. the peer refused our certificate
      // after a TLS 1.3 handshake) is the cause worth keeping.
      const code = e.code ?? '';
      if (code.startsWith('ERR_SSL') || code.startsWith('ERR_TLS')) {
        this.failure ??= { kind: 'tls', code, message: `TLS with ${where} failed: ${code}` };
      }
    });
    socket.on('close', () => this.dispatch('Evt17'));
    if (role === 'acceptor') this.dispatch('Evt5');
  }

  // ---------------------------------------------------------------- public API

  get contexts(): PresentationContext[] {
    return this.info.contexts;
  }

  context(id: number): PresentationContext | undefined {
    return this.contextsById.get(id);
  }

  setHandler(h: PDataHandler): void {
    this.handler = h;
  }

  /** Resolves when the association has ended, with its failure (undefined after a clean release). */
  whenEnded(): Promise<NetFailure | undefined> {
    if (this.ended) return Promise.resolve(this.failure);
    return new Promise((r) => this.endedResolvers.push(r));
  }

  get isEstablished(): boolean {
    return this.state === 'Sta6';
  }

  /** Requestor: send the A-ASSOCIATE-RQ and wait for the answer. */
  requestAssociation(rq: Parameters<typeof encodeAssociateRq>[0]): Promise<AssociateAc | NetFailure> {
    return new Promise((resolve) => {
      this.refuseInvalid('Evt2');
      this.pendingAssociate = resolve;
      this.sentRq = rq;
      this.dispatch('Evt2');
    });
  }
  private sentRq: Parameters<typeof encodeAssociateRq>[0] | undefined;

  /** Acceptor: accept with the negotiated contexts. */
  accept(ac: Parameters<typeof encodeAssociateAc>[0], info: AssociationInfo): void {
    this.refuseInvalid('Evt7');
    this.setInfo(info);
    this.pendingAc = ac;
    this.dispatch('Evt7');
  }
  private pendingAc: Parameters<typeof encodeAssociateAc>[0] | undefined;

  /** Acceptor: reject (PS3.8 Table 9-21 values). */
  reject(result: number, source: number, reason: number): void {
    this.refuseInvalid('Evt8');
    this.pendingRj = encodeAssociateRj(result, source, reason);
    this.dispatch('Evt8');
  }
  private pendingRj: Buffer | undefined;

  /**
   * Send one message fragment stream: `data` cut into PDVs that fit the peer's maximum PDU.
   * Resolves when the socket can take more (back-pressure), or with the failure if the association is gone.
   */
  sendPData(
    contextId: number,
    command: boolean,
    data: Buffer,
    last: boolean,
  ): Promise<NetFailure | undefined> | undefined {
    if (this.state !== 'Sta6' && this.state !== 'Sta8') {
      return Promise.resolve(
        this.failure ?? { kind: 'local', message: `association is not established (state ${this.state})` },
      );
    }
    // Fragments of even length (PS3.8 Annex E), at least 2 bytes whatever maximum the peer announced.
    const max = Math.max(
      2,
      (this.info.peerMaxPduLength > 0 ? this.info.peerMaxPduLength - 6 : MAX_FRAGMENT_WHEN_UNLIMITED) & ~1,
    );
    const sock = this.socket;
    sock.cork();
    let off = 0;
    do {
      const n = Math.min(max, data.length - off);
      const isLast = last && off + n >= data.length;
      const h = Buffer.allocUnsafe(PDV_HEADER);
      h[0] = PduType.PDataTf;
      h[1] = 0;
      h.writeUInt32BE(n + 6, 2);
      h.writeUInt32BE(n + 2, 6);
      h[10] = contextId;
      h[11] = (command ? 1 : 0) | (isLast ? 2 : 0);
      sock.write(h);
      if (n > 0) sock.write(n === data.length ? data : data.subarray(off, off + n));
      off += n;
    } while (off < data.length);
    sock.uncork();
    if (!sock.writableNeedDrain) return undefined;
    return new Promise((resolve) => {
      const onDrain = () => {
        sock.off('close', onClose);
        resolve(undefined);
      };
      const onClose = () => {
        sock.off('drain', onDrain);
        resolve(this.failure ?? { kind: 'closed', message: 'transport closed while sending' });
      };
      sock.once('drain', onDrain);
      sock.once('close', onClose);
    });
  }

  /** Requestor: orderly release. */
  release(): Promise<NetFailure | undefined> {
    if (this.state !== 'Sta6') return Promise.resolve(this.failure);
    return new Promise((resolve) => {
      this.pendingRelease = resolve;
      this.dispatch('Evt11');
    });
  }

  /** A-ABORT (service user). */
  abort(): void {
    if (this.state === 'Sta1' || this.state === 'Sta13') return;
    this.abortSource = 0;
    this.dispatch('Evt15');
  }

  /** Flow control for the receive path: stop reading while the consumer catches up. */
  pauseReading(): void {
    this.socket.pause();
  }
  resumeReading(): void {
    this.socket.resume();
  }

  // ---------------------------------------------------------------- state machine

  private abortSource = 0;
  private abortReason = 0;
  private lastPdu: ControlPdu | undefined;

  /** A local primitive the table does not allow in this state is a programmer error: refuse it before it changes anything. */
  private refuseInvalid(event: Event): void {
    if (!transition(this.state, event))
      throw new Error(`Upper Layer: ${event} is not valid in ${this.state}`);
  }

  private dispatch(event: Event, pdu?: ControlPdu): void {
    const action = transition(this.state, event);
    if (!action) {
      // Not valid in this state: local primitives are programmer errors; stray transport events are ignored.
      if (event === 'Evt17' || event === 'Evt18') return;
      throw new Error(`Upper Layer: ${event} is not valid in ${this.state}`);
    }
    this.lastPdu = pdu;
    this.perform(action, event);
  }

  private perform(action: Action, event: Event): void {
    const pdu = this.lastPdu;
    switch (action) {
      case 'AE-2':
        this.write(encodeAssociateRq(this.sentRq!));
        this.state = 'Sta5';
        this.startPhaseTimer(this.timeouts.associationMs, 'association', 'no A-ASSOCIATE-AC/RJ');
        return;
      case 'AE-3': {
        this.stopPhaseTimer();
        this.state = 'Sta6';
        const r = this.pendingAssociate;
        this.pendingAssociate = undefined;
        r?.(pdu as AssociateAc);
        return;
      }
      case 'AE-4': {
        this.stopPhaseTimer();
        const rj = pdu as Extract<ControlPdu, { type: 'associate-rj' }>;
        this.failure = {
          kind: 'rejected',
          result: rj.result,
          source: rj.source,
          reason: rj.reason,
          message: `association rejected: ${describeReject(rj.result, rj.source, rj.reason)}`,
        };
        this.state = 'Sta1';
        this.socket.destroy();
        this.finish();
        return;
      }
      case 'AE-5':
        this.state = 'Sta2';
        this.startArtim();
        return;
      case 'AE-6': {
        this.stopArtim();
        this.state = 'Sta3';
        const rq = pdu as AssociateRq;
        if (!this.onAssociateRequest) throw new Error('acceptor without onAssociateRequest');
        this.onAssociateRequest(rq);
        return;
      }
      case 'AE-7':
        this.write(encodeAssociateAc(this.pendingAc!));
        this.state = 'Sta6';
        return;
      case 'AE-8':
        this.write(this.pendingRj!);
        this.failure = { kind: 'local', message: 'association rejected by us' };
        this.state = 'Sta13';
        this.startArtim();
        this.socket.end();
        return;
      case 'DT-2':
      case 'AR-6':
        return; // P-DATA is delivered on the fast path in onReaderEvent
      case 'AR-1':
        this.write(encodeReleaseRq());
        this.state = 'Sta7';
        this.startPhaseTimer(this.timeouts.releaseMs, 'release', 'no A-RELEASE-RP');
        return;
      case 'AR-2': {
        this.state = 'Sta8';
        const now = this.handler?.releaseRequested?.() ?? true;
        if (now) this.dispatch('Evt14');
        return;
      }
      case 'AR-3': {
        this.stopPhaseTimer();
        this.state = 'Sta1';
        this.socket.end();
        this.finish();
        return;
      }
      case 'AR-4':
        this.write(encodeReleaseRp());
        this.state = 'Sta13';
        this.startArtim();
        return;
      case 'AR-5':
        this.stopArtim();
        this.state = 'Sta1';
        this.finish();
        return;
      case 'AR-8':
        this.state = this.role === 'requestor' ? 'Sta9' : 'Sta10';
        if (this.role === 'requestor') this.dispatch('Evt14');
        return;
      case 'AR-9':
        this.write(encodeReleaseRp());
        this.state = 'Sta11';
        return;
      case 'AR-10':
        this.state = 'Sta12';
        this.dispatch('Evt14');
        return;
      case 'AA-1':
        this.failure ??=
          event === 'Evt15'
            ? { kind: 'local', message: 'association aborted by us' }
            : { kind: 'protocol-error', message: `unexpected PDU in ${this.state}` };
        this.write(encodeAbort(event === 'Evt15' ? this.abortSource : 2, event === 'Evt15' ? 0 : 2));
        this.stopPhaseTimer();
        this.state = 'Sta13';
        this.startArtim();
        this.socket.end();
        this.settleRequests();
        return;
      case 'AA-2':
        this.stopArtim();
        this.stopPhaseTimer();
        this.state = 'Sta1';
        if (event === 'Evt18')
          this.failure ??= { kind: 'timeout', phase: 'artim', message: 'ARTIM timer expired' };
        if (event === 'Evt16' && pdu?.type === 'abort') this.failure ??= this.abortFailure(pdu);
        this.socket.destroy();
        this.finish();
        return;
      case 'AA-3': {
        this.stopPhaseTimer();
        this.failure ??= this.abortFailure(pdu as Extract<ControlPdu, { type: 'abort' }>);
        this.state = 'Sta1';
        this.socket.destroy();
        this.finish();
        return;
      }
      case 'AA-4':
        this.stopPhaseTimer();
        this.failure ??= {
          kind: 'closed',
          message:
            this.state === 'Sta5'
              ? 'the peer closed the connection without answering the association request (Sta5): not a DICOM peer on that port, or one that drops callers it does not know without an A-ASSOCIATE-RJ'
              : `transport closed in ${this.state} without release or abort`,
        };
        this.state = 'Sta1';
        this.finish();
        return;
      case 'AA-5':
        this.stopArtim();
        this.failure ??= { kind: 'closed', message: 'transport closed before an A-ASSOCIATE-RQ' };
        this.state = 'Sta1';
        this.finish();
        return;
      case 'AA-6':
        return;
      case 'AA-7':
        this.write(encodeAbort(2, 2));
        this.state = 'Sta13';
        return;
      case 'AA-8':
        this.failure ??= {
          kind: 'protocol-error',
          message: this.protocolErrorMessage ?? `unexpected PDU in ${this.state}`,
        };
        this.write(encodeAbort(2, this.abortReason || 2));
        this.stopPhaseTimer();
        this.state = 'Sta13';
        this.startArtim();
        this.socket.end();
        this.notifyUser();
        return;
      case 'AE-1':
      case 'DT-1':
      case 'AR-7':
        return;
    }
  }

  private protocolErrorMessage: string | undefined;
  private userNotified = false;

  /**
   * Tell the local user that the association is over (the A-P-ABORT indication of AA-8, or the end): pending
   * requests and the DIMSE layer. After AA-8 the association no longer exists (Sta13); only the transport is left to
   * close, which takes until ARTIM expires when the peer does not close it: nobody waits for that.
   */
  private notifyUser(): void {
    if (this.userNotified) return;
    this.userNotified = true;
    this.settleRequests();
    this.handler?.closed(this.failure);
  }

  /**
   * Answer a pending A-ASSOCIATE or A-RELEASE request with the failure. AA-1 (we sent an A-ABORT, e.g. when the
   * association or release timer fired) does this at once: that confirmation can no longer come.
   */
  private settleRequests(): void {
    const f = this.failure;
    if (this.pendingAssociate) {
      const r = this.pendingAssociate;
      this.pendingAssociate = undefined;
      r(f ?? { kind: 'closed', message: 'transport closed before the association was answered' });
    }
    if (this.pendingRelease) {
      const r = this.pendingRelease;
      this.pendingRelease = undefined;
      r(f);
    }
  }

  private abortFailure(pdu: Extract<ControlPdu, { type: 'abort' }>): NetFailure {
    return {
      kind: 'aborted',
      source: pdu.source,
      reason: pdu.reason,
      message: `peer aborted the association (${describeAbort(pdu.source, pdu.reason)})`,
    };
  }

  private onReaderEvent(e: PduReaderEvent): void {
    switch (e.kind) {
      case 'pdv-data':
        if (this.state === 'Sta6' || this.state === 'Sta7')
          this.handler?.pdvData(e.contextId, e.command, e.data);
        else this.dispatch('Evt10');
        return;
      case 'pdv-end':
        if (this.state === 'Sta6' || this.state === 'Sta7')
          this.handler?.pdvEnd(e.contextId, e.command, e.last);
        return;
      case 'invalid':
        this.protocolErrorMessage = e.message;
        this.abortReason = e.reason === 'unrecognized-pdu' ? 1 : 6;
        this.reader.kill();
        this.dispatch('Evt19');
        return;
      case 'control': {
        const p = e.pdu;
        const evt: Event =
          p.type === 'associate-ac'
            ? 'Evt3'
            : p.type === 'associate-rj'
              ? 'Evt4'
              : p.type === 'associate-rq'
                ? 'Evt6'
                : p.type === 'release-rq'
                  ? 'Evt12'
                  : p.type === 'release-rp'
                    ? 'Evt13'
                    : 'Evt16';
        if (evt === 'Evt16' || evt === 'Evt4') this.reader.kill();
        this.dispatch(evt, p);
        return;
      }
    }
  }

  /** Acceptor side, after the DIMSE layer has finished its work: answer a pending release. */
  answerRelease(): void {
    if (this.state === 'Sta8' || this.state === 'Sta12' || this.state === 'Sta9') this.dispatch('Evt14');
  }

  setInfo(info: AssociationInfo): void {
    this.info = info;
    this.contextsById = new Map(info.contexts.map((c) => [c.id, c]));
  }

  private write(b: Buffer): void {
    if (!this.socket.destroyed) this.socket.write(b);
  }

  private startArtim(): void {
    this.stopArtim();
    this.artim = setTimeout(() => this.dispatch('Evt18'), this.timeouts.artimMs);
    this.artim.unref?.();
  }
  private stopArtim(): void {
    if (this.artim) clearTimeout(this.artim);
    this.artim = undefined;
  }
  private startPhaseTimer(ms: number, phase: 'association' | 'release', what: string): void {
    this.stopPhaseTimer();
    this.phaseTimer = setTimeout(() => {
      this.failure ??= { kind: 'timeout', phase, message: `${what} within ${ms} ms` };
      this.abortSource = 0;
      this.dispatch('Evt15');
    }, ms);
  }
  private stopPhaseTimer(): void {
    if (this.phaseTimer) clearTimeout(this.phaseTimer);
    this.phaseTimer = undefined;
  }

  private finish(): void {
    if (this.ended) return;
    this.ended = true;
    this.stopArtim();
    this.stopPhaseTimer();
    this.reader.kill();
    const f = this.failure;
    this.notifyUser();
    for (const r of this.endedResolvers) r(f);
    this.endedResolvers = [];
    if (!this.socket.destroyed) this.socket.destroy();
  }

  /** Used by the requestor after AE-3 to record the outcome of negotiation. */
  static implementation = { classUid: IMPLEMENTATION_CLASS_UID, versionName: IMPLEMENTATION_VERSION_NAME };
}
