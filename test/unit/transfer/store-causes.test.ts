import { describe, expect, it } from 'vitest';
import type { NetFailure } from '../../../src/net/errors.js';
import { storeInstances, type StoreOutcome } from '../../../src/net/services/store-scu.js';
import { CODE_ACTIONS, CODE_MEANINGS } from '../../../src/report/actions.js';
import { NO_STATUS, decideStoreOutcome } from '../../../src/transfer/store-outcome.js';
import { freePort } from '../../harness/ports.js';
import { startScriptedPeer } from '../../harness/scripted-peer.js';

// A C-STORE that got no DICOM status: the cause names what happened (a refused connection is not "the target
// did not answer"); a failure that will repeat is quarantined at once.

const inst = {
  path: '/x.dcm',
  sopClassUid: '1.2.840.10008.5.1.4.1.1.7',
  sopInstanceUid: '1.2.3',
  transferSyntaxUid: '1.2.840.10008.1.2.1',
  datasetOffset: 0,
  datasetLength: 10,
};
const failed = (failure: NetFailure, more: Partial<StoreOutcome> = {}): StoreOutcome =>
  ({ ok: false, instance: inst, failure, ...more }) as StoreOutcome;
const aborted: NetFailure = {
  kind: 'aborted',
  source: 2,
  reason: 0,
  message: 'association aborted by the peer',
};

describe('store outcomes without a status', () => {
  it('every network failure kind has a category, a code the report explains, and an effect', () => {
    for (const [kind, rule] of Object.entries(NO_STATUS)) {
      expect(CODE_MEANINGS[rule.code], `${kind} → ${rule.code}`).toBeDefined();
      expect(CODE_ACTIONS[rule.code], `${kind} → ${rule.code}`).toBeDefined();
    }
    expect(CODE_MEANINGS.ABORTED_BY_OBJECT).toBeDefined();
    expect(CODE_ACTIONS.ABORTED_BY_OBJECT).toBeDefined();
  });

  it('a refused connection (a real closed port) is CONNECT_FAILED, "connection refused", retried', async () => {
    const port = await freePort();
    const [o] = await storeInstances(
      { host: '127.0.0.1', port, aeTitle: 'NOBODY', callingAeTitle: 'PACSHIFT' },
      [inst],
    );
    const d = decideStoreOutcome(o!);
    expect(d.effect).toBe('retry');
    expect(d.code).toBe('CONNECT_FAILED');
    expect(d.record.category).toBe('connect-failed');
    expect(d.record.cause).toMatch(/^connection refused/);
    expect(d.record.cause).not.toMatch(/did not answer/);
  });

  it.each([
    [2, 3, 2, 'retry', 'ASSOC_REJECTED_TRANSIENT', /rejected the association for now.*local-limit-exceeded/],
    [2, 3, 1, 'retry', 'ASSOC_REJECTED_TRANSIENT', /temporary-congestion/],
    [1, 1, 3, 'stop', 'ASSOC_REJECTED', /calling-AE-title-not-recognized/],
  ] as const)(
    'a real A-ASSOCIATE-RJ result %i source %i reason %i: %s as %s',
    async (result, source, reason, effect, code, cause) => {
      // A busy target (a transient rejection: its association limit, congestion) is waited for like an
      // outage; a permanent one (AE titles, protocol) is configuration and stops the run.
      const peer = await startScriptedPeer([
        { do: 'expect', pdu: 'associate-rq' },
        { do: 'reject', result, source, reason },
        { do: 'silent' },
      ]);
      try {
        const [o] = await storeInstances(
          { host: peer.host, port: peer.port, aeTitle: 'SCRIPTED', callingAeTitle: 'PACSHIFT' },
          [inst],
        );
        const d = decideStoreOutcome(o!);
        expect([d.effect, d.code]).toEqual([effect, code]);
        expect(d.record.cause).toMatch(cause);
      } finally {
        await peer.stop();
      }
    },
  );

  it('an abort is ABORTED (retried); an abort again on a new association quarantines, naming the abort', () => {
    const once = decideStoreOutcome(
      failed({ kind: 'no-response', message: 'association ended before the response', cause: aborted }),
    );
    expect([once.effect, once.code, once.record.category]).toEqual(['retry', 'ABORTED', 'aborted']);
    const twice = decideStoreOutcome(
      failed({ kind: 'no-response', message: 'association ended before the response', cause: aborted }, {
        abortedAgain: true,
      } as Partial<StoreOutcome>),
      '/q/1.dcm',
    );
    expect(twice.effect).toBe('quarantine');
    expect(twice.code).toBe('ABORTED_BY_OBJECT');
    expect(twice.record).toMatchObject({
      outcome: 'quarantined',
      category: 'aborted-by-target',
      path: '/q/1.dcm',
    });
    expect(twice.record.cause).toMatch(
      /aborted the association on this instance, again on a new association/,
    );
  });

  it('only a DIMSE timeout (no response, no abort) is NO_ANSWER', () => {
    const d = decideStoreOutcome(failed({ kind: 'timeout', phase: 'dimse', message: 'no response in 5 s' }));
    expect(d.code).toBe('TIMEOUT');
    const n = decideStoreOutcome(
      failed({ kind: 'no-response', message: 'association ended before the response' }),
    );
    expect(n.code).toBe('NO_ANSWER');
  });
});
