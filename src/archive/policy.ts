/**
 * What the archive accepts at association time: Verification, the Q/R classes of both models
 * (identifiers in uncompressed little endian), and storage classes (standard and private) in any
 * transfer syntax or only the configured ones; the SCP role is granted for storage classes so
 * that C-GET sub-operations can run on the requestor's association (PS3.4 C.5.3, PS3.7 D.3.3.4).
 */
import { isStorageSopClass } from '../dicom/sop-class.js';
import type { AcceptPolicy } from '../net/association/negotiation.js';
import { UNCOMPRESSED_LE, VERIFICATION } from '../net/services/sop-classes.js';
import { QR_SOP_CLASSES } from './levels.js';

const DICOM_ROOT = '1.2.840.10008.';
const STORAGE_BRANCH = '1.2.840.10008.5.1.4.1.1.';

/** A storage SOP class as far as the archive is concerned: known storage, the storage branch, or private. */
export const isArchivableSopClass = (uid: string): boolean =>
  isStorageSopClass(uid) ||
  uid.startsWith(STORAGE_BRANCH) ||
  (!uid.startsWith(DICOM_ROOT) && /^[0-9.]+$/.test(uid));

export function archiveAcceptPolicy(opts: { acceptTransferSyntaxes?: readonly string[] } = {}): AcceptPolicy {
  const identifiers = new Set(UNCOMPRESSED_LE);
  const storage = opts.acceptTransferSyntaxes ? new Set(opts.acceptTransferSyntaxes) : undefined;
  return {
    transferSyntaxesFor: (as) => {
      if (as === VERIFICATION) return 'any';
      if (QR_SOP_CLASSES.has(as)) return identifiers;
      if (isArchivableSopClass(as)) return storage ?? 'any';
      return undefined;
    },
    allowRequestorScp: (as) => isArchivableSopClass(as),
  };
}
