import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ElementBounds } from '../../../src/dicom/element-bounds.js';
import { readInstanceInfo } from '../../../src/dicom/part10.js';
import { corpusFiles, hasCorpus } from '../../harness/corpus.js';

// The receiver drops the sender's NUL pad after an odd-length data set only when ElementBounds finds it after the
// last complete element. Checked on every readable, non-deflated corpus file (explicit and implicit VR, big endian,
// undefined-length sequences and items, UN sequences, encapsulated Pixel Data), fed in uneven chunks.

/** Feed `bytes` in chunks of varying sizes (1 byte upwards) so that headers straddle chunk boundaries. */
function feed(bounds: ElementBounds, bytes: Buffer): ElementBounds {
  for (let at = 0, n = 1; at < bytes.length; at += n, n = (n * 7 + 3) % 4099 || 1)
    bounds.push(bytes.subarray(at, at + n));
  return bounds;
}

describe.skipIf(!hasCorpus())('ElementBounds on the corpus', () => {
  it('finds a NUL after the last element exactly when one was appended, for every readable file', async () => {
    let checked = 0;
    const wrong: string[] = [];
    for (const path of corpusFiles()) {
      const r = await readInstanceInfo(path);
      if (!r.ok || r.value.transferSyntax.deflated) continue;
      const ds = readFileSync(path).subarray(r.value.metaEnd);
      const enc = r.value.transferSyntax;
      checked++;
      if (feed(new ElementBounds(enc), ds).endsWithPad())
        wrong.push(`${path}: pad found in the file as it is`);
      // A sequence or Pixel Data left open at the end of the file: a byte after it is inside it, not a pad.
      const open = r.value.issues.some((i) => i.code === 'unterminated-at-eof');
      const padded = Buffer.concat([ds, Buffer.from([0])]);
      if (feed(new ElementBounds(enc), padded).endsWithPad() === open)
        wrong.push(`${path}: appended NUL ${open ? 'taken as a pad in an open sequence' : 'not found'}`);
      const other = Buffer.concat([ds, Buffer.from([0x20])]);
      if (feed(new ElementBounds(enc), other).endsWithPad())
        wrong.push(`${path}: a non-NUL byte taken as a pad`);
    }
    expect(wrong).toEqual([]);
    expect(checked).toBeGreaterThan(300);
  });

  it('a stream cut inside an element, or with two bytes after its last element, has no pad', () => {
    const el = Buffer.from([0x10, 0x00, 0x10, 0x00, 0x50, 0x4e, 0x04, 0x00, 0x41, 0x5e, 0x42, 0x20]);
    const enc = { explicitVr: true, littleEndian: true };
    expect(feed(new ElementBounds(enc), Buffer.concat([el, Buffer.from([0])])).endsWithPad()).toBe(true);
    expect(feed(new ElementBounds(enc), Buffer.concat([el, Buffer.from([0, 0])])).endsWithPad()).toBe(false);
    expect(feed(new ElementBounds(enc), el.subarray(0, 11)).endsWithPad()).toBe(false);
  });
});
