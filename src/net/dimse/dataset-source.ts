/** Where an outgoing data set comes from: memory (identifiers) or a byte range of a file (instances). */
import { open } from 'node:fs/promises';

export type DatasetSource =
  | Buffer
  | {
      path: string;
      offset: number;
      length: number;
      /** Pre-read bytes of the beginning of the range (a prefetch), if any. */
      head?: Buffer;
      /** Bytes that replace those at `offset` (from the start of the range) as they go out; the file is not touched. */
      patch?: { offset: number; bytes: Buffer };
    };

/** `chunk` (starting at `at` in the range) with the patch applied where it overlaps: a copy, never the caller's buffer. */
export function applyPatch(
  chunk: Buffer,
  at: number,
  patch: { offset: number; bytes: Buffer } | undefined,
): Buffer {
  if (!patch) return chunk;
  const from = Math.max(patch.offset, at);
  const to = Math.min(patch.offset + patch.bytes.length, at + chunk.length);
  if (from >= to) return chunk;
  const copy = Buffer.from(chunk);
  patch.bytes.copy(copy, from - at, from - patch.offset, to - patch.offset);
  return copy;
}

/** How much of a file we read per step when streaming it out: bounded memory whatever the file size. */
export const FILE_CHUNK = 1 << 20;

/** Read a file range in chunks; `onChunk` may return a promise to apply back-pressure. */
export async function streamFileRange(
  src: Exclude<DatasetSource, Buffer>,
  onChunk: (chunk: Buffer, last: boolean) => Promise<unknown> | unknown,
): Promise<void> {
  let pos = 0;
  if (src.head && src.head.length > 0) {
    const last = src.head.length >= src.length;
    await onChunk(src.head, last);
    pos = src.head.length;
    if (last) return;
  }
  const fh = await open(src.path, 'r');
  try {
    while (pos < src.length) {
      const n = Math.min(FILE_CHUNK, src.length - pos);
      const buf = Buffer.allocUnsafe(n);
      let got = 0;
      while (got < n) {
        const { bytesRead } = await fh.read(buf, got, n - got, src.offset + pos + got);
        if (bytesRead === 0) throw new Error(`file ended ${src.length - pos - got} bytes early: ${src.path}`);
        got += bytesRead;
      }
      pos += n;
      await onChunk(buf, pos >= src.length);
    }
    if (src.length === 0) await onChunk(Buffer.alloc(0), true);
  } finally {
    await fh.close();
  }
}

/**
 * Read the first `max` bytes of a file range (used to prefetch the next instance while waiting for a response).
 * With `into`, the bytes are read into that buffer (reused by the caller: no fresh pages to fault in).
 */
export async function prefetchHead(
  path: string,
  offset: number,
  length: number,
  max = FILE_CHUNK,
  into?: Buffer,
): Promise<Buffer> {
  const fh = await open(path, 'r');
  try {
    const n = Math.min(max, length);
    const buf = into && into.length >= n ? into : Buffer.allocUnsafe(n);
    let got = 0;
    while (got < n) {
      const { bytesRead } = await fh.read(buf, got, n - got, offset + got);
      if (bytesRead === 0) break;
      got += bytesRead;
    }
    return got === buf.length ? buf : buf.subarray(0, got);
  } finally {
    await fh.close();
  }
}
