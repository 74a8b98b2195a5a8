/** SOP classes of the services (PS3.4); storage SOP classes live in src/dicom/sop-class.ts. */
export const VERIFICATION = '1.2.840.10008.1.1';
export const STORAGE_COMMITMENT_PUSH = '1.2.840.10008.1.20.1';
export const STORAGE_COMMITMENT_PUSH_INSTANCE = '1.2.840.10008.1.20.1.1';

export const QR = {
  patient: {
    find: '1.2.840.10008.5.1.4.1.2.1.1',
    move: '1.2.840.10008.5.1.4.1.2.1.2',
    get: '1.2.840.10008.5.1.4.1.2.1.3',
  },
  study: {
    find: '1.2.840.10008.5.1.4.1.2.2.1',
    move: '1.2.840.10008.5.1.4.1.2.2.2',
    get: '1.2.840.10008.5.1.4.1.2.2.3',
  },
} as const;

export type QueryModel = keyof typeof QR;
export type QueryLevel = 'PATIENT' | 'STUDY' | 'SERIES' | 'IMAGE';

/** Transfer syntaxes for commands' data sets (identifiers): uncompressed, little endian. */
export const UNCOMPRESSED_LE = ['1.2.840.10008.1.2.1', '1.2.840.10008.1.2'];
