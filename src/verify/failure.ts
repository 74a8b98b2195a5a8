/** Peer failures and refusals met while verifying, as VerifyFailure values (code, retryable). */
import type { NetFailure } from '../net/errors.js';
import { hex, lookupStatus, type DimseService, type StatusAction } from '../net/dimse/status.js';
import type { VerifyFailure } from './types.js';

/** Our code for each network failure, and whether trying again later can help. */
const NET_FAILURES: Record<NetFailure['kind'], { code: string; retryable: boolean }> = {
  'connect-failed': { code: 'CONNECT_FAILED', retryable: true },
  tls: { code: 'TLS', retryable: false },
  timeout: { code: 'TIMEOUT', retryable: true },
  rejected: { code: 'ASSOC_REJECTED', retryable: true },
  aborted: { code: 'ABORTED', retryable: true },
  'protocol-error': { code: 'PROTOCOL_ERROR', retryable: false },
  closed: { code: 'CLOSED', retryable: true },
  'no-presentation-context': { code: 'NO_PRESENTATION_CONTEXT', retryable: false },
  'no-response': { code: 'NO_RESPONSE', retryable: true },
  local: { code: 'LOCAL', retryable: false },
  unsendable: { code: 'UNSENDABLE', retryable: false },
};

export function fromNetFailure(f: NetFailure, what: string): VerifyFailure {
  const m = NET_FAILURES[f.kind];
  // A-ASSOCIATE-RJ result 1 is permanent (e.g. called AE title not recognised): a configuration problem.
  const retryable = f.kind === 'rejected' ? f.result === 2 : m.retryable;
  return { code: m.code, message: `${what}: ${f.kind}: ${f.message}`, retryable, cause: f };
}

const RETRYABLE_ACTIONS: ReadonlySet<StatusAction> = new Set([
  'retry-backoff',
  'backoff-retry-smaller',
  'later',
  'incomplete-split',
]);

export function fromStatus(
  service: DimseService,
  status: number,
  what: string,
  comment?: string,
): VerifyFailure {
  const e = lookupStatus(service, status);
  return {
    code: status,
    message: `${what}: ${service} status 0x${hex(status)} (${e.meaning})${comment ? `: ${comment.slice(0, 200)}` : ''}`,
    retryable: RETRYABLE_ACTIONS.has(e.action),
  };
}

export const incomplete = (message: string): VerifyFailure => ({
  code: 'QUERY_INCOMPLETE',
  message,
  retryable: true,
});
