/**
 * A multipart/related; type="application/dicom" body (PS3.18 8.6.1.2) streamed from the spooled files:
 * each part is a Part 10 file read from disk in 1 MiB chunks (a 30 MB+ instance is never held whole).
 * Spooled files always have a File Meta (our receiver writes one; a folder source's files without one are
 * unreadable to the inventory and never reach the spool), so every file goes out byte for byte.
 */
import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { SendableInstance } from '../../net/services/store-scu.js';

export interface MultipartBody {
  readonly contentType: string;
  readonly contentLength: number;
  chunks(): AsyncIterable<Buffer>;
}

interface Part {
  head: Buffer;
  path: string;
  size: number;
}

const CRLF = Buffer.from('\r\n');

export async function dicomMultipart(instances: readonly SendableInstance[]): Promise<MultipartBody> {
  const boundary = `pacshift-${randomBytes(12).toString('hex')}`;
  const parts: Part[] = [];
  for (const i of instances) {
    const size = (await stat(i.path)).size;
    const partHead = Buffer.from(`--${boundary}\r\nContent-Type: application/dicom\r\n\r\n`, 'latin1');
    parts.push({ head: partHead, path: i.path, size });
  }
  const tail = Buffer.from(`--${boundary}--\r\n`, 'latin1');
  const contentLength = parts.reduce((n, p) => n + p.head.length + p.size + CRLF.length, 0) + tail.length;
  return {
    contentType: `multipart/related; type="application/dicom"; boundary=${boundary}`,
    contentLength,
    async *chunks() {
      for (const p of parts) {
        yield p.head;
        if (p.size > 0) {
          // Exactly the size announced in Content-Length, even if the file grew meanwhile.
          for await (const c of createReadStream(p.path, {
            start: 0,
            end: p.size - 1,
            highWaterMark: 1 << 20,
          }))
            yield c as Buffer;
        }
        yield CRLF;
      }
      yield tail;
    },
  };
}
