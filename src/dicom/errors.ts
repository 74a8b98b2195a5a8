/**
 * What can be wrong with a DICOM file, as values. Messages carry UIDs, offsets and paths, never
 * patient names, IDs or birth dates.
 */

export type DicomFileErrorCode =
  | 'not-dicom' // not a DICOM stream at all
  | 'no-meta' // no File Meta (no 'DICM', no group 0002) or a meta without Transfer Syntax UID: cannot be sent
  | 'unknown-transfer-syntax'
  | 'lying-transfer-syntax' // the data set is not encoded as (0002,0010) says
  | 'truncated' // a length runs beyond the end of the file
  | 'too-deep' // sequence nesting beyond the limit
  | 'missing-uid' // no SOP Instance UID in the data set
  | 'deflate-error'
  | 'malformed' // structure broken inside the file (bad item, element overrunning its item...)
  | 'io';

export type Detail = Readonly<Record<string, string | number | boolean | undefined>>;

export interface DicomFileError {
  readonly code: DicomFileErrorCode;
  readonly message: string;
  readonly detail?: Detail;
}

export const dicomError = (code: DicomFileErrorCode, message: string, detail?: Detail): DicomFileError =>
  detail ? { code, message, detail } : { code, message };

/** Something odd that does not stop the file from being identified and sent byte for byte. */
export type DicomIssueCode =
  | 'meta-sop-class-mismatch' // (0002,0002) ≠ (0008,0016)
  | 'meta-sop-instance-mismatch' // (0002,0003) ≠ (0008,0018)
  | 'meta-missing-element' // a Type 1 meta element is absent
  | 'meta-group-length-mismatch' // (0002,0000) does not match the elements
  | 'meta-implicit-vr' // group 0002 written in implicit VR
  | 'meta-in-data-set' // group 0002 elements inside the data set
  | 'missing-sop-class' // no (0008,0016) in the data set
  | 'unterminated-at-eof' // undefined-length sequence/item/pixel data not closed when the file ends
  | 'not-a-sequence' // VR SQ (or dictionary SQ) whose value is not made of items: kept opaque
  | 'stray-delimiter' // an item/sequence delimiter where none was open
  | 'odd-length'; // an element with an odd value length

export interface DicomIssue {
  readonly code: DicomIssueCode;
  readonly message: string;
  readonly offset?: number;
}

/** Thrown by byte sources to carry a typed error through a walk; the walker turns it into a value. */
export class DicomSourceError extends Error {
  constructor(readonly error: DicomFileError) {
    super(error.message);
    this.name = 'DicomSourceError';
  }
}
