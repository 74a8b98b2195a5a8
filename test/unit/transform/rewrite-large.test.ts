/**
 * The rewriter streams: a file over 50 MB (a corpus file whose native Pixel Data is padded to 64 MiB more, in a
 * temp dir) is rewritten with memory growth far below its size, and its tail comes out byte for byte.
 * Memory is sampled coarsely (RSS), never timed.
 */
import { createHash } from 'node:crypto';
import { createReadStream, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readInstanceInfo } from '../../../src/dicom/part10.js';
import { Tags } from '../../../src/dicom/tag.js';
import { rewriteInstance } from '../../../src/transform/rewrite.js';
import { hasCorpus, manifest } from '../../harness/corpus.js';

const PAD = Number(process.env.RW_PAD ?? 64) * 1024 * 1024;
const MiB = 1024 * 1024;

async function sha256(path: string, start: number): Promise<string> {
  const h = createHash('sha256');
  for await (const c of createReadStream(path, { start })) h.update(c as Buffer);
  return h.digest('hex');
}

describe.skipIf(!hasCorpus())('rewriteInstance on a large file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pacshift-rewrite-large-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('keeps memory bounded (RSS growth < 64 MB for a > 64 MiB file) and copies the pixel data verbatim', async () => {
    // An explicit VR little endian file whose last element is native Pixel Data of defined length.
    let source: { path: string; valueOffset: number; valueLength: number } | undefined;
    for (const row of manifest()) {
      if (row.transferSyntax !== 'Explicit VR Little Endian') continue;
      const info = await readInstanceInfo(row.absPath);
      if (!info.ok) continue;
      const px = info.value.pixelData;
      if (
        px &&
        !px.encapsulated &&
        px.tag === Tags.PixelData.tag &&
        px.valueLength! + px.valueOffset === info.value.fileSize
      ) {
        source = { path: row.absPath, valueOffset: px.valueOffset, valueLength: px.valueLength! };
        break;
      }
    }
    expect(source).toBeDefined();
    const original = readFileSync(source!.path);
    const big = join(dir, 'big.dcm');
    const fh = await open(big, 'w');
    const head = Buffer.from(original.subarray(0, source!.valueOffset));
    head.writeUInt32LE(source!.valueLength + PAD, source!.valueOffset - 4);
    await fh.write(head);
    await fh.write(original.subarray(source!.valueOffset));
    const zeros = Buffer.alloc(MiB);
    for (let i = 0; i < PAD / MiB; i++) await fh.write(zeros);
    await fh.close();
    const size = statSync(big).size;
    expect(size).toBeGreaterThan(64 * MiB);
    expect((await readInstanceInfo(big)).ok).toBe(true);

    const out = join(dir, 'big-out.dcm');
    const base = process.memoryUsage().rss;
    let peak = base;
    const sampler = setInterval(() => {
      peak = Math.max(peak, process.memoryUsage().rss);
    }, 5);
    const r = await rewriteInstance(big, out, [
      { tag: Tags.PatientID.tag, value: 'LARGE-FILE-ID-1' },
      { tag: Tags.PatientName.tag, value: 'LARGE^FILE' },
    ]);
    clearInterval(sampler);
    peak = Math.max(peak, process.memoryUsage().rss);
    if (!r.ok) throw new Error(r.error.message);
    const growth = peak - base;
    console.log(
      `large rewrite: ${(size / MiB).toFixed(1)} MiB file, RSS growth ${(growth / MiB).toFixed(1)} MiB ` +
        `(peak ${(peak / MiB).toFixed(0)} MiB)`,
    );
    expect(growth).toBeLessThan(64 * 1024 * 1024);

    // The pixel data (everything after the edited elements) is the same bytes, at offsets moved by the delta.
    const delta = r.value.sizeBytes - size;
    const pixelsOut = source!.valueOffset + delta;
    expect(await sha256(out, pixelsOut)).toBe(await sha256(big, source!.valueOffset));
    const outInfo = await readInstanceInfo(out);
    expect(outInfo.ok && outInfo.value.pixelData?.valueOffset).toBe(pixelsOut);
    expect(r.value.changes.map((c) => c.keyword)).toEqual(['PatientName', 'PatientID']);
  }, 300_000);
});
