/**
 * STOW-RS (PS3.18 10.5) answers mapped onto the C-STORE status table. Data, tested
 * (test/unit/transfer/targets-stow.test.ts).
 *
 * Per instance, the response's DICOM JSON says it all: Referenced SOP Sequence (0008,1199) items are
 * stored (Warning Reason (0008,1196) B000/B006/B007 when coerced), Failed SOP Sequence (0008,1198) items
 * carry a Failure Reason (0008,1197) that is a C-STORE status (A700, A900, C000, C122, 0110, 0122, 0124…)
 * and is looked up in src/net/dimse/status.ts as service STOW-RS. An instance the response does not name
 * falls back on the HTTP status below.
 */

export interface HttpStatusEntry {
  /** One HTTP status, or an inclusive range. */
  readonly http: number | readonly [number, number];
  /** The C-STORE status an instance gets when the response does not name it; undefined: no answer (retry). */
  readonly status: number | undefined;
  /**
   * Send each instance of the batch alone before deciding: the status says something is wrong with some
   * object of the request but not which (400, 409, 413 without per-instance details).
   */
  readonly splitBatch: boolean;
  readonly meaning: string;
}

/** Ordered: the first match wins. */
export const STOW_HTTP_STATUS: readonly HttpStatusEntry[] = [
  {
    http: [200, 299],
    status: undefined,
    splitBatch: false,
    meaning: 'accepted, but this instance is not in the response (outcome unknown)',
  },
  {
    http: 400,
    status: 0xc000,
    splitBatch: true,
    meaning: 'bad request: the target cannot understand the object',
  },
  { http: 401, status: 0x0124, splitBatch: false, meaning: 'unauthorized: credentials missing or wrong' },
  { http: 403, status: 0x0124, splitBatch: false, meaning: 'forbidden: not authorised to store' },
  {
    http: 404,
    status: 0x0211,
    splitBatch: false,
    meaning: 'not found: wrong DICOMweb URL (no STOW-RS service there)',
  },
  {
    http: 405,
    status: 0x0211,
    splitBatch: false,
    meaning: 'method not allowed: the URL does not take STOW-RS',
  },
  {
    http: 406,
    status: 0x0211,
    splitBatch: false,
    meaning: 'not acceptable: the target cannot answer in application/dicom+json',
  },
  { http: 408, status: 0xa700, splitBatch: false, meaning: 'request timeout at the target' },
  {
    http: 409,
    status: 0xa770,
    splitBatch: true,
    meaning: 'conflict: the target refused the object(s) because of its current state',
  },
  { http: 413, status: 0xc000, splitBatch: true, meaning: 'payload too large for the target' },
  {
    http: 415,
    status: 0x0211,
    splitBatch: false,
    meaning: 'unsupported media type: the target does not take multipart/related application/dicom',
  },
  {
    http: 429,
    status: 0xa700,
    splitBatch: false,
    meaning: 'too many requests: the target asks us to slow down',
  },
  { http: 501, status: 0x0211, splitBatch: false, meaning: 'not implemented: the target has no STOW-RS' },
  {
    http: [500, 599],
    status: 0xa700,
    splitBatch: false,
    meaning: 'server error or unavailable: retried after back-off',
  },
  { http: [400, 499], status: 0xc000, splitBatch: true, meaning: 'refused by the target (client error)' },
  {
    http: [100, 399],
    status: undefined,
    splitBatch: false,
    meaning: 'unexpected HTTP status (outcome unknown)',
  },
];

export function lookupHttpStatus(http: number): HttpStatusEntry {
  return (
    STOW_HTTP_STATUS.find((e) =>
      typeof e.http === 'number' ? e.http === http : http >= e.http[0] && http <= e.http[1],
    ) ?? {
      http,
      status: undefined,
      splitBatch: false,
      meaning: 'unexpected HTTP status (outcome unknown)',
    }
  );
}
