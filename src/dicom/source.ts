/**
 * Random-access byte sources for the walker: a file read through a file descriptor in windows
 * (never the whole file), and an in-memory buffer. Reads return views that stay valid (a refill
 * allocates a new window rather than overwriting the old one).
 */
import { open, type FileHandle } from 'node:fs/promises';
import { DicomSourceError, dicomError } from './errors.js';

/** Bytes a source holds in memory: `buffer[i]` is the byte at offset `start + i`. */
export interface SourceWindow {
  readonly buffer: Buffer;
  readonly start: number;
  /** The buffer reaches the end of the source. */
  readonly atEnd: boolean;
}

export interface ByteSource {
  /** Total length in bytes, when known (undefined for streams until their end). */
  readonly length: number | undefined;
  /**
   * Bytes [offset, offset+n): fewer only at the end of the source. `readAhead` is how much a
   * buffering source may load beyond them (default: its window size).
   */
  read(offset: number, n: number, readAhead?: number): Promise<Buffer>;
  /** The same, synchronously, when the bytes are already buffered; undefined otherwise. */
  peek(offset: number, n: number): Buffer | undefined;
  /** The buffered window containing `offset` (for readers that parse in place), or undefined. */
  windowAt(offset: number): SourceWindow | undefined;
  close(): Promise<void>;
}

export class BufferSource implements ByteSource {
  constructor(private readonly buf: Buffer) {}
  get length(): number {
    return this.buf.length;
  }
  peek(offset: number, n: number): Buffer {
    return this.buf.subarray(offset, offset + n);
  }
  windowAt(offset: number): SourceWindow | undefined {
    return offset >= 0 && offset <= this.buf.length ? { buffer: this.buf, start: 0, atEnd: true } : undefined;
  }
  read(offset: number, n: number): Promise<Buffer> {
    return Promise.resolve(this.peek(offset, n));
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
}

export const DEFAULT_WINDOW = 64 * 1024;

export class FileSource implements ByteSource {
  private window: Buffer = Buffer.alloc(0);
  private windowStart = 0;
  /** Bytes read from disk, for tests and benchmarks. */
  bytesRead = 0;
  reads = 0;

  private constructor(
    private readonly fh: FileHandle,
    readonly length: number,
    readonly path: string,
    private readonly windowSize: number,
  ) {}

  static async open(path: string, windowSize = DEFAULT_WINDOW): Promise<FileSource> {
    let fh: FileHandle | undefined;
    try {
      fh = await open(path, 'r');
      const st = await fh.stat();
      if (!st.isFile()) throw new Error('not a regular file');
      return new FileSource(fh, st.size, path, windowSize);
    } catch (e) {
      await fh?.close().catch(() => undefined);
      throw new DicomSourceError(dicomError('io', `cannot open ${path}: ${(e as Error).message}`, { path }));
    }
  }

  peek(offset: number, n: number): Buffer | undefined {
    const rel = offset - this.windowStart;
    if (rel >= 0 && rel + n <= this.window.length) return this.window.subarray(rel, rel + n);
    // At the end of the file a short answer is complete.
    if (rel >= 0 && rel <= this.window.length && this.windowStart + this.window.length === this.length) {
      return this.window.subarray(rel);
    }
    return undefined;
  }

  windowAt(offset: number): SourceWindow | undefined {
    const rel = offset - this.windowStart;
    if (rel < 0 || rel > this.window.length) return undefined;
    return {
      buffer: this.window,
      start: this.windowStart,
      atEnd: this.windowStart + this.window.length === this.length,
    };
  }

  async read(offset: number, n: number, readAhead = this.windowSize): Promise<Buffer> {
    const hit = this.peek(offset, n);
    if (hit) return hit;
    const want = Math.max(0, Math.min(Math.max(n, readAhead), this.length - offset));
    const buf = Buffer.allocUnsafe(want);
    let got = 0;
    try {
      while (got < want) {
        const { bytesRead } = await this.fh.read(buf, got, want - got, offset + got);
        if (bytesRead === 0) break;
        got += bytesRead;
      }
    } catch (e) {
      throw new DicomSourceError(
        dicomError('io', `read failed at ${offset} in ${this.path}: ${(e as Error).message}`),
      );
    }
    this.reads++;
    this.bytesRead += got;
    this.window = buf.subarray(0, got);
    this.windowStart = offset;
    return this.window.subarray(0, Math.min(n, got));
  }

  close(): Promise<void> {
    return this.fh.close();
  }
}
