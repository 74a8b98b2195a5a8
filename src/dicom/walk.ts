/**
 * A streaming walker over the elements of a data set, with their offsets. It reads element headers
 * and skips values (no pixel data is read), descends into sequences of defined or undefined length,
 * yields items, delimiters and encapsulated fragments, and stops with a typed error on truncation,
 * broken structure or nesting beyond a limit. Values are read only on request, bounded.
 *
 * This is the foundation for element-level edits (rewrite named elements and their enclosing lengths)
 * and for digests: every byte of the data set belongs to exactly one yielded header or value.
 */
import { implicitVr } from './dictionary.js';
import {
  DicomSourceError,
  dicomError,
  type DicomFileError,
  type DicomIssue,
  type DicomIssueCode,
} from './errors.js';
import type { ByteSource } from './source.js';
import { formatTag, ITEM, ITEM_DELIMITATION, SEQUENCE_DELIMITATION, Tags, type Tag } from './tag.js';
import { IMPLICIT_LE, type Encoding } from './transfer-syntax.js';
import { vrFromBytes, VR_TABLE, type VR } from './vr.js';

export const UNDEFINED_LENGTH = 0xffffffff;
export const DEFAULT_MAX_DEPTH = 32;
/** readValue's default bound. */
export const DEFAULT_MAX_VALUE = 1024 * 1024;
const MAX_ISSUES = 100;
/** Bytes loaded around a fragment header (the fragment's own bytes are not wanted). */
const FRAGMENT_READ_AHEAD = 256;

export interface PathStep {
  /** The sequence (or encapsulated Pixel Data) element. */
  readonly tag: Tag;
  /** Item (or fragment) index, from 0; for a sequence delimiter, the number of items. */
  readonly item: number;
}

export type WalkKind =
  | 'element' // a data element (any VR, including SQ and encapsulated Pixel Data)
  | 'item' // (FFFE,E000) inside a sequence
  | 'item-end' // (FFFE,E00D)
  | 'sequence-end' // (FFFE,E0DD), closing an undefined-length sequence or encapsulated Pixel Data
  | 'fragment'; // (FFFE,E000) inside encapsulated Pixel Data; fragment 0 is the Basic Offset Table

export interface WalkElement {
  readonly kind: WalkKind;
  readonly tag: Tag;
  /** Explicit VR as written; implicit VR from the dictionary (or UN). Undefined for items/delimiters. */
  readonly vr: VR | undefined;
  /** Offset of the element header in the source. */
  readonly offset: number;
  readonly headerLength: number;
  readonly valueOffset: number;
  /** Undefined for undefined length (0xFFFFFFFF). */
  readonly valueLength: number | undefined;
  /** Number of enclosing sequences (0 for top-level elements). */
  readonly depth: number;
  /** Enclosing sequences and item indexes, outermost first. */
  readonly path: readonly PathStep[];
  /** What follows the header: a value the walker skips, items/fragments it descends into, or nothing. */
  readonly content: 'value' | 'items' | 'fragments' | 'none';
  /** Encoding of this header (inside a UN sequence of undefined length, implicit VR little endian). */
  readonly encoding: Encoding;
}

export interface WalkOptions {
  readonly encoding: Encoding;
  /** Offset of the first element. */
  readonly start: number;
  /** End of the data set; default the end of the source. */
  readonly end?: number;
  readonly maxDepth?: number;
  /** Descend into sequences of defined length (default true). Undefined-length ones are always walked. */
  readonly descendDefinedLength?: boolean;
  /**
   * Yield records inside sequences (default true). When false, only top-level elements and the
   * fragments of top-level encapsulated pixel data are yielded; nested structure is still checked.
   */
  readonly emitNested?: boolean;
}

interface Frame {
  readonly kind: 'dataset' | 'item' | 'sequence' | 'fragments';
  readonly end: number | undefined;
  readonly encoding: Encoding;
  /** Path of the children of this frame. */
  readonly path: readonly PathStep[];
  readonly tag: Tag;
  count: number;
}

// In-place reads (the caller has checked the bounds).
const u16 = (b: Buffer, o: number, le: boolean): number =>
  le ? b[o]! | (b[o + 1]! << 8) : (b[o]! << 8) | b[o + 1]!;
const u32 = (b: Buffer, o: number, le: boolean): number =>
  le
    ? (b[o]! | (b[o + 1]! << 8) | (b[o + 2]! << 16)) + b[o + 3]! * 0x1000000
    : b[o]! * 0x1000000 + ((b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!);
const readTag = (b: Buffer, o: number, le: boolean): Tag => u16(b, o, le) * 0x10000 + u16(b, o + 2, le);
const EMPTY = Buffer.alloc(0);

export class DicomWalker implements AsyncIterable<WalkElement> {
  /** Set when the walk stopped on an error; the elements yielded before it are valid. */
  error: DicomFileError | undefined;
  readonly issues: DicomIssue[] = [];
  /** Offset where the walk ended (end of the last complete element), once done. */
  endOffset: number | undefined;
  /** Number of yielded records. */
  count = 0;

  private readonly stack: Frame[];
  private pos: number;
  private done = false;
  private needAt = 0;
  private needLength = 0;
  private readonly maxDepth: number;
  private readonly descendDefined: boolean;
  private readonly emitNested: boolean;
  // The source window the parser reads in place.
  private wb: Buffer = EMPTY;
  private ws = 0;
  private wAtEnd = false;

  constructor(
    readonly source: ByteSource,
    readonly options: WalkOptions,
  ) {
    this.maxDepth = options.maxDepth ?? DEFAULT_MAX_DEPTH;
    this.descendDefined = options.descendDefinedLength ?? true;
    this.emitNested = options.emitNested ?? true;
    this.pos = options.start;
    this.stack = [
      {
        kind: 'dataset',
        end: options.end ?? source.length,
        encoding: options.encoding,
        path: [],
        tag: 0,
        count: 0,
      },
    ];
  }

  /**
   * The next records, as many as the buffered bytes allow (at most `max`); empty when the walk is over
   * (check `error`). Cheaper than per-element async iteration for large data sets.
   */
  async nextBatch(max = 4096): Promise<WalkElement[]> {
    const out: WalkElement[] = [];
    try {
      let lastNeed = -1;
      while (!this.done) {
        if (this.parse(out, max) === 'need') {
          if (out.length > 0) break;
          if (this.needAt === lastNeed) {
            // The source could not provide bytes it claims to have: never spin.
            this.fail('truncated', `no data at ${this.needAt}`, this.needAt);
            break;
          }
          lastNeed = this.needAt;
          // Between fragments only item headers are wanted: do not load the pixel data around them.
          const inFragments = this.stack[this.stack.length - 1]!.kind === 'fragments';
          await this.source.read(
            this.needAt,
            Math.max(this.needLength, 12),
            inFragments ? FRAGMENT_READ_AHEAD : undefined,
          );
          continue;
        }
        break;
      }
    } catch (e) {
      if (!(e instanceof DicomSourceError)) throw e;
      this.error = e.error;
      this.done = true;
    }
    this.count += out.length;
    return out;
  }

  [Symbol.asyncIterator](): AsyncIterator<WalkElement> {
    let batch: WalkElement[] = [];
    let i = 0;
    return {
      next: async (): Promise<IteratorResult<WalkElement>> => {
        while (i >= batch.length) {
          batch = await this.nextBatch();
          i = 0;
          if (batch.length === 0) return { done: true, value: undefined };
        }
        return { done: false, value: batch[i++]! };
      },
    };
  }

  /** The value bytes of an element (at most `max`). For forward-only sources, call before moving on. */
  async readValue(el: WalkElement, max = DEFAULT_MAX_VALUE): Promise<Buffer> {
    if (el.valueLength === undefined) throw new Error(`readValue: ${formatTag(el.tag)} has undefined length`);
    const n = Math.min(el.valueLength, max);
    return this.source.peek(el.valueOffset, n) ?? this.source.read(el.valueOffset, n);
  }

  /** The value bytes if already buffered (synchronous), else undefined. */
  peekValue(el: WalkElement, max = DEFAULT_MAX_VALUE): Buffer | undefined {
    if (el.valueLength === undefined) return undefined;
    return this.source.peek(el.valueOffset, Math.min(el.valueLength, max));
  }

  private issue(code: DicomIssueCode, message: string, offset?: number): void {
    if (this.issues.length < MAX_ISSUES)
      this.issues.push(offset === undefined ? { code, message } : { code, message, offset });
  }

  private fail(code: 'truncated' | 'malformed' | 'too-deep', message: string, offset: number): 'done' {
    this.error = dicomError(code, message, { offset });
    this.done = true;
    return 'done';
  }

  /**
   * How many of the `n` bytes at `p` are buffered (fewer only at the end of the source), reading them
   * in place from `this.wb` at `p - this.ws`; -1 when they must be read first.
   */
  private avail(p: number, n: number): number {
    let rel = p - this.ws;
    if (rel >= 0 && rel + n <= this.wb.length) return n;
    const w = this.source.windowAt(p);
    if (!w) return -1;
    this.wb = w.buffer;
    this.ws = w.start;
    this.wAtEnd = w.atEnd;
    rel = p - w.start;
    if (rel + n <= w.buffer.length) return n;
    return w.atEnd ? w.buffer.length - rel : -1;
  }

  private need(at: number, n: number): 'need' {
    this.needAt = at;
    this.needLength = n;
    return 'need';
  }

  /**
   * Parses records from buffered bytes into `out`. Returns 'need' when bytes must be read first
   * (nothing of the pending record is committed), 'done' at the end or on error, 'full' when `out` is.
   * Synchronous: one record costs no promise.
   */
  private parse(out: WalkElement[], max: number): 'need' | 'done' | 'full' {
    const stack = this.stack;
    for (;;) {
      if (out.length >= max) return 'full';
      const pos = this.pos;
      const f = stack[stack.length - 1]!;
      if (f.end !== undefined && pos >= f.end) {
        if (pos > f.end)
          return this.fail(
            'malformed',
            `element ends at ${pos}, beyond the end of its ${f.kind} at ${f.end}`,
            pos,
          );
        if (f.kind === 'dataset') return this.finish();
        stack.pop();
        continue;
      }
      const got = this.avail(pos, 12);
      if (got < 0) return this.need(pos, 12);
      if (got === 0) {
        // End of the source. Fine at top level; otherwise containers are left open.
        if (f.kind !== 'dataset') {
          const open = stack.filter((s) => s.kind !== 'dataset' && s.end === undefined).length;
          this.issue(
            'unterminated-at-eof',
            `file ends with ${open} undefined-length container(s) left open`,
            pos,
          );
        }
        return this.finish();
      }
      if (got < 8) return this.fail('truncated', `element header at ${pos} cut by the end of the file`, pos);
      const le = f.encoding.littleEndian;
      const h = this.wb;
      const o = pos - this.ws;
      const t = readTag(h, o, le);
      const depth = f.path.length;

      if (f.kind === 'sequence' || f.kind === 'fragments') {
        const len = u32(h, o + 4, le);
        if (t === ITEM) {
          const path = [...f.path, { tag: f.tag, item: f.count }];
          if (f.kind === 'fragments') {
            if (len === UNDEFINED_LENGTH)
              return this.fail('malformed', `fragment of undefined length at ${pos}`, pos);
            const end = pos + 8 + len;
            const limit = this.limit();
            if (limit !== undefined && end > limit) return this.overrun(pos, end, limit);
            f.count++;
            if (this.emitNested || path.length === 1)
              out.push({
                kind: 'fragment',
                tag: t,
                vr: undefined,
                offset: pos,
                headerLength: 8,
                valueOffset: pos + 8,
                valueLength: len,
                depth: path.length,
                path,
                content: 'value',
                encoding: f.encoding,
              });
            this.pos = end;
            continue;
          }
          const end = len === UNDEFINED_LENGTH ? undefined : pos + 8 + len;
          if (end !== undefined) {
            const limit = this.limit();
            if (limit !== undefined && end > limit) return this.overrun(pos, end, limit);
          }
          f.count++;
          if (this.emitNested)
            out.push({
              kind: 'item',
              tag: t,
              vr: undefined,
              offset: pos,
              headerLength: 8,
              valueOffset: pos + 8,
              valueLength: end === undefined ? undefined : len,
              depth: path.length,
              path,
              content: 'none',
              encoding: f.encoding,
            });
          stack.push({ kind: 'item', end, encoding: f.encoding, path, tag: t, count: 0 });
          this.pos = pos + 8;
          continue;
        }
        if (t === SEQUENCE_DELIMITATION) {
          const path = [...f.path, { tag: f.tag, item: f.count }];
          if (this.emitNested || path.length === 1)
            out.push({
              kind: 'sequence-end',
              tag: t,
              vr: undefined,
              offset: pos,
              headerLength: 8,
              valueOffset: pos + 8,
              valueLength: 0,
              depth: path.length,
              path,
              content: 'none',
              encoding: f.encoding,
            });
          this.pos = pos + 8;
          if (f.end === undefined) stack.pop();
          else
            this.issue(
              'stray-delimiter',
              `sequence delimiter inside defined-length ${formatTag(f.tag)} at ${pos}`,
              pos,
            );
          continue;
        }
        return this.fail(
          'malformed',
          `expected an item in ${formatTag(f.tag)} at ${pos}, found ${formatTag(t)}`,
          pos,
        );
      }

      // Inside the data set or an item.
      if (t === ITEM_DELIMITATION) {
        if (this.emitNested)
          out.push({
            kind: 'item-end',
            tag: t,
            vr: undefined,
            offset: pos,
            headerLength: 8,
            valueOffset: pos + 8,
            valueLength: 0,
            depth,
            path: f.path,
            content: 'none',
            encoding: f.encoding,
          });
        this.pos = pos + 8;
        if (f.kind === 'item' && f.end === undefined) stack.pop();
        else this.issue('stray-delimiter', `item delimiter at ${pos} with no open item`, pos);
        continue;
      }
      if (t === SEQUENCE_DELIMITATION && f.kind === 'item' && f.end === undefined) {
        // The item was not closed: let the sequence take its delimiter.
        this.issue('stray-delimiter', `sequence delimiter at ${pos} closes an unclosed item`, pos);
        stack.pop();
        continue;
      }
      if (t === ITEM || t === SEQUENCE_DELIMITATION) {
        return this.fail('malformed', `${formatTag(t)} at ${pos} outside a sequence`, pos);
      }

      let vr: VR;
      let len: number;
      let headerLength: number;
      if (f.encoding.explicitVr) {
        const v = vrFromBytes(h[o + 4]!, h[o + 5]!);
        if (!v) {
          return this.fail(
            'malformed',
            `invalid VR bytes 0x${h.toString('hex', o + 4, o + 6)} for ${formatTag(t)} at ${pos}`,
            pos,
          );
        }
        vr = v;
        if (VR_TABLE[v].longLength) {
          if (got < 12)
            return this.fail('truncated', `element header at ${pos} cut by the end of the file`, pos);
          len = u32(h, o + 8, le);
          headerLength = 12;
        } else {
          len = u16(h, o + 6, le);
          headerLength = 8;
        }
      } else {
        vr = implicitVr(t);
        len = u32(h, o + 4, le);
        headerLength = 8;
      }
      const valueOffset = pos + headerLength;

      if (len === UNDEFINED_LENGTH) {
        if (depth + 1 > this.maxDepth) {
          return this.fail(
            'too-deep',
            `sequence nesting deeper than ${this.maxDepth} at ${formatTag(t)} (offset ${pos})`,
            pos,
          );
        }
        // Undefined length: a sequence (SQ, or UN holding implicit VR LE per PS3.5 6.2.2),
        // or encapsulated pixel data (fragments).
        const fragments = t === Tags.PixelData.tag || (vr !== 'SQ' && vr !== 'UN' && f.encoding.explicitVr);
        const childEncoding = vr === 'UN' && f.encoding.explicitVr ? IMPLICIT_LE : f.encoding;
        if (this.emitNested || depth === 0)
          out.push({
            kind: 'element',
            tag: t,
            vr,
            offset: pos,
            headerLength,
            valueOffset,
            valueLength: undefined,
            depth,
            path: f.path,
            content: fragments ? 'fragments' : 'items',
            encoding: f.encoding,
          });
        stack.push({
          kind: fragments ? 'fragments' : 'sequence',
          end: undefined,
          encoding: childEncoding,
          path: f.path,
          tag: t,
          count: 0,
        });
        this.pos = valueOffset;
        continue;
      }

      const end = valueOffset + len;
      const limit = this.limit();
      if (limit !== undefined && end > limit) return this.overrun(pos, end, limit, t);

      let content: WalkElement['content'] = 'value';
      if (vr === 'SQ' && len > 0 && this.descendDefined) {
        const n4 = this.avail(valueOffset, 4);
        if (n4 < 0) return this.need(pos, headerLength + 4);
        const ft = n4 === 4 ? readTag(this.wb, valueOffset - this.ws, le) : 0;
        if (ft === ITEM || ft === SEQUENCE_DELIMITATION) {
          if (depth + 1 > this.maxDepth) {
            return this.fail(
              'too-deep',
              `sequence nesting deeper than ${this.maxDepth} at ${formatTag(t)} (offset ${pos})`,
              pos,
            );
          }
          content = 'items';
        } else {
          this.issue(
            'not-a-sequence',
            `${formatTag(t)} at ${pos} is SQ but holds no items: kept as an opaque value`,
            pos,
          );
        }
      }
      if (len & 1) this.issue('odd-length', `${formatTag(t)} at ${pos} has odd length ${len}`, pos);
      if (this.emitNested || depth === 0)
        out.push({
          kind: 'element',
          tag: t,
          vr,
          offset: pos,
          headerLength,
          valueOffset,
          valueLength: len,
          depth,
          path: f.path,
          content,
          encoding: f.encoding,
        });
      if (content === 'items') {
        stack.push({ kind: 'sequence', end, encoding: f.encoding, path: f.path, tag: t, count: 0 });
        this.pos = valueOffset;
      } else {
        this.pos = end;
      }
    }
  }

  private finish(): 'done' {
    // Sources of unknown length (inflate streams) are checked once their end is known.
    const srcLen = this.source.length;
    if (srcLen !== undefined && this.pos > srcLen) {
      return this.fail(
        'truncated',
        `last element ends at ${this.pos}, beyond the end of the data (${srcLen})`,
        this.pos,
      );
    }
    this.endOffset = this.pos;
    this.done = true;
    return 'done';
  }

  /** The tightest known end: the innermost defined-length container, or the source. */
  private limit(): number | undefined {
    for (let i = this.stack.length - 1; i >= 0; i--) {
      const e = this.stack[i]!.end;
      if (e !== undefined) return e;
    }
    return this.source.length;
  }

  private overrun(pos: number, end: number, limit: number, t?: Tag): 'done' {
    this.done = true;
    const what = t === undefined ? 'item' : formatTag(t);
    const srcLen = this.source.length;
    // Running beyond the file is truncation; beyond an enclosing item or sequence, broken structure.
    if (srcLen !== undefined && end > srcLen) {
      this.error = dicomError(
        'truncated',
        `${what} at ${pos} needs ${end - srcLen} bytes beyond the end of the file (value ends at ${end}, file ends at ${srcLen})`,
        { offset: pos, valueEnd: end, fileEnd: srcLen },
      );
    } else {
      this.error = dicomError(
        'malformed',
        `${what} at ${pos} ends at ${end}, beyond its container ending at ${limit}`,
        {
          offset: pos,
        },
      );
    }
    return 'done';
  }
}

export const walk = (source: ByteSource, options: WalkOptions): DicomWalker =>
  new DicomWalker(source, options);
