/** Transfer syntaxes we accept when we are the receiving side (C-GET storage contexts): all we know, byte-preserving. */
import { TRANSFER_SYNTAXES } from '../dicom/transfer-syntax.js';

export const ALL_TRANSFER_SYNTAXES: string[] = [
  '1.2.840.10008.1.2.1',
  '1.2.840.10008.1.2',
  ...TRANSFER_SYNTAXES.map((t) => t.uid).filter(
    (u) => u !== '1.2.840.10008.1.2.1' && u !== '1.2.840.10008.1.2',
  ),
];
