/**
 * Reassembles the messages of one direction of one DICOM association from its raw bytes (e.g. captured by the
 * proxy's onData): P-DATA-TF PDUs (type 04) carry PDVs, each flagged command or data set and last fragment or not
 * (PS3.8 9.3.5, E.2). Other PDUs are skipped. Lets a test compare the data set bytes that went over the wire.
 */

export interface DimseFragmentSet {
  presentationContextId: number;
  command: boolean;
  bytes: Buffer;
}

export class PDataCollector {
  private buffer = Buffer.alloc(0);
  private readonly partial = new Map<string, Buffer[]>();
  /** Completed command sets and data sets, in the order their last fragment arrived. */
  readonly messages: DimseFragmentSet[] = [];

  push(chunk: Buffer): void {
    this.buffer = this.buffer.length === 0 ? Buffer.from(chunk) : Buffer.concat([this.buffer, chunk]);
    while (this.buffer.length >= 6) {
      const type = this.buffer[0]!;
      const length = this.buffer.readUInt32BE(2);
      if (this.buffer.length < 6 + length) return;
      const body = this.buffer.subarray(6, 6 + length);
      this.buffer = this.buffer.subarray(6 + length);
      if (type === 0x04) this.pdvs(body);
    }
  }

  private pdvs(body: Buffer): void {
    let offset = 0;
    while (offset + 6 <= body.length) {
      const itemLength = body.readUInt32BE(offset);
      const pcid = body[offset + 4]!;
      const header = body[offset + 5]!;
      const fragment = body.subarray(offset + 6, offset + 4 + itemLength);
      offset += 4 + itemLength;
      const command = (header & 0x01) !== 0;
      const last = (header & 0x02) !== 0;
      const key = `${pcid}:${command ? 'c' : 'd'}`;
      const parts = this.partial.get(key) ?? [];
      parts.push(Buffer.from(fragment));
      if (last) {
        this.partial.delete(key);
        this.messages.push({ presentationContextId: pcid, command, bytes: Buffer.concat(parts) });
      } else {
        this.partial.set(key, parts);
      }
    }
  }

  /** The data sets (not command sets) completed so far. */
  datasets(): Buffer[] {
    return this.messages.filter((m) => !m.command).map((m) => m.bytes);
  }
}
