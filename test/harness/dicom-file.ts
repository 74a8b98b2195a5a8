import { readFileSync } from 'node:fs';

/**
 * Where the data set starts in a Part 10 file: after the 128-byte preamble, "DICM" and the File Meta group
 * (0002,xxxx, always explicit VR little endian), walked element by element rather than trusting (0002,0000).
 * A file without preamble and File Meta starts with its data set (offset 0).
 */
export function datasetOffset(bytes: Buffer): number {
  if (bytes.length < 132 || bytes.toString('latin1', 128, 132) !== 'DICM') return 0;
  let offset = 132;
  while (offset + 8 <= bytes.length && bytes.readUInt16LE(offset) === 0x0002) {
    const vr = bytes.toString('latin1', offset + 4, offset + 6);
    if (['OB', 'OD', 'OF', 'OL', 'OV', 'OW', 'SQ', 'SV', 'UC', 'UN', 'UR', 'UT', 'UV'].includes(vr)) {
      offset += 12 + bytes.readUInt32LE(offset + 8);
    } else {
      offset += 8 + bytes.readUInt16LE(offset + 6);
    }
  }
  return offset;
}

/** The data set bytes of a file (no preamble, no File Meta): what travels in a C-STORE. */
export function datasetBytes(file: string): Buffer {
  const bytes = readFileSync(file);
  return bytes.subarray(datasetOffset(bytes));
}
