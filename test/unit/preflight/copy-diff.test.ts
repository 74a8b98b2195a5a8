/**
 * diffCopies: what a target changed, as values. Re-encodings (sequence length form, VR spelling, a
 * padding byte) are not alterations; a changed, dropped or added element, or other pixels, are.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { diffCopies } from '../../../src/analyse/preflight/index.js';
import { hasCorpus } from '../../../src/util/corpus.js';
import { corpusDir } from '../../harness/corpus.js';
import { makeTempDir, removeTempDir } from '../../harness/tmp.js';
import { el, item, sq } from '../dicom/build.js';
import { ENC, e, u, writeObject } from './synthetic.js';

describe('diffCopies', () => {
  let dir: string;
  beforeAll(() => {
    dir = makeTempDir('preflight-diff');
  });
  afterAll(() => removeTempDir(dir));

  const diff = async (a: Record<number, Buffer | null>, b: Record<number, Buffer | null>) => {
    const n = Math.random().toString(36).slice(2);
    const r = await diffCopies(writeObject(dir, `a-${n}.dcm`, a), writeObject(dir, `b-${n}.dcm`, b));
    if (!r.ok) throw new Error(r.error.message);
    return r.value;
  };
  const kinds = (d: Awaited<ReturnType<typeof diff>>) => d.differences.map((x) => `${x.kind} ${x.key}`);

  it('a copy equal to the original has no difference', async () => {
    const d = await diff({}, {});
    expect(d.differences).toEqual([]);
    expect(d.altered).toBe(false);
  });

  it('a changed value, a dropped and an added element are alterations, by path', async () => {
    const d = await diff(
      { [0x00081030]: e(0x00081030, 'LO', 'HEAD') },
      { [0x00080070]: e(0x00080070, 'LO', 'OTHER'), [0x00181030]: e(0x00181030, 'LO', 'P') },
    );
    expect(kinds(d).sort()).toEqual(['added (0018,1030)', 'dropped (0008,1030)', 'value (0008,0070)']);
    expect(d.altered).toBe(true);
  });

  it('a change inside a sequence item is found at its path', async () => {
    const seq = (code: string) => sq(ENC, 0x00081032, [item(ENC, e(0x00080100, 'SH', code))]);
    const d = await diff({ [0x00081032]: seq('A1') }, { [0x00081032]: seq('B2') });
    expect(kinds(d)).toEqual(['value (0008,1032)[0].(0008,0100)']);
  });

  it('a sequence of undefined length instead of a defined one, a value as UN instead of LO: re-encoded, not altered', async () => {
    const items = [item(ENC, e(0x00080100, 'SH', 'A1'))];
    const d = await diff(
      { [0x00081032]: sq(ENC, 0x00081032, items), [0x00081030]: e(0x00081030, 'LO', 'HEAD') },
      { [0x00081032]: sq(ENC, 0x00081032, items, true), [0x00081030]: e(0x00081030, 'UN', 'HEAD') },
    );
    expect(kinds(d).sort()).toEqual(['reencoded (0008,1030)', 'reencoded (0008,1032)']);
    expect(d.altered).toBe(false);
  });

  it('other pixels in the same transfer syntax are an alteration; a padding byte is not', async () => {
    const d = await diff({}, { [0x7fe00010]: el(ENC, 0x7fe00010, 'OW', Buffer.alloc(8, 9)) });
    expect(kinds(d)).toEqual(['pixels pixels']);
    // 3 × 1 pixels of 8 bits: 3 bytes, one copy without padding (odd length), the other padded with 0xFF.
    const small = {
      [0x00280010]: u(0x00280010, 1),
      [0x00280011]: u(0x00280011, 3),
      [0x00280100]: u(0x00280100, 8),
      [0x00280101]: u(0x00280101, 8),
      [0x00280102]: u(0x00280102, 7),
    };
    const p = await diff(
      { ...small, [0x7fe00010]: el(ENC, 0x7fe00010, 'OB', Buffer.from([1, 2, 3])) },
      { ...small, [0x7fe00010]: el(ENC, 0x7fe00010, 'OB', Buffer.from([1, 2, 3, 0xff])) },
    );
    expect(p.differences).toEqual([]);
  });

  it.skipIf(!hasCorpus())(
    'the same image stored big endian and as JPEG 2000: no alteration (pixels are not compared across syntaxes)',
    async () => {
      const at = (f: string) => join(corpusDir(), 'pydicom/pydicom-data', f);
      const r = await diffCopies(
        at('emri_small_big_endian.dcm'),
        at('emri_small_jpeg_2k_lossless_too_short.dcm'),
      );
      expect(r.ok && r.value.altered).toBe(false);
      const conflict = await diffCopies(
        join(corpusDir(), 'pydicom/debian_test_files/badVR.dcm'),
        join(corpusDir(), 'pydicom/debian_test_files/rtdose.dcm'),
      );
      expect(
        conflict.ok && conflict.value.differences.filter((x) => x.kind === 'value').map((x) => x.keyword),
      ).toContain('NumberOfFrames');
    },
  );
});
