/**
 * Where the elements of a data set end, followed as its bytes stream by (a receiver that writes them as they
 * arrive). Only headers are read: values, defined-length sequences and items, and fragments are skipped; an
 * undefined-length sequence or item is descended into until its delimiter. Cost: a few operations per element,
 * none per byte of value.
 *
 * What it answers: does the stream end with exactly one byte after its last complete element, and is that byte
 * a NUL? That byte is the pad a sender adds to an odd-length data set (PDV fragments are even, PS3.8 Annex E;
 * pacshift's sender, src/net/dimse/channel.ts): kept, it is a stray byte that no reader can parse (dcmdump:
 * "premature end of stream"). Without it, the data set is the sender's file byte for byte.
 * A stream whose structure cannot be followed (unknown VR, delimiter out of place) gives no answer.
 */
import type { Encoding } from './transfer-syntax.js';
import { IMPLICIT_LE } from './transfer-syntax.js';
import { hasLongLength, vrFromBytes } from './vr.js';

const UNDEFINED = 0xffffffff;
const PIXEL_DATA = 0x7fe00010;
const ITEM = 0xfffee000;
const ITEM_END = 0xfffee00d;
const SEQUENCE_END = 0xfffee0dd;

type Frame = { kind: 'sequence' | 'item' | 'fragments'; encoding: Encoding };

export class ElementBounds {
  /** Offset (in the stream) of the next header; bytes before it belong to values already read past. */
  private next = 0;
  private position = 0;
  private head = Buffer.alloc(12);
  private headLength = 0;
  private readonly stack: Frame[] = [];
  private broken = false;

  constructor(private readonly encoding: Encoding) {}

  get length(): number {
    return this.position;
  }

  push(chunk: Buffer): void {
    let at = 0;
    while (!this.broken && at < chunk.length) {
      const absolute = this.position + at;
      if (absolute < this.next) {
        at += Math.min(chunk.length - at, this.next - absolute);
        continue;
      }
      const want = this.headerLength();
      const take = Math.min(want - this.headLength, chunk.length - at);
      chunk.copy(this.head, this.headLength, at, at + take);
      this.headLength += take;
      at += take;
      // The first 8 bytes say whether the header is 8 or 12 bytes long: ask again.
      if (this.headLength === want && this.headerLength() === want) this.header();
    }
    this.position += chunk.length;
  }

  /**
   * True when the stream ended with one NUL after its last complete top-level element: that byte is a pad,
   * not part of the data set.
   */
  endsWithPad(): boolean {
    return (
      !this.broken &&
      this.stack.length === 0 &&
      this.headLength === 1 &&
      this.head[0] === 0 &&
      this.next === this.position - 1
    );
  }

  private get current(): Encoding {
    return this.stack.at(-1)?.encoding ?? this.encoding;
  }

  private u16(at: number): number {
    return this.current.littleEndian ? this.head.readUInt16LE(at) : this.head.readUInt16BE(at);
  }

  private u32(at: number): number {
    return this.current.littleEndian ? this.head.readUInt32LE(at) : this.head.readUInt32BE(at);
  }

  /** Bytes of the header being read: 8 until its tag and VR are known, then 8 or 12. */
  private headerLength(): number {
    if (this.headLength < 8 || !this.current.explicitVr) return 8;
    if (this.u16(0) === 0xfffe) return 8;
    const vr = vrFromBytes(this.head[4]!, this.head[5]!);
    return vr !== undefined && hasLongLength(vr) ? 12 : 8;
  }

  private header(): void {
    const start = this.next;
    const tag = ((this.u16(0) << 16) | this.u16(2)) >>> 0;
    const frame = this.stack.at(-1);
    this.headLength = 0;
    if (tag >>> 16 === 0xfffe) return this.delimiter(tag, this.u32(4), start + 8, frame);
    if (frame?.kind === 'fragments') return this.fail();
    let length: number;
    let vr: string | undefined;
    let size = 8;
    if (this.current.explicitVr) {
      const known = vrFromBytes(this.head[4]!, this.head[5]!);
      if (known === undefined) return this.fail();
      vr = known;
      size = hasLongLength(known) ? 12 : 8;
      length = size === 12 ? this.u32(8) : this.u16(6);
    } else length = this.u32(4);
    this.next = start + size;
    if (length !== UNDEFINED) {
      this.next += length;
      return;
    }
    if (tag === PIXEL_DATA && this.stack.length === 0 && vr !== undefined && vr !== 'SQ' && vr !== 'UN')
      this.stack.push({ kind: 'fragments', encoding: this.current });
    // PS3.5 6.2.2: a UN of undefined length holds implicit VR little endian.
    else this.stack.push({ kind: 'sequence', encoding: vr === 'UN' ? IMPLICIT_LE : this.current });
  }

  private delimiter(tag: number, length: number, after: number, frame: Frame | undefined): void {
    this.next = after;
    if (tag === ITEM && (frame?.kind === 'sequence' || frame?.kind === 'fragments')) {
      if (length !== UNDEFINED) this.next += length;
      else if (frame.kind === 'sequence') this.stack.push({ kind: 'item', encoding: frame.encoding });
      else this.fail();
    } else if (tag === ITEM_END && frame?.kind === 'item') this.stack.pop();
    else if (tag === SEQUENCE_END && (frame?.kind === 'sequence' || frame?.kind === 'fragments'))
      this.stack.pop();
    else this.fail();
  }

  private fail(): void {
    this.broken = true;
  }
}
