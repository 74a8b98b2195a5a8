/**
 * An odd-length data set (real files: an odd Pixel Data length; a Deflate stream without its pad) cannot go out
 * as it is: PDV fragments are even (PS3.8 Annex E; DCMTK aborts on an odd one), so the sender ends it with one
 * NUL (src/net/dimse/channel.ts). What that NUL becomes depends on the receiver:
 * - Deflate: the pad PS3.5 A.5 prescribes. Sent as it is.
 * - a pacshift receiver recognises the pad after the last element and does not write it
 *   (src/net/services/store-target.ts): the file it writes holds the sender's data set byte for byte.
 * - any other receiver keeps it: a peer writing what it received (storescp +B) writes a file no reader can
 *   parse (a stray byte after the last element), and DCMTK-based peers read it as the last value's pad. So an
 *   odd-length native Pixel Data at the end goes out as PS3.5 7.1.1 encodes it, its length one more, the NUL
 *   its pad — what DCMTK makes of it too — and the outcome says so. Anything else is refused, with the cause.
 */
import { readInstanceInfo } from '../../dicom/part10.js';
import { lookupTransferSyntax } from '../../dicom/transfer-syntax.js';
import type { NetFailure } from '../errors.js';
import { IMPLEMENTATION_CLASS_UID } from '../implementation.js';
import type { SendableInstance } from './store-scu.js';

export type OddLengthPlan =
  | { kind: 'as-is' }
  | { kind: 'pad-value'; patch: { offset: number; bytes: Buffer }; note: string }
  | { kind: 'refuse'; failure: NetFailure };

const AS_IS: OddLengthPlan = { kind: 'as-is' };

export async function planOddLength(
  inst: SendableInstance,
  peerImplementationClassUid: string,
): Promise<OddLengthPlan> {
  if (inst.datasetLength % 2 === 0) return AS_IS;
  const ts = lookupTransferSyntax(inst.transferSyntaxUid);
  if (!ts || ts.deflated || peerImplementationClassUid === IMPLEMENTATION_CLASS_UID) return AS_IS;
  const refuse = (why: string): OddLengthPlan => ({
    kind: 'refuse',
    failure: {
      kind: 'unsendable',
      message: `odd-length data set (${inst.datasetLength} bytes) ${why}: it cannot reach a peer that is not pacshift unchanged (PDV fragments are even, PS3.8 Annex E)`,
    },
  });
  const r = await readInstanceInfo(inst.path);
  if (!r.ok) return refuse(`that cannot be read again (${r.error.code})`);
  const pd = r.value.pixelData;
  const end = inst.datasetOffset + inst.datasetLength;
  if (!pd || pd.encapsulated || pd.valueLength === undefined || pd.valueOffset + pd.valueLength !== end)
    return refuse('whose last element is not its native Pixel Data');
  const bytes = Buffer.alloc(4);
  if (ts.littleEndian) bytes.writeUInt32LE(pd.valueLength + 1);
  else bytes.writeUInt32BE(pd.valueLength + 1);
  return {
    kind: 'pad-value',
    patch: { offset: pd.valueOffset - 4 - inst.datasetOffset, bytes },
    note: `Pixel Data of odd length ${pd.valueLength} sent padded to ${pd.valueLength + 1} (PS3.5 7.1.1): the peer is not pacshift`,
  };
}
