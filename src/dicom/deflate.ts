/**
 * A forward-reading byte source over the raw-deflate stream (RFC 1951) that follows the File Meta in
 * Deflated Explicit VR Little Endian files. Offsets are positions in the inflated data set. Memory stays
 * bounded: bytes more than `keepBehind` before the latest read are dropped.
 */
import { createReadStream } from 'node:fs';
import { createInflateRaw, type InflateRaw } from 'node:zlib';
import { DicomSourceError, dicomError } from './errors.js';
import type { ByteSource, SourceWindow } from './source.js';

export class InflateSource implements ByteSource {
  private buf: Buffer = Buffer.alloc(0);
  private bufStart = 0;
  private ended = false;
  private readonly inflate: InflateRaw;
  private readonly it: AsyncIterator<Buffer>;
  /** Bytes produced so far; the inflated length once the stream has ended. */
  produced = 0;

  constructor(
    readonly path: string,
    readonly start: number,
    private readonly keepBehind = 256 * 1024,
  ) {
    const input = createReadStream(path, { start, highWaterMark: 64 * 1024 });
    this.inflate = createInflateRaw({ chunkSize: 64 * 1024 });
    input.on('error', (e) => this.inflate.destroy(e));
    input.pipe(this.inflate);
    this.it = this.inflate[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  }

  get length(): number | undefined {
    return this.ended ? this.produced : undefined;
  }

  peek(offset: number, n: number): Buffer | undefined {
    if (offset < this.bufStart)
      throw new Error(`InflateSource is forward-only (asked ${offset}, have ${this.bufStart})`);
    const rel = offset - this.bufStart;
    if (rel + n <= this.buf.length || this.ended) return this.buf.subarray(rel, rel + n);
    return undefined;
  }

  windowAt(offset: number): SourceWindow | undefined {
    const rel = offset - this.bufStart;
    if (rel < 0 || rel > this.buf.length) return undefined;
    return { buffer: this.buf, start: this.bufStart, atEnd: this.ended };
  }

  async read(offset: number, n: number): Promise<Buffer> {
    for (;;) {
      const hit = this.peek(offset, n);
      if (hit) return hit;
      let r: IteratorResult<Buffer>;
      try {
        r = await this.it.next();
      } catch (e) {
        throw new DicomSourceError(
          dicomError(
            'deflate-error',
            `deflate stream of ${this.path} is corrupt after ${this.produced} bytes: ${(e as Error).message}`,
            {
              path: this.path,
              inflatedBytes: this.produced,
            },
          ),
        );
      }
      if (r.done) {
        this.ended = true;
        continue;
      }
      this.produced += r.value.length;
      // Keep at most `keepBehind` bytes before the reader, so that memory stays bounded.
      const keepFrom = Math.min(Math.max(0, offset - this.keepBehind - this.bufStart), this.buf.length);
      this.buf = Buffer.concat([this.buf.subarray(keepFrom), r.value]);
      this.bufStart += keepFrom;
    }
  }

  async close(): Promise<void> {
    this.inflate.destroy();
    await this.it.return?.();
  }
}
