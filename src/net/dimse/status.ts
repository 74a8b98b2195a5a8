/**
 * DIMSE status codes: meaning, category and the action pacshift takes (PS3.7 Annex C, PS3.4, and the
 * field notes in shared/docs/domain.md). Data, not scattered `if`s; `test/unit/net/status.test.ts` checks it.
 */

export type DimseService =
  | 'C-STORE'
  | 'C-FIND'
  | 'C-MOVE'
  | 'C-GET'
  | 'C-ECHO'
  | 'N-ACTION'
  | 'N-EVENT-REPORT'
  | 'STORAGE-COMMITMENT'
  | 'STOW-RS';

export type StatusCategory = 'success' | 'warning' | 'failure' | 'cancel' | 'pending';

export type StatusAction =
  /** Stored: mark stored-unverified, then verify. */
  | 'verify'
  /** Accepted with a warning: record comment and offending elements, verify content. */
  | 'accept-warning-verify'
  /** Out of resources: retry with back-off; count towards the per-target circuit breaker. */
  | 'retry-backoff'
  /** Data conflict or invalid data: quarantine with cause, never blind-retry. */
  | 'quarantine'
  /** Cannot understand: one retry in another transfer syntax if policy allows, then quarantine. */
  | 'retry-other-syntax-then-quarantine'
  /** Duplicate SOP instance: compare content; equal → done, different → conflict. */
  | 'compare-content'
  /** SOP class not supported by the target: quarantine and report a capability gap. */
  | 'quarantine-capability-gap'
  /** Configuration or protocol error: stop and say so. */
  | 'stop-configuration'
  /** Pending: progress; detect stalls. */
  | 'progress'
  /** Retrieve done (possibly with failures): reconcile per instance, retry missing at IMAGE level. */
  | 'reconcile'
  /** Retrieve out of resources: back off, retry smaller (series, then instance). */
  | 'backoff-retry-smaller'
  /** Move destination unknown: configuration error, stop the run. */
  | 'stop-run'
  /** Cancelled by the peer without our asking, or capped: the answer is incomplete: reconcile or split. */
  | 'incomplete-split'
  /** Storage commitment: re-send then commit again. */
  | 'resend-commit'
  /** Storage commitment: class/instance conflict. */
  | 'conflict'
  /** Later. */
  | 'later'
  | 'none';

export interface StatusEntry {
  /** A single code, or an inclusive range. */
  code: number | readonly [number, number];
  services: readonly DimseService[] | 'any';
  meaning: string;
  category: StatusCategory;
  action: StatusAction;
}

const STORE: readonly DimseService[] = ['C-STORE', 'STOW-RS'];
const RETRIEVE: readonly DimseService[] = ['C-MOVE', 'C-GET'];
const QR: readonly DimseService[] = ['C-FIND', 'C-MOVE', 'C-GET'];

/** Ordered: the first entry that matches the service and the code wins, so specific codes precede ranges. */
export const STATUS_TABLE: readonly StatusEntry[] = [
  // --- success / pending / cancel
  { code: 0x0000, services: STORE, meaning: 'stored', category: 'success', action: 'verify' },
  {
    code: 0x0000,
    services: RETRIEVE,
    meaning: 'sub-operations complete, no failures',
    category: 'success',
    action: 'reconcile',
  },
  { code: 0x0000, services: 'any', meaning: 'success', category: 'success', action: 'none' },
  {
    code: 0xff00,
    services: RETRIEVE,
    meaning: 'sub-operations continuing (pending counts)',
    category: 'pending',
    action: 'progress',
  },
  {
    code: 0xff00,
    services: ['C-FIND'],
    meaning: 'match, continuing',
    category: 'pending',
    action: 'progress',
  },
  {
    code: 0xff01,
    services: ['C-FIND'],
    meaning: 'match, optional keys not supported',
    category: 'pending',
    action: 'progress',
  },
  {
    code: 0xfe00,
    services: QR,
    meaning: 'cancelled (when not requested: incomplete answer, e.g. Orthanc cap)',
    category: 'cancel',
    action: 'incomplete-split',
  },
  // --- warnings
  {
    code: 0xb000,
    services: STORE,
    meaning: 'coercion of data elements',
    category: 'warning',
    action: 'accept-warning-verify',
  },
  {
    code: 0xb000,
    services: RETRIEVE,
    meaning: 'sub-operations complete, one or more failures or warnings',
    category: 'warning',
    action: 'reconcile',
  },
  {
    code: 0xb001,
    services: ['C-FIND'],
    meaning: 'matching terminated: response limit reached (incomplete)',
    category: 'warning',
    action: 'incomplete-split',
  },
  {
    code: 0xb006,
    services: STORE,
    meaning: 'elements discarded',
    category: 'warning',
    action: 'accept-warning-verify',
  },
  {
    code: 0xb007,
    services: STORE,
    meaning: 'data set does not match SOP class',
    category: 'warning',
    action: 'accept-warning-verify',
  },
  {
    code: 0x0001,
    services: 'any',
    meaning: 'warning (requested optional attributes not supported)',
    category: 'warning',
    action: 'accept-warning-verify',
  },
  {
    code: 0x0107,
    services: 'any',
    meaning: 'attribute list error',
    category: 'warning',
    action: 'accept-warning-verify',
  },
  {
    code: 0x0116,
    services: 'any',
    meaning: 'attribute value out of range',
    category: 'warning',
    action: 'accept-warning-verify',
  },
  // --- store failures
  {
    code: [0xa770, 0xa77b],
    services: STORE,
    meaning: 'data conflict (dcm4chee: rejected object, patient ID conflict, UID moved…)',
    category: 'failure',
    action: 'quarantine',
  },
  {
    code: [0xa700, 0xa7ff],
    services: STORE,
    meaning: 'refused: out of resources',
    category: 'failure',
    action: 'retry-backoff',
  },
  {
    code: [0xa900, 0xa9ff],
    services: STORE,
    meaning: 'data set does not match SOP class (or command UID ≠ data set UID)',
    category: 'failure',
    action: 'quarantine',
  },
  {
    code: 0xc122,
    services: STORE,
    meaning: 'transfer syntax not supported (STOW-RS)',
    category: 'failure',
    action: 'retry-other-syntax-then-quarantine',
  },
  {
    code: [0xc000, 0xcfff],
    services: STORE,
    meaning: 'cannot understand',
    category: 'failure',
    action: 'retry-other-syntax-then-quarantine',
  },
  {
    code: 0x0111,
    services: STORE,
    meaning: 'duplicate SOP instance',
    category: 'failure',
    action: 'compare-content',
  },
  {
    code: 0x0122,
    services: STORE,
    meaning: 'SOP class not supported',
    category: 'failure',
    action: 'quarantine-capability-gap',
  },
  {
    code: 0x0117,
    services: 'any',
    meaning: 'invalid SOP instance (UID violates the construction rules)',
    category: 'failure',
    action: 'quarantine',
  },
  {
    code: 0x0124,
    services: 'any',
    meaning: 'not authorised',
    category: 'failure',
    action: 'stop-configuration',
  },
  {
    code: 0x0210,
    services: 'any',
    meaning: 'duplicate invocation',
    category: 'failure',
    action: 'stop-configuration',
  },
  {
    code: 0x0211,
    services: 'any',
    meaning: 'unrecognized operation',
    category: 'failure',
    action: 'stop-configuration',
  },
  {
    code: 0x0212,
    services: 'any',
    meaning: 'mistyped argument',
    category: 'failure',
    action: 'stop-configuration',
  },
  // --- retrieve failures
  {
    code: 0xa701,
    services: RETRIEVE,
    meaning: 'out of resources: unable to calculate number of matches',
    category: 'failure',
    action: 'backoff-retry-smaller',
  },
  {
    code: 0xa702,
    services: RETRIEVE,
    meaning: 'out of resources: unable to perform sub-operations',
    category: 'failure',
    action: 'backoff-retry-smaller',
  },
  {
    code: 0xa801,
    services: ['C-MOVE'],
    meaning: 'move destination unknown',
    category: 'failure',
    action: 'stop-run',
  },
  {
    code: 0xa700,
    services: QR,
    meaning: 'out of resources',
    category: 'failure',
    action: 'backoff-retry-smaller',
  },
  {
    code: 0xa900,
    services: QR,
    meaning: 'identifier does not match SOP class',
    category: 'failure',
    action: 'stop-configuration',
  },
  {
    code: [0xc000, 0xcfff],
    services: QR,
    meaning: 'unable to process',
    category: 'failure',
    action: 'backoff-retry-smaller',
  },
  // --- storage commitment failure reasons (0008,1197)
  {
    code: 0x0110,
    services: ['STORAGE-COMMITMENT', 'N-ACTION', 'N-EVENT-REPORT'],
    meaning: 'processing failure',
    category: 'failure',
    action: 'resend-commit',
  },
  {
    code: 0x0112,
    services: ['STORAGE-COMMITMENT', 'N-ACTION', 'N-EVENT-REPORT'],
    meaning: 'no such object instance',
    category: 'failure',
    action: 'resend-commit',
  },
  {
    code: 0x0119,
    services: ['STORAGE-COMMITMENT', 'N-ACTION', 'N-EVENT-REPORT'],
    meaning: 'class-instance conflict',
    category: 'failure',
    action: 'conflict',
  },
  {
    code: 0x0213,
    services: ['STORAGE-COMMITMENT', 'N-ACTION', 'N-EVENT-REPORT'],
    meaning: 'resource limitation',
    category: 'failure',
    action: 'later',
  },
  {
    code: 0x0110,
    services: 'any',
    meaning: 'processing failure',
    category: 'failure',
    action: 'retry-backoff',
  },
  {
    code: 0x0112,
    services: 'any',
    meaning: 'no such SOP instance',
    category: 'failure',
    action: 'quarantine',
  },
  {
    code: 0x0118,
    services: 'any',
    meaning: 'no such SOP class',
    category: 'failure',
    action: 'quarantine-capability-gap',
  },
  // --- generic families (PS3.7 C.1-C.4)
  { code: [0xa000, 0xafff], services: 'any', meaning: 'failure', category: 'failure', action: 'quarantine' },
  {
    code: [0xb000, 0xbfff],
    services: 'any',
    meaning: 'warning',
    category: 'warning',
    action: 'accept-warning-verify',
  },
  { code: [0xc000, 0xcfff], services: 'any', meaning: 'failure', category: 'failure', action: 'quarantine' },
  {
    code: [0x0100, 0x02ff],
    services: 'any',
    meaning: 'failure',
    category: 'failure',
    action: 'stop-configuration',
  },
];

const matches = (e: StatusEntry, service: DimseService, code: number): boolean =>
  (e.services === 'any' || e.services.includes(service)) &&
  (typeof e.code === 'number' ? e.code === code : code >= e.code[0] && code <= e.code[1]);

/** The entry for a status of a service; unknown codes are failures to quarantine (never success). */
export function lookupStatus(service: DimseService, code: number): StatusEntry {
  return (
    STATUS_TABLE.find((e) => matches(e, service, code)) ?? {
      code,
      services: [service],
      meaning: `unknown status 0x${hex(code)}`,
      category: 'failure',
      action: 'quarantine',
    }
  );
}

export const hex = (code: number): string => code.toString(16).toUpperCase().padStart(4, '0');

export const isSuccess = (service: DimseService, code: number): boolean =>
  lookupStatus(service, code).category === 'success';
export const isPending = (service: DimseService, code: number): boolean =>
  lookupStatus(service, code).category === 'pending';
