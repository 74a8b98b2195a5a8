import { describe, expect, it } from 'vitest';
import { withDataSet } from '../../../src/dicom/dataset.js';
import { readInstanceInfo } from '../../../src/dicom/part10.js';
import { BufferSource, FileSource } from '../../../src/dicom/source.js';
import { Tags } from '../../../src/dicom/tag.js';
import {
  EXPLICIT_BE,
  EXPLICIT_LE,
  IMPLICIT_LE,
  lookupTransferSyntax,
} from '../../../src/dicom/transfer-syntax.js';
import { walk, type DicomWalker, type WalkElement } from '../../../src/dicom/walk.js';
import { hasCorpus } from '../../../src/util/corpus.js';
import { ok } from '../../../src/util/result.js';
import { el, encapsulated, item, sq, UNDEF } from './build.js';
import { readManifest } from './corpus-manifest.js';

async function all(w: DicomWalker): Promise<WalkElement[]> {
  const out: WalkElement[] = [];
  for (let b = await w.nextBatch(); b.length > 0; b = await w.nextBatch()) out.push(...b);
  return out;
}

async function iterated(w: DicomWalker): Promise<WalkElement[]> {
  const out: WalkElement[] = [];
  for await (const e of w) out.push(e);
  return out;
}

/** Every record starts where the previous one's header (containers) or value (others) ended. */
function checkTiling(records: readonly WalkElement[], start: number): number {
  let cursor = start;
  for (const r of records) {
    if (r.offset !== cursor)
      throw new Error(`record ${r.kind} ${r.tag.toString(16)} at ${r.offset}, expected ${cursor}`);
    cursor = r.content === 'value' ? r.valueOffset + r.valueLength! : r.valueOffset;
  }
  return cursor;
}

/** Top-level elements: each starts where the previous ended (containers end after their last record). */
function topLevelSpans(records: readonly WalkElement[]): { start: number; end: number }[] {
  const spans: { start: number; end: number }[] = [];
  for (const r of records) {
    const end = r.content === 'value' ? r.valueOffset + r.valueLength! : r.valueOffset;
    if (r.depth === 0 && r.kind === 'element') spans.push({ start: r.offset, end });
    else spans[spans.length - 1]!.end = end;
  }
  return spans;
}

describe.skipIf(!hasCorpus())('walker over the corpus', () => {
  const rows = readManifest();

  it('walks every readable file to its end; records tile the data set exactly', async () => {
    let files = 0;
    let records = 0;
    const deflated: string[] = [];
    for (const row of rows) {
      const info = await readInstanceInfo(row.file);
      if (!info.ok) continue;
      const r = await withDataSet(row.file, async (ds) => {
        const w = ds.walker({ descendDefinedLength: true });
        const recs = await all(w);
        return ok({ recs, w, start: ds.start, inflate: ds.inflate });
      });
      expect(r.ok).toBe(true);
      if (!r.ok) continue;
      const { recs, w, start, inflate } = r.value;
      expect({ path: row.path, error: w.error }).toEqual({ path: row.path, error: undefined });
      const end = checkTiling(recs, start);
      const spans = topLevelSpans(recs);
      expect(spans[0]?.start ?? start).toBe(start);
      const gaps = spans.filter((sp, i) => i > 0 && sp.start !== spans[i - 1]!.end);
      expect({ path: row.path, gaps }).toEqual({ path: row.path, gaps: [] });
      if (inflate) {
        deflated.push(row.path);
        expect(end).toBe(inflate.produced);
      } else {
        expect({ path: row.path, end }).toEqual({ path: row.path, end: info.value.fileSize });
        expect(spans[spans.length - 1]!.end).toBe(info.value.fileSize);
      }
      expect(w.endOffset).toBe(end);
      files++;
      records += recs.length;
    }
    console.log(
      `walked ${files} files, ${records} records; deflated (tiled in the inflated stream): ${deflated.length}`,
    );
    expect(files).toBe(350);
  });

  it('yields the same records whatever the read window (refills at every boundary)', async () => {
    const sample = rows.filter((_, i) => i % 12 === 0);
    for (const row of sample) {
      const info = await readInstanceInfo(row.file);
      if (!info.ok || info.value.transferSyntax.deflated) continue;
      const enc = info.value.transferSyntax;
      const big = await FileSource.open(row.file);
      const tiny = await FileSource.open(row.file, 16);
      try {
        const a = await all(walk(big, { encoding: enc, start: info.value.metaEnd }));
        const b = await all(walk(tiny, { encoding: enc, start: info.value.metaEnd }));
        expect(b).toEqual(a);
        expect(tiny.bytesRead).toBeLessThan(info.value.fileSize); // values were skipped, not read
      } finally {
        await big.close();
        await tiny.close();
      }
    }
  });

  it('finds the fragments of encapsulated pixel data with their offsets', async () => {
    const p = rows.find((r) => r.path.endsWith('CT0012.fragmented_no_bot_jpeg_baseline.51.dcm'))!;
    const r = await withDataSet(p.file, async (ds) => ok(await all(ds.walker())));
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    const px = r.value.find((e) => e.tag === Tags.PixelData.tag && e.depth === 0)!;
    expect(px.content).toBe('fragments');
    const frags = r.value.filter((e) => e.kind === 'fragment');
    expect(frags.length).toBeGreaterThan(2);
    expect(frags[0]!.path).toEqual([{ tag: Tags.PixelData.tag, item: 0 }]);
    expect(frags[0]!.valueLength).toBe(0); // no Basic Offset Table
    expect(frags[0]!.offset).toBe(px.valueOffset);
    for (let i = 1; i < frags.length; i++)
      expect(frags[i]!.offset).toBe(frags[i - 1]!.valueOffset + frags[i - 1]!.valueLength!);
  });
});

describe('walker on synthetic data sets', () => {
  const run = async (buf: Buffer, encoding = EXPLICIT_LE, extra: { maxDepth?: number } = {}) => {
    const w = walk(new BufferSource(buf), { encoding, start: 0, ...extra });
    const recs = await all(w);
    return { w, recs };
  };

  it('descends into nested sequences of defined and undefined length, with paths', async () => {
    const E = EXPLICIT_LE;
    const inner = sq(
      E,
      Tags.ReferencedImageSequence.tag,
      [item(E, el(E, Tags.ReferencedSOPInstanceUID.tag, 'UI', '1.2.3\0'))],
      true,
    );
    const buf = Buffer.concat([
      el(E, Tags.SOPInstanceUID.tag, 'UI', '1.2\0'),
      sq(E, Tags.ReferencedSeriesSequence.tag, [
        item(E, el(E, Tags.SeriesInstanceUID.tag, 'UI', '9.8\0')),
        item(E, Buffer.concat([el(E, Tags.SeriesInstanceUID.tag, 'UI', '9.9\0'), inner]), true),
      ]),
      el(E, Tags.PatientID.tag, 'LO', 'X1'),
    ]);
    const { w, recs } = await run(buf);
    expect(w.error).toBeUndefined();
    expect(checkTiling(recs, 0)).toBe(buf.length);
    const uid = recs.find((r) => r.tag === Tags.ReferencedSOPInstanceUID.tag)!;
    expect(uid.depth).toBe(2);
    expect(uid.path).toEqual([
      { tag: Tags.ReferencedSeriesSequence.tag, item: 1 },
      { tag: Tags.ReferencedImageSequence.tag, item: 0 },
    ]);
    expect((await w.readValue(uid)).toString('latin1')).toBe('1.2.3\0');
    expect(recs.map((r) => r.kind)).toEqual([
      'element',
      'element',
      'item',
      'element',
      'item',
      'element',
      'element',
      'item',
      'element',
      'sequence-end',
      'item-end',
      'element',
    ]);
    expect(recs.filter((r) => r.depth === 0).map((r) => r.tag)).toEqual([
      Tags.SOPInstanceUID.tag,
      Tags.ReferencedSeriesSequence.tag,
      Tags.PatientID.tag,
    ]);
  });

  it('skips defined-length sequences as values when asked', async () => {
    const E = EXPLICIT_LE;
    const buf = sq(E, Tags.ReferencedSeriesSequence.tag, [
      item(E, el(E, Tags.SeriesInstanceUID.tag, 'UI', '9.8\0')),
    ]);
    const w = walk(new BufferSource(buf), { encoding: E, start: 0, descendDefinedLength: false });
    const recs = await all(w);
    expect(recs).toHaveLength(1);
    expect(recs[0]!.content).toBe('value');
  });

  it('yields only top-level elements and top-level fragments when nested records are not wanted', async () => {
    const E = EXPLICIT_LE;
    const buf = Buffer.concat([
      sq(
        E,
        Tags.ReferencedSeriesSequence.tag,
        [item(E, el(E, Tags.SeriesInstanceUID.tag, 'UI', '9.8\0'), true)],
        true,
      ),
      encapsulated(E, Buffer.alloc(0), [Buffer.alloc(4, 1)]),
    ]);
    const w = walk(new BufferSource(buf), { encoding: E, start: 0, emitNested: false });
    const recs = await all(w);
    expect(w.error).toBeUndefined();
    expect(w.endOffset).toBe(buf.length);
    expect(recs.map((r) => `${r.kind}@${r.depth}`)).toEqual([
      'element@0',
      'sequence-end@1',
      'element@0',
      'fragment@1',
      'fragment@1',
      'sequence-end@1',
    ]);
  });

  it('reads big endian, and a UN sequence of undefined length as implicit VR little endian inside', async () => {
    const B = EXPLICIT_BE;
    const inner = item(IMPLICIT_LE, el(IMPLICIT_LE, Tags.ReferencedSOPClassUID.tag, 'UI', '1.2\0'), true);
    const buf = Buffer.concat([
      el(B, Tags.Rows.tag, 'US', Buffer.from([0x01, 0x00])),
      el(B, Tags.SourceImageSequence.tag, 'UN', Buffer.alloc(0), UNDEF),
      inner,
      Buffer.from([0xfe, 0xff, 0xdd, 0xe0, 0, 0, 0, 0]),
      el(B, Tags.PixelData.tag, 'OW', Buffer.from([1, 2, 3, 4])),
    ]);
    const { w, recs } = await run(buf, B);
    expect(w.error).toBeUndefined();
    expect(checkTiling(recs, 0)).toBe(buf.length);
    expect(recs[0]!.tag).toBe(Tags.Rows.tag);
    const ref = recs.find((r) => r.tag === Tags.ReferencedSOPClassUID.tag)!;
    expect(ref.encoding).toEqual(IMPLICIT_LE);
    expect(ref.vr).toBe('UI'); // from the dictionary
    expect(recs[recs.length - 1]!.tag).toBe(Tags.PixelData.tag);
  });

  it('uses the dictionary for implicit VR sequences of defined length', async () => {
    const I = IMPLICIT_LE;
    const buf = sq(I, Tags.ReferencedSeriesSequence.tag, [
      item(I, el(I, Tags.SeriesInstanceUID.tag, 'UI', '9.8\0')),
    ]);
    const { w, recs } = await run(buf, I);
    expect(w.error).toBeUndefined();
    expect(recs.map((r) => r.kind)).toEqual(['element', 'item', 'element']);
    expect(recs[0]!.vr).toBe('SQ');
    expect(recs[2]!.depth).toBe(1);
  });

  it('yields encapsulated fragments with the Basic Offset Table first', async () => {
    const E = EXPLICIT_LE;
    const bot = Buffer.alloc(8);
    bot.writeUInt32LE(0, 0);
    bot.writeUInt32LE(12, 4);
    const buf = encapsulated(E, bot, [Buffer.alloc(4, 1), Buffer.alloc(6, 2)]);
    const { w, recs } = await run(buf);
    expect(w.error).toBeUndefined();
    expect(recs.map((r) => r.kind)).toEqual(['element', 'fragment', 'fragment', 'fragment', 'sequence-end']);
    expect(recs.slice(1, 4).map((r) => [r.offset, r.valueLength])).toEqual([
      [12, 8],
      [28, 4],
      [40, 6],
    ]);
  });

  it('reports truncation, broken structure and excessive depth as typed errors', async () => {
    const E = EXPLICIT_LE;
    const full = Buffer.concat([
      el(E, Tags.PatientID.tag, 'LO', 'ABCD'),
      el(E, Tags.PixelData.tag, 'OW', Buffer.alloc(100)),
    ]);
    for (const cut of [full.length - 1, 12 + 4 + 5, 12 + 10]) {
      const { w } = await run(full.subarray(0, cut));
      expect(w.error?.code).toBe('truncated');
    }
    // An element longer than its item.
    const bad = sq(E, Tags.ReferencedSeriesSequence.tag, [
      item(E, el(E, Tags.SeriesInstanceUID.tag, 'UI', '9.8\0')).subarray(0),
    ]);
    bad.writeUInt32LE(6, 12 + 4); // item length 6 < the 12-byte element inside
    const { w: w2 } = await run(bad);
    expect(w2.error?.code).toBe('malformed');
    // 40 nested undefined-length sequences.
    let nested = el(E, Tags.PatientID.tag, 'LO', 'XY');
    for (let i = 0; i < 40; i++)
      nested = sq(E, Tags.ReferencedSeriesSequence.tag, [item(E, nested, true)], true);
    expect((await run(nested)).w.error?.code).toBe('too-deep');
    const deep = await run(nested, E, { maxDepth: 64 });
    expect(deep.w.error).toBeUndefined();
    expect(Math.max(...deep.recs.map((r) => r.depth))).toBe(40);
  });

  it('gives the same records through for-await as through batches', async () => {
    const E = EXPLICIT_LE;
    const buf = Buffer.concat([
      sq(
        E,
        Tags.ReferencedSeriesSequence.tag,
        [item(E, el(E, Tags.SeriesInstanceUID.tag, 'UI', '9.8\0'), true)],
        true,
      ),
      encapsulated(E, Buffer.alloc(0), [Buffer.alloc(4, 1)]),
    ]);
    const a = await all(walk(new BufferSource(buf), { encoding: E, start: 0 }));
    const b = await iterated(walk(new BufferSource(buf), { encoding: E, start: 0 }));
    expect(b).toEqual(a);
    expect(a.length).toBe(9);
  });

  it('bounds readValue', async () => {
    const E = EXPLICIT_LE;
    const buf = el(E, Tags.PixelData.tag, 'OB', Buffer.alloc(1000, 7));
    const w = walk(new BufferSource(buf), { encoding: E, start: 0 });
    const [px] = await all(w);
    expect((await w.readValue(px!, 10)).length).toBe(10);
  });

  it('knows the transfer syntaxes it walks', () => {
    expect(lookupTransferSyntax('1.2.840.10008.1.2.2')?.littleEndian).toBe(false);
  });
});
