/**
 * What a C-STORE outcome means for the migration: the status table's action (src/net/dimse/status.ts)
 * turned into a record for the state database and a decision for the job. Data, tested.
 */
import { hex } from '../net/dimse/status.js';
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
  const f = o.failure!;
  if (f.kind === 'no-presentation-context') {
    // The target accepts neither this SOP class nor this transfer syntax: a capability gap, not a retry.
    return {
      record: {
        sopInstanceUid: uid,
        status: 0x0122,
        outcome: 'quarantined',
        category: 'no-presentation-context',
        cause: f.message,
        path: quarantinePath,
      },
      effect: 'quarantine',
    };
  }
  if (f.kind === 'unsendable') {
    // Decided by us before sending: it would be the same next time.
    return {
      record: {
        sopInstanceUid: uid,
        status: 0xffff,
        outcome: 'quarantined',
        category: 'unsendable',
        cause: `${f.kind}: ${f.message}`,
        path: quarantinePath,
      },
      effect: 'quarantine',
    };
  }
  if (f.kind === 'rejected' || f.kind === 'tls') {
    return {
      record: {
        sopInstanceUid: uid,
        status: 0xffff,
        outcome: 'failed',
        category: 'configuration',
        cause: `${f.kind}: ${f.message}`,
      },
      effect: 'stop',
    };
  }
  // No answer (abort, timeout, closed): outcome unknown — retry idempotently, then verify.
  return {
    record: {
      sopInstanceUid: uid,
      status: 0xffff,
      outcome: 'failed',
      category: 'no-answer',
      cause: `${f.kind}: ${f.message}`,
    },
    effect: 'retry',
  };
}
