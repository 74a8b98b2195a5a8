/**
 * The Upper Layer state machine as data (src/net/ul/state-machine.ts) against PS3.8 Section 9.2: the state
 * transition table (Table 9-10) entry by entry, the actions' next states (Table 9-9), and an Association that
 * refuses local primitives in states where the table has no entry for them (a programmer error: a throw).
 */
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Association } from '../../../src/net/association/association.js';
import { requestAssociation } from '../../../src/net/association/request.js';
import { type AssociationServer, startAssociationServer } from '../../../src/net/association/server.js';
import { VERIFICATION } from '../../../src/net/services/sop-classes.js';
import { storageAcceptPolicy } from '../../../src/net/services/scp.js';
import {
  ACTIONS,
  type Action,
  type Event,
  type State,
  TRANSITIONS,
  transition,
} from '../../../src/net/ul/state-machine.js';

const STATES = Array.from({ length: 13 }, (_, i) => `Sta${i + 1}` as State);
const EVENTS = Array.from({ length: 19 }, (_, i) => `Evt${i + 1}` as Event);

/**
 * PS3.8 Table 9-10, transcribed row by row from the standard (columns Sta1 … Sta13; '' = no entry).
 * Kept as a grid on purpose: it reads like the printed table, independently of how the module builds its rows.
 */
const TABLE_9_10: Record<Event, string[]> = {
  //       Sta1    Sta2    Sta3    Sta4    Sta5    Sta6    Sta7    Sta8    Sta9    Sta10    Sta11   Sta12   Sta13
  Evt1: ['AE-1', '', '', '', '', '', '', '', '', '', '', '', ''],
  Evt2: ['', '', '', 'AE-2', '', '', '', '', '', '', '', '', ''],
  Evt3: ['', 'AA-1', 'AA-8', '', 'AE-3', 'AA-8', 'AA-8', 'AA-8', 'AA-8', 'AA-8', 'AA-8', 'AA-8', 'AA-6'],
  Evt4: ['', 'AA-1', 'AA-8', '', 'AE-4', 'AA-8', 'AA-8', 'AA-8', 'AA-8', 'AA-8', 'AA-8', 'AA-8', 'AA-6'],
  Evt5: ['AE-5', '', '', '', '', '', '', '', '', '', '', '', ''],
  Evt6: ['', 'AE-6', 'AA-8', '', 'AA-8', 'AA-8', 'AA-8', 'AA-8', 'AA-8', 'AA-8', 'AA-8', 'AA-8', 'AA-7'],
  Evt7: ['', '', 'AE-7', '', '', '', '', '', '', '', '', '', ''],
  Evt8: ['', '', 'AE-8', '', '', '', '', '', '', '', '', '', ''],
  Evt9: ['', '', '', '', '', 'DT-1', '', 'AR-7', '', '', '', '', ''],
  Evt10: ['', 'AA-1', 'AA-8', '', 'AA-8', 'DT-2', 'AR-6', 'AA-8', 'AA-8', 'AA-8', 'AA-8', 'AA-8', 'AA-6'],
  Evt11: ['', '', '', '', '', 'AR-1', '', '', '', '', '', '', ''],
  Evt12: ['', 'AA-1', 'AA-8', '', 'AA-8', 'AR-2', 'AR-8', 'AA-8', 'AA-8', 'AA-8', 'AA-8', 'AA-8', 'AA-6'],
  Evt13: ['', 'AA-1', 'AA-8', '', 'AA-8', 'AA-8', 'AR-3', 'AA-8', 'AA-8', 'AR-10', 'AR-3', 'AA-8', 'AA-6'],
  Evt14: ['', '', '', '', '', '', '', 'AR-4', 'AR-9', '', '', 'AR-4', ''],
  Evt15: ['', '', 'AA-1', 'AA-2', 'AA-1', 'AA-1', 'AA-1', 'AA-1', 'AA-1', 'AA-1', 'AA-1', 'AA-1', ''],
  Evt16: ['', 'AA-2', 'AA-3', '', 'AA-3', 'AA-3', 'AA-3', 'AA-3', 'AA-3', 'AA-3', 'AA-3', 'AA-3', 'AA-2'],
  Evt17: ['', 'AA-5', 'AA-4', 'AA-4', 'AA-4', 'AA-4', 'AA-4', 'AA-4', 'AA-4', 'AA-4', 'AA-4', 'AA-4', 'AR-5'],
  Evt18: ['', 'AA-2', '', '', '', '', '', '', '', '', '', '', 'AA-2'],
  Evt19: ['', 'AA-1', 'AA-8', '', 'AA-8', 'AA-8', 'AA-8', 'AA-8', 'AA-8', 'AA-8', 'AA-8', 'AA-8', 'AA-7'],
};

/** PS3.8 Table 9-9: the state each action leads to ('depends' where the standard gives two). */
const TABLE_9_9_NEXT: Record<Action, State | 'depends'> = {
  'AE-1': 'Sta4',
  'AE-2': 'Sta5',
  'AE-3': 'Sta6',
  'AE-4': 'Sta1',
  'AE-5': 'Sta2',
  'AE-6': 'depends',
  'AE-7': 'Sta6',
  'AE-8': 'Sta13',
  'DT-1': 'Sta6',
  'DT-2': 'Sta6',
  'AR-1': 'Sta7',
  'AR-2': 'Sta8',
  'AR-3': 'Sta1',
  'AR-4': 'Sta13',
  'AR-5': 'Sta1',
  'AR-6': 'Sta7',
  'AR-7': 'Sta8',
  'AR-8': 'depends',
  'AR-9': 'Sta11',
  'AR-10': 'Sta12',
  'AA-1': 'Sta13',
  'AA-2': 'Sta1',
  'AA-3': 'Sta1',
  'AA-4': 'Sta1',
  'AA-5': 'Sta1',
  'AA-6': 'Sta13',
  'AA-7': 'Sta13',
  'AA-8': 'Sta13',
};

describe('state transition table (PS3.8 Table 9-10)', () => {
  it('has every event and state of the standard', () => {
    expect(Object.keys(TRANSITIONS).sort()).toEqual([...EVENTS].sort());
  });

  it.each(EVENTS)('%s: every state maps to the action of the standard, or to none', (event) => {
    const got = STATES.map((s) => transition(s, event) ?? '');
    expect(got).toEqual(TABLE_9_10[event]);
  });

  it('a sample read aloud: the requestor path, collisions, and aborts', () => {
    expect(transition('Sta4', 'Evt2')).toBe('AE-2'); // connected: send A-ASSOCIATE-RQ
    expect(transition('Sta5', 'Evt3')).toBe('AE-3'); // AC received: established
    expect(transition('Sta5', 'Evt4')).toBe('AE-4'); // RJ received: close
    expect(transition('Sta7', 'Evt12')).toBe('AR-8'); // release collision
    expect(transition('Sta10', 'Evt13')).toBe('AR-10');
    expect(transition('Sta13', 'Evt17')).toBe('AR-5'); // transport closed after release/abort
    expect(transition('Sta6', 'Evt19')).toBe('AA-8'); // garbage during data transfer
    expect(transition('Sta2', 'Evt19')).toBe('AA-1'); // garbage before the RQ
    expect(transition('Sta13', 'Evt6')).toBe('AA-7');
    expect(transition('Sta4', 'Evt15')).toBe('AA-2');
    expect(transition('Sta1', 'Evt17')).toBeUndefined();
    expect(transition('Sta6', 'Evt7')).toBeUndefined();
  });

  it('every action in the table is defined in ACTIONS, and every defined action is used', () => {
    const used = new Set<string>();
    for (const e of EVENTS) for (const a of Object.values(TRANSITIONS[e])) used.add(a!);
    for (const a of used) expect(ACTIONS).toHaveProperty([a]);
    expect([...used].sort()).toEqual(Object.keys(ACTIONS).sort());
  });

  it('each action leads to the state of Table 9-9', () => {
    for (const [a, next] of Object.entries(TABLE_9_9_NEXT))
      expect([a, ACTIONS[a as Action].next]).toEqual([a, next]);
    expect(Object.keys(ACTIONS).sort()).toEqual(Object.keys(TABLE_9_9_NEXT).sort());
  });
});

describe('an Association refuses local primitives in invalid states', () => {
  let server: AssociationServer;
  const accepted: Association[] = [];

  beforeAll(async () => {
    server = await startAssociationServer({
      aeTitle: 'SM_SCP',
      port: 0,
      host: '127.0.0.1',
      policy: storageAcceptPolicy(),
      timeouts: { artimMs: 2_000 },
      onAssociation: (a) => accepted.push(a),
    });
  });
  afterAll(() => server.close());

  const open = async () => {
    const r = await requestAssociation({
      host: '127.0.0.1',
      port: server.port,
      callingAeTitle: 'SM_SCU',
      calledAeTitle: 'SM_SCP',
      contexts: [{ abstractSyntax: VERIFICATION, transferSyntaxes: ['1.2.840.10008.1.2'] }],
    });
    if (!r.ok) throw new Error(r.error.message);
    return r.value;
  };

  /** Negotiation results that must not replace the real ones when a primitive is refused. */
  const OTHER_INFO = {
    callingAeTitle: 'X',
    calledAeTitle: 'Y',
    peerImplementationClassUid: '1.2',
    peerMaxPduLength: 1,
    contexts: [],
    roleSelections: [],
    extendedNegotiations: [],
    remoteAddress: '?',
    tls: false,
  };
  const AC = {
    calledAeTitle: 'A',
    callingAeTitle: 'B',
    presentationContexts: [],
    userInformation: {
      maxPduLength: 0,
      implementationClassUid: '1.2',
      roleSelections: [],
      extendedNegotiations: [],
      otherItems: [],
    },
  };

  it('an established requestor (Sta6) refuses to accept, reject or request again', async () => {
    const a = await open();
    expect(a.state).toBe('Sta6');
    const info = a.info;
    expect(() => a.accept(AC, OTHER_INFO)).toThrow(/Evt7 is not valid in Sta6/);
    expect(a.info).toBe(info);
    expect(a.context(1)?.accepted).toBe(true);
    expect(() => a.reject(1, 1, 1)).toThrow(/Evt8 is not valid in Sta6/);
    await expect(a.requestAssociation({ ...AC, presentationContexts: [] })).rejects.toThrow(
      /Evt2 is not valid in Sta6/,
    );
    // the refused primitives changed nothing: the association still works and releases cleanly
    expect(a.state).toBe('Sta6');
    expect(await a.release()).toBeUndefined();
    expect(a.state).toBe('Sta1');
  });

  it('after release (Sta1) sending is a typed local failure, abort and release are no-ops', async () => {
    const a = await open();
    await a.release();
    expect(a.state).toBe('Sta1');
    expect(await a.sendPData(1, true, Buffer.alloc(4), true)).toMatchObject({ kind: 'local' });
    expect(() => a.abort()).not.toThrow();
    expect(await a.release()).toBeUndefined();
    expect(a.state).toBe('Sta1');
  });

  it('an acceptor awaiting the A-ASSOCIATE-RQ (Sta2) refuses to accept or reject', async () => {
    const socket = net.connect({ host: '127.0.0.1', port: server.port });
    await new Promise((r) => socket.once('connect', r));
    try {
      await expect.poll(() => [...server.active].find((x) => x.state === 'Sta2')).toBeDefined();
      const a = [...server.active].find((x) => x.state === 'Sta2')!;
      expect(() => a.accept(AC, OTHER_INFO)).toThrow(/Evt7 is not valid in Sta2/);
      expect(a.info).toBeUndefined();
      expect(() => a.reject(1, 1, 1)).toThrow(/Evt8 is not valid in Sta2/);
      expect(a.state).toBe('Sta2');
    } finally {
      socket.destroy();
    }
  });

  it('an established acceptor (Sta6) refuses to accept or reject again', async () => {
    const r = await open();
    await expect.poll(() => accepted.length).toBeGreaterThan(0);
    const a = accepted.at(-1)!;
    expect(a.state).toBe('Sta6');
    const info = a.info;
    expect(() => a.accept(AC, OTHER_INFO)).toThrow(/Evt7 is not valid in Sta6/);
    expect(a.info).toBe(info);
    expect(() => a.reject(2, 3, 1)).toThrow(/Evt8 is not valid in Sta6/);
    expect(await r.release()).toBeUndefined();
  });
});
