import { describe, expect, it } from 'vitest';
import { decodeSmallDataset, encodeSmallDataset } from '../../../src/dicom/small-dataset.js';
import { buildIdentifier } from '../../../src/net/services/identifier.js';

const ROWS = 0x00280010;
const COLUMNS = 0x00280011;

describe('buildIdentifier', () => {
  it('asks for binary-VR return keys (Rows, Columns) with an empty value, not a value of 0', () => {
    // A zero-length key is "return it"; a value 0 is a matching key "Rows = 0", which matches nothing.
    const id = buildIdentifier('IMAGE', { StudyInstanceUID: '1.2.3', Rows: '', Columns: null });
    for (const enc of [{ explicit: true }, { explicit: false }]) {
      const back = decodeSmallDataset(encodeSmallDataset(id, enc), enc);
      expect(back.get(ROWS)?.value).toEqual([]);
      const bytes = encodeSmallDataset(new Map([[ROWS, id.get(ROWS)!]]), enc);
      expect(bytes.length).toBe(8); // header only, no value
      const cols = encodeSmallDataset(new Map([[COLUMNS, id.get(COLUMNS)!]]), enc);
      expect(cols.length).toBe(8);
    }
  });

  it('keeps a given binary value as a matching key', () => {
    const id = buildIdentifier('IMAGE', { Rows: '512' });
    const bytes = encodeSmallDataset(new Map([[ROWS, id.get(ROWS)!]]), { explicit: true });
    expect(bytes.length).toBe(10);
    expect(bytes.readUInt16LE(8)).toBe(512);
  });
});
