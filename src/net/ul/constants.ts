/** PS3.8 Section 9.3: PDU types, item types and the result/source/reason tables of the Upper Layer. */

export const PduType = {
  AssociateRq: 0x01,
  AssociateAc: 0x02,
  AssociateRj: 0x03,
  PDataTf: 0x04,
  ReleaseRq: 0x05,
  ReleaseRp: 0x06,
  Abort: 0x07,
} as const;
export type PduTypeCode = (typeof PduType)[keyof typeof PduType];

export const ItemType = {
  ApplicationContext: 0x10,
  PresentationContextRq: 0x20,
  PresentationContextAc: 0x21,
  AbstractSyntax: 0x30,
  TransferSyntax: 0x40,
  UserInformation: 0x50,
  MaxLength: 0x51,
  ImplementationClassUid: 0x52,
  AsyncOperationsWindow: 0x53,
  RoleSelection: 0x54,
  ImplementationVersionName: 0x55,
  SopClassExtendedNegotiation: 0x56,
  SopClassCommonExtendedNegotiation: 0x57,
  UserIdentityRq: 0x58,
  UserIdentityAc: 0x59,
} as const;

export const DICOM_APPLICATION_CONTEXT = '1.2.840.10008.3.1.1.1';
export const PROTOCOL_VERSION = 0x0001;

/** Presentation context result (PS3.8 9.3.3.2). */
export const PresentationContextResult: Record<number, string> = {
  0: 'acceptance',
  1: 'user-rejection',
  2: 'no-reason (provider rejection)',
  3: 'abstract-syntax-not-supported (provider rejection)',
  4: 'transfer-syntaxes-not-supported (provider rejection)',
};

/** A-ASSOCIATE-RJ result, source and reason (PS3.8 Table 9-21). */
export const RejectResult: Record<number, string> = { 1: 'rejected-permanent', 2: 'rejected-transient' };
export const RejectSource: Record<number, string> = {
  1: 'service-user',
  2: 'service-provider (ACSE)',
  3: 'service-provider (presentation)',
};
/** Keyed by `${source}:${reason}`. */
export const RejectReason: Record<string, string> = {
  '1:1': 'no-reason-given',
  '1:2': 'application-context-name-not-supported',
  '1:3': 'calling-AE-title-not-recognized',
  '1:7': 'called-AE-title-not-recognized',
  '2:1': 'no-reason-given',
  '2:2': 'protocol-version-not-supported',
  '3:1': 'temporary-congestion',
  '3:2': 'local-limit-exceeded',
};

/** A-ABORT source and reason (PS3.8 Table 9-26). */
export const AbortSource: Record<number, string> = {
  0: 'service-user',
  1: 'reserved',
  2: 'service-provider',
};
export const AbortReason: Record<number, string> = {
  0: 'reason-not-specified',
  1: 'unrecognized-PDU',
  2: 'unexpected-PDU',
  3: 'reserved',
  4: 'unrecognized-PDU-parameter',
  5: 'unexpected-PDU-parameter',
  6: 'invalid-PDU-parameter-value',
};

export const describeReject = (result: number, source: number, reason: number): string =>
  `${RejectResult[result] ?? `result ${result}`}, source ${RejectSource[source] ?? source}, reason ${
    RejectReason[`${source === 3 ? 3 : source}:${reason}`] ?? reason
  }`;

export const describeAbort = (source: number, reason: number): string =>
  `source ${AbortSource[source] ?? source}, reason ${source === 2 ? (AbortReason[reason] ?? reason) : 'n/a'}`;
