/**
 * What a C-STORE outcome means for the migration: the status table's action (src/net/dimse/status.ts)
 * turned into a record for the state database and a decision for the job. Data, tested.
 */
import { hex } from '../net/dimse/status.js';
import type { NetFailure, NetFailureKind } from '../net/errors.js';
import type { StoreOutcome } from '../net/services/store-scu.js';
import type { StoredInput } from '../state/index.js';

export type JobEffect =
  /** Nothing to do: the instance is stored (verify will check it). */
  | 'none'
  /** The instance failed in a way that may pass later: the job fails retryably (back-off) and the breaker counts it. */
  | 'retry'
  /** The instance is refused for good: quarantined with cause; the job goes on. */
  | 'quarantine'
  /** Configuration or protocol error: stop the run and say so. */
  | 'stop';

export interface OutcomeDecision {
  record: StoredInput;
  effect: JobEffect;
  /** For a failure without a DICOM status: the code the job records while it waits (NO_STATUS). */
  code?: string;
}

export function decideStoreOutcome(o: StoreOutcome, quarantinePath?: string): OutcomeDecision {
  const uid = o.instance.sopInstanceUid;
  const size = o.instance.datasetLength;
  if (o.ok) {
    const warning = o.status !== 0;
    // Sent not quite byte for byte (an odd-length Pixel Data padded, src/net/services/odd-length.ts): said so.
    const causes = [
      ...(warning ? [`${o.entry.meaning}${o.errorComment ? `: ${o.errorComment}` : ''}`] : []),
      ...(o.adjusted ? [o.adjusted] : []),
    ];
    return {
      record: {
        sopInstanceUid: uid,
        status: o.status,
        outcome: 'stored',
        category: warning || o.adjusted ? 'warning' : null,
        cause: causes.length > 0 ? causes.join('; ') : null,
        sizeBytes: size,
      },
      effect: 'none',
    };
  }
  if (o.status !== undefined && o.entry) {
    const cause = `0x${hex(o.status)} ${o.entry.meaning}${o.errorComment ? `: ${o.errorComment}` : ''}`;
    switch (o.entry.action) {
      case 'compare-content':
        // Duplicate SOP instance: the target has one; verification compares content.
        return {
          record: {
            sopInstanceUid: uid,
            status: o.status,
            outcome: 'stored',
            category: 'duplicate',
            cause,
            sizeBytes: size,
          },
          effect: 'none',
        };
      case 'retry-backoff':
        return {
          record: {
            sopInstanceUid: uid,
            status: o.status,
            outcome: 'failed',
            category: 'out-of-resources',
            cause,
          },
          effect: 'retry',
        };
      case 'stop-configuration':
      case 'stop-run':
        return {
          record: {
            sopInstanceUid: uid,
            status: o.status,
            outcome: 'failed',
            category: 'configuration',
            cause,
          },
          effect: 'stop',
        };
      case 'quarantine-capability-gap':
        return {
          record: {
            sopInstanceUid: uid,
            status: o.status,
            outcome: 'quarantined',
            category: 'sop-class-not-supported',
            cause,
            path: quarantinePath,
          },
          effect: 'quarantine',
        };
      case 'retry-other-syntax-then-quarantine':
        // No transcoder yet: the other-syntax retry is not available, so quarantine with the cause.
        return {
          record: {
            sopInstanceUid: uid,
            status: o.status,
            outcome: 'quarantined',
            category: 'cannot-understand',
            cause,
            path: quarantinePath,
          },
          effect: 'quarantine',
        };
      default:
        return {
          record: {
            sopInstanceUid: uid,
            status: o.status,
            outcome: 'quarantined',
            category: o.status >= 0xa770 && o.status <= 0xa77b ? 'data-conflict' : 'refused',
            cause,
            path: quarantinePath,
          },
          effect: 'quarantine',
        };
    }
  }
  return decideFailure(o, o.failure!, quarantinePath);
}

/** Words for the errno codes a connection attempt ends with (src/net/transport/connect.ts). */
const CONNECT_WORDS: Readonly<Record<string, string>> = {
  ECONNREFUSED: 'connection refused (nothing listens on that port)',
  ECONNRESET: 'connection reset by the peer',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  ENOTFOUND: 'host name not found',
  EAI_AGAIN: 'host name lookup failed (temporary)',
  ETIMEDOUT: 'connection attempt timed out',
  ECLOSED: 'the peer closed the connection at once',
};

/** What a C-STORE without a status means, by the network failure (src/net/errors.ts): protocol facts, tested. */
interface NoStatusRule {
  /** Ledger category, and the job's code while it waits to retry (src/report/actions.ts explains each). */
  category: string;
  code: string;
  effect: JobEffect;
}
export const NO_STATUS: Readonly<Record<NetFailureKind, NoStatusRule>> = {
  'connect-failed': { category: 'connect-failed', code: 'CONNECT_FAILED', effect: 'retry' },
  timeout: { category: 'timeout', code: 'TIMEOUT', effect: 'retry' },
  rejected: { category: 'configuration', code: 'ASSOC_REJECTED', effect: 'stop' },
  tls: { category: 'configuration', code: 'TLS', effect: 'stop' },
  aborted: { category: 'aborted', code: 'ABORTED', effect: 'retry' },
  'protocol-error': { category: 'protocol-error', code: 'PROTOCOL_ERROR', effect: 'retry' },
  closed: { category: 'closed', code: 'CLOSED', effect: 'retry' },
  'no-presentation-context': {
    category: 'no-presentation-context',
    code: 'NO_PRESENTATION_CONTEXT',
    effect: 'quarantine',
  },
  'no-response': { category: 'no-answer', code: 'NO_ANSWER', effect: 'retry' },
  local: { category: 'local', code: 'LOCAL', effect: 'retry' },
  unsendable: { category: 'unsendable', code: 'UNSENDABLE', effect: 'quarantine' },
};

/**
 * A-ASSOCIATE-RJ result 2 (rejected-transient: congestion, the peer's association limit) says "not now":
 * the target is busy and, like an outage, is waited for; a permanent rejection (result 1) is configuration.
 */
export const REJECTED_TRANSIENT: NoStatusRule = {
  category: 'rejected-transient',
  code: 'ASSOC_REJECTED_TRANSIENT',
  effect: 'retry',
};

/** The failure that says what happened: a "no response" because the peer aborted is an abort. */
const underlying = (f: NetFailure): NetFailure =>
  f.kind === 'no-response' && f.cause && (f.cause.kind === 'aborted' || f.cause.kind === 'closed')
    ? f.cause
    : f;

export const describeNetFailure = (f: NetFailure): string => {
  if (f.kind === 'connect-failed') return `${CONNECT_WORDS[f.code] ?? f.code}: ${f.message}`;
  if (f.kind === 'no-response' && f.cause) return `${f.message}`;
  if (f.kind === 'rejected' && f.result === 2)
    return `the target rejected the association for now (${f.message}); retried after a back-off`;
  return `${f.kind}: ${f.message}`;
};

function decideFailure(
  o: StoreOutcome & { ok: false },
  f: NetFailure,
  quarantinePath?: string,
): OutcomeDecision {
  const uid = o.instance.sopInstanceUid;
  const what = underlying(f);
  const rule = what.kind === 'rejected' && what.result === 2 ? REJECTED_TRANSIENT : NO_STATUS[what.kind];
  // An instance the peer aborted on twice, on two associations, while the peer still accepts associations: the
  // object causes it, and it will again (src/net/services/store-scu.ts retries an aborted instance once).
  if (o.abortedAgain && (what.kind === 'aborted' || what.kind === 'closed')) {
    return {
      record: {
        sopInstanceUid: uid,
        status: 0xffff,
        outcome: 'quarantined',
        category: 'aborted-by-target',
        cause: `the target ${what.kind === 'aborted' ? 'aborted the association' : 'closed the connection'} on this instance, again on a new association (${describeNetFailure(f)}): it refuses this object; quarantined`,
        path: quarantinePath,
      },
      effect: 'quarantine',
      code: 'ABORTED_BY_OBJECT',
    };
  }
  const quarantined = rule.effect === 'quarantine';
  return {
    record: {
      sopInstanceUid: uid,
      // No presentation context: PS3.7's "SOP class not supported" is what it amounts to.
      status: what.kind === 'no-presentation-context' ? 0x0122 : 0xffff,
      outcome: quarantined ? 'quarantined' : 'failed',
      category: rule.category,
      cause: what.kind === 'no-presentation-context' ? f.message : describeNetFailure(f),
      ...(quarantined ? { path: quarantinePath } : {}),
    },
    effect: rule.effect,
    code: rule.code,
  };
}
