/**
 * Incremental PDU framing over a byte stream. Control PDUs are delivered whole; P-DATA-TF is
 * delivered as PDV fragments whose data are slices of the received chunks (no copy), so a data
 * set can stream to disk with bounded memory.
 */
import { PduType } from './constants.js';
import { type ControlPdu, PduDecodeError, decodeControlPdu } from './pdu.js';

export type PduReaderEvent =
  | { kind: 'control'; pdu: ControlPdu }
  /** A piece of a PDV's data, in order. */
  | { kind: 'pdv-data'; contextId: number; command: boolean; data: Buffer }
  /** The end of one PDV (one message fragment). `last` is the message control header's last-fragment bit. */
  | { kind: 'pdv-end'; contextId: number; command: boolean; last: boolean }
  | { kind: 'invalid'; reason: 'unrecognized-pdu' | 'invalid-pdu-parameter'; message: string };

/** Control PDUs above this size are treated as garbage (an A-ASSOCIATE-RQ with 128 contexts is ~15 KB). */
const MAX_CONTROL_PDU = 1 << 20;

const enum S {
  PduHeader,
  ControlBody,
  PdvHeader,
  PdvData,
  Dead,
}

export class PduReader {
  private chunks: Buffer[] = [];
  private available = 0;
  private state = S.PduHeader;
  private pduType = 0;
  private pduRemaining = 0;
  private pdvRemaining = 0;
  private pdvContext = 0;
  private pdvCommand = false;
  private pdvLast = false;

  /**
   * @param maxPduLength the largest P-DATA-TF PDU we accept (our own maximum receive length, 0 = none).
   */
  constructor(
    private maxPduLength: number,
    private readonly emit: (e: PduReaderEvent) => void,
  ) {}

  setMaxPduLength(n: number): void {
    this.maxPduLength = n;
  }

  push(chunk: Buffer): void {
    if (this.state === S.Dead) return;
    this.chunks.push(chunk);
    this.available += chunk.length;
    this.drain();
  }

  private fail(reason: 'unrecognized-pdu' | 'invalid-pdu-parameter', message: string): void {
    this.state = S.Dead;
    this.chunks = [];
    this.available = 0;
    this.emit({ kind: 'invalid', reason, message });
  }

  /** Take exactly n bytes (n small, or a control PDU), copying only if they span chunks. */
  private take(n: number): Buffer {
    const first = this.chunks[0]!;
    if (first.length >= n) {
      const out = first.subarray(0, n);
      if (first.length === n) this.chunks.shift();
      else this.chunks[0] = first.subarray(n);
      this.available -= n;
      return out;
    }
    const out = Buffer.allocUnsafe(n);
    let off = 0;
    while (off < n) {
      const c = this.chunks[0]!;
      const k = Math.min(c.length, n - off);
      c.copy(out, off, 0, k);
      off += k;
      if (k === c.length) this.chunks.shift();
      else this.chunks[0] = c.subarray(k);
    }
    this.available -= n;
    return out;
  }

  /** Take up to n bytes from the front chunk only (a slice, never a copy). */
  private takeSlice(n: number): Buffer {
    const first = this.chunks[0]!;
    if (first.length <= n) {
      this.chunks.shift();
      this.available -= first.length;
      return first;
    }
    this.chunks[0] = first.subarray(n);
    this.available -= n;
    return first.subarray(0, n);
  }

  private drain(): void {
    for (;;) {
      switch (this.state) {
        case S.PduHeader: {
          if (this.available < 6) return;
          const h = this.take(6);
          this.pduType = h[0]!;
          this.pduRemaining = h.readUInt32BE(2);
          if (this.pduType === PduType.PDataTf) {
            if (this.maxPduLength > 0 && this.pduRemaining > this.maxPduLength) {
              return this.fail(
                'invalid-pdu-parameter',
                `P-DATA-TF of ${this.pduRemaining} bytes exceeds the negotiated maximum of ${this.maxPduLength}`,
              );
            }
            if (this.pduRemaining < 6) return this.fail('invalid-pdu-parameter', 'P-DATA-TF without a PDV');
            this.state = S.PdvHeader;
          } else if (this.pduType >= PduType.AssociateRq && this.pduType <= PduType.Abort) {
            if (this.pduRemaining > MAX_CONTROL_PDU) {
              return this.fail(
                'invalid-pdu-parameter',
                `PDU type ${this.pduType} claims ${this.pduRemaining} bytes`,
              );
            }
            this.state = S.ControlBody;
          } else {
            return this.fail(
              'unrecognized-pdu',
              `unknown PDU type 0x${this.pduType.toString(16).padStart(2, '0')}`,
            );
          }
          break;
        }
        case S.ControlBody: {
          if (this.available < this.pduRemaining) return;
          const body = this.take(this.pduRemaining);
          let pdu: ControlPdu;
          try {
            pdu = decodeControlPdu(this.pduType, body);
          } catch (e) {
            if (e instanceof PduDecodeError) return this.fail('invalid-pdu-parameter', e.message);
            throw e;
          }
          this.state = S.PduHeader;
          this.emit({ kind: 'control', pdu });
          break;
        }
        case S.PdvHeader: {
          if (this.available < 6) return;
          const h = this.take(6);
          const len = h.readUInt32BE(0);
          if (len < 2 || len + 4 > this.pduRemaining) {
            return this.fail('invalid-pdu-parameter', `PDV length ${len} does not fit its P-DATA-TF`);
          }
          this.pdvContext = h[4]!;
          const mch = h[5]!;
          this.pdvCommand = (mch & 1) === 1;
          this.pdvLast = (mch & 2) === 2;
          this.pduRemaining -= 4 + len;
          this.pdvRemaining = len - 2;
          this.state = S.PdvData;
          break;
        }
        case S.PdvData: {
          if (this.pdvRemaining > 0) {
            if (this.available === 0) return;
            const data = this.takeSlice(this.pdvRemaining);
            this.pdvRemaining -= data.length;
            this.emit({ kind: 'pdv-data', contextId: this.pdvContext, command: this.pdvCommand, data });
            if (this.state !== S.PdvData) return; // a handler killed the reader
            if (this.pdvRemaining > 0) continue;
          }
          this.state = this.pduRemaining > 0 ? S.PdvHeader : S.PduHeader;
          if (this.pduRemaining > 0 && this.pduRemaining < 6) {
            return this.fail('invalid-pdu-parameter', 'trailing bytes in P-DATA-TF');
          }
          this.emit({
            kind: 'pdv-end',
            contextId: this.pdvContext,
            command: this.pdvCommand,
            last: this.pdvLast,
          });
          break;
        }
        case S.Dead:
          return;
      }
    }
  }

  /** Stop delivering anything (after an abort). */
  kill(): void {
    this.state = S.Dead;
    this.chunks = [];
    this.available = 0;
  }
}
