import { readFileSync } from 'node:fs';
import dicomParser from 'dicom-parser';
import { runTool } from './process.js';

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

const DEFLATED_TS = '1.2.840.10008.1.2.1.99';
const BIG_ENDIAN_TS = '1.2.840.10008.1.2.2';

/**
 * The data set bytes that arrive when pacshift sends `file`, read independently of src/ (the File Meta walked here,
 * Pixel Data located by dicom-parser). PDV fragments are even (PS3.8 Annex E), so an odd-length data set travels
 * with one NUL after it:
 * - Deflate: the NUL is the stream's pad (PS3.5 A.5) and stays, whoever receives it;
 * - to a pacshift receiver: it recognises the pad and drops it, so what arrives is the file's data set exactly;
 * - to any other receiver: a native Pixel Data of odd length at the end goes with its length one more (the NUL its
 *   pad, PS3.5 7.1.1); any other odd-length data set is not sent (undefined).
 */
export function arrivingDataset(file: string, receiver: 'pacshift' | 'other'): Buffer | undefined {
  const bytes = readFileSync(file);
  const offset = datasetOffset(bytes);
  const ds = bytes.subarray(offset);
  if (ds.length % 2 === 0) return ds;
  const meta = bytes.subarray(0, offset).toString('latin1');
  const pad = Buffer.from([0]);
  if (meta.includes(DEFLATED_TS)) return Buffer.concat([ds, pad]);
  if (receiver === 'pacshift') return ds;
  const parsed = dicomParser.parseDicom(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length));
  const px = parsed.elements.x7fe00010;
  if (!px || px.encapsulatedPixelData || px.dataOffset + px.length !== bytes.length) return undefined;
  const out = Buffer.concat([ds, pad]);
  const at = px.dataOffset - 4 - offset;
  if (meta.includes(`${BIG_ENDIAN_TS}\0`)) out.writeUInt32BE(px.length + 1, at);
  else out.writeUInt32LE(px.length + 1, at);
  return out;
}

/**
 * Files DCMTK's dcmdump cannot read (a non-zero exit with an "E:" line naming the file), with its message.
 * One dcmdump for many files; long values are not loaded (-M) but their lengths are checked against the file.
 */
export async function dcmdumpFailures(paths: readonly string[]): Promise<Map<string, string>> {
  const failures = new Map<string, string>();
  for (let i = 0; i < paths.length; i += 100) {
    const batch = paths.slice(i, i + 100);
    const r = await runTool('dcmdump', ['-ll', 'error', '-M', ...batch], { timeoutMs: 120_000 });
    for (const line of r.stderr.split('\n')) {
      const m = /^E: .*reading file: (.*)$/.exec(line);
      if (m) failures.set(m[1]!, line);
    }
    if (r.code !== 0 && failures.size === 0)
      throw new Error(`dcmdump failed without naming a file: ${r.stderr}`);
  }
  return failures;
}
