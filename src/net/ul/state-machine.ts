/**
 * The DICOM Upper Layer state machine, PS3.8 Section 9.2, Tables 9-9 and 9-10, as data.
 * The association (`../association/association.ts`) performs the actions; this module says which.
 */

export type State =
  | 'Sta1' // idle
  | 'Sta2' // transport open, awaiting A-ASSOCIATE-RQ
  | 'Sta3' // awaiting local A-ASSOCIATE response primitive
  | 'Sta4' // awaiting transport connection to open
  | 'Sta5' // awaiting A-ASSOCIATE-AC or -RJ
  | 'Sta6' // association established, ready for data transfer
  | 'Sta7' // awaiting A-RELEASE-RP
  | 'Sta8' // awaiting local A-RELEASE response primitive
  | 'Sta9' // release collision requestor side: awaiting A-RELEASE response primitive
  | 'Sta10' // release collision acceptor side: awaiting A-RELEASE-RP
  | 'Sta11' // release collision requestor side: awaiting A-RELEASE-RP
  | 'Sta12' // release collision acceptor side: awaiting A-RELEASE response primitive
  | 'Sta13'; // awaiting transport close

export type Event =
  | 'Evt1' // A-ASSOCIATE request (local user)
  | 'Evt2' // transport connect confirmation
  | 'Evt3' // A-ASSOCIATE-AC PDU received
  | 'Evt4' // A-ASSOCIATE-RJ PDU received
  | 'Evt5' // transport connection indication
  | 'Evt6' // A-ASSOCIATE-RQ PDU received
  | 'Evt7' // A-ASSOCIATE response primitive (accept)
  | 'Evt8' // A-ASSOCIATE response primitive (reject)
  | 'Evt9' // P-DATA request primitive
  | 'Evt10' // P-DATA-TF PDU received
  | 'Evt11' // A-RELEASE request primitive
  | 'Evt12' // A-RELEASE-RQ PDU received
  | 'Evt13' // A-RELEASE-RP PDU received
  | 'Evt14' // A-RELEASE response primitive
  | 'Evt15' // A-ABORT request primitive
  | 'Evt16' // A-ABORT PDU received
  | 'Evt17' // transport connection closed
  | 'Evt18' // ARTIM timer expired
  | 'Evt19'; // unrecognized or invalid PDU received

export type Action =
  | 'AE-1'
  | 'AE-2'
  | 'AE-3'
  | 'AE-4'
  | 'AE-5'
  | 'AE-6'
  | 'AE-7'
  | 'AE-8'
  | 'DT-1'
  | 'DT-2'
  | 'AR-1'
  | 'AR-2'
  | 'AR-3'
  | 'AR-4'
  | 'AR-5'
  | 'AR-6'
  | 'AR-7'
  | 'AR-8'
  | 'AR-9'
  | 'AR-10'
  | 'AA-1'
  | 'AA-2'
  | 'AA-3'
  | 'AA-4'
  | 'AA-5'
  | 'AA-6'
  | 'AA-7'
  | 'AA-8';

/** Table 9-9 (abridged): what each action does and the state it leads to. */
export const ACTIONS: Record<Action, { does: string; next: State | 'depends' }> = {
  'AE-1': { does: 'issue TRANSPORT CONNECT request', next: 'Sta4' },
  'AE-2': { does: 'send A-ASSOCIATE-RQ', next: 'Sta5' },
  'AE-3': { does: 'issue A-ASSOCIATE confirmation (accept)', next: 'Sta6' },
  'AE-4': { does: 'issue A-ASSOCIATE confirmation (reject), close transport', next: 'Sta1' },
  'AE-5': { does: 'issue transport connection response, start ARTIM', next: 'Sta2' },
  'AE-6': {
    does: 'stop ARTIM; indicate A-ASSOCIATE if acceptable (Sta3), else send RJ and start ARTIM (Sta13)',
    next: 'depends',
  },
  'AE-7': { does: 'send A-ASSOCIATE-AC', next: 'Sta6' },
  'AE-8': { does: 'send A-ASSOCIATE-RJ, start ARTIM', next: 'Sta13' },
  'DT-1': { does: 'send P-DATA-TF', next: 'Sta6' },
  'DT-2': { does: 'issue P-DATA indication', next: 'Sta6' },
  'AR-1': { does: 'send A-RELEASE-RQ', next: 'Sta7' },
  'AR-2': { does: 'issue A-RELEASE indication', next: 'Sta8' },
  'AR-3': { does: 'issue A-RELEASE confirmation, close transport', next: 'Sta1' },
  'AR-4': { does: 'send A-RELEASE-RP, start ARTIM', next: 'Sta13' },
  'AR-5': { does: 'stop ARTIM', next: 'Sta1' },
  'AR-6': { does: 'issue P-DATA indication', next: 'Sta7' },
  'AR-7': { does: 'send P-DATA-TF', next: 'Sta8' },
  'AR-8': { does: 'issue A-RELEASE indication (collision): requestor Sta9, acceptor Sta10', next: 'depends' },
  'AR-9': { does: 'send A-RELEASE-RP', next: 'Sta11' },
  'AR-10': { does: 'issue A-RELEASE confirmation', next: 'Sta12' },
  'AA-1': { does: 'send A-ABORT, start (or restart) ARTIM', next: 'Sta13' },
  'AA-2': { does: 'stop ARTIM if running, close transport', next: 'Sta1' },
  'AA-3': { does: 'issue A-ABORT / A-P-ABORT indication, close transport', next: 'Sta1' },
  'AA-4': { does: 'issue A-P-ABORT indication', next: 'Sta1' },
  'AA-5': { does: 'stop ARTIM', next: 'Sta1' },
  'AA-6': { does: 'ignore PDU', next: 'Sta13' },
  'AA-7': { does: 'send A-ABORT', next: 'Sta13' },
  'AA-8': { does: 'send A-ABORT (service-provider), issue A-P-ABORT indication, start ARTIM', next: 'Sta13' },
};

const S = (...s: number[]): State[] => s.map((n) => `Sta${n}` as State);
const row = (entries: [State[], Action][]): Partial<Record<State, Action>> => {
  const r: Partial<Record<State, Action>> = {};
  for (const [states, action] of entries) for (const s of states) r[s] = action;
  return r;
};

/** Table 9-10: the state transition table. A missing entry is not a valid event in that state. */
export const TRANSITIONS: Record<Event, Partial<Record<State, Action>>> = {
  Evt1: row([[S(1), 'AE-1']]),
  Evt2: row([[S(4), 'AE-2']]),
  Evt3: row([
    [S(2), 'AA-1'],
    [S(3, 6, 7, 8, 9, 10, 11, 12), 'AA-8'],
    [S(5), 'AE-3'],
    [S(13), 'AA-6'],
  ]),
  Evt4: row([
    [S(2), 'AA-1'],
    [S(3, 6, 7, 8, 9, 10, 11, 12), 'AA-8'],
    [S(5), 'AE-4'],
    [S(13), 'AA-6'],
  ]),
  Evt5: row([[S(1), 'AE-5']]),
  Evt6: row([
    [S(2), 'AE-6'],
    [S(3, 5, 6, 7, 8, 9, 10, 11, 12), 'AA-8'],
    [S(13), 'AA-7'],
  ]),
  Evt7: row([[S(3), 'AE-7']]),
  Evt8: row([[S(3), 'AE-8']]),
  Evt9: row([
    [S(6), 'DT-1'],
    [S(8), 'AR-7'],
  ]),
  Evt10: row([
    [S(2), 'AA-1'],
    [S(3, 5, 8, 9, 10, 11, 12), 'AA-8'],
    [S(6), 'DT-2'],
    [S(7), 'AR-6'],
    [S(13), 'AA-6'],
  ]),
  Evt11: row([[S(6), 'AR-1']]),
  Evt12: row([
    [S(2), 'AA-1'],
    [S(3, 5, 8, 9, 10, 11, 12), 'AA-8'],
    [S(6), 'AR-2'],
    [S(7), 'AR-8'],
    [S(13), 'AA-6'],
  ]),
  Evt13: row([
    [S(2), 'AA-1'],
    [S(3, 5, 6, 8, 9, 12), 'AA-8'],
    [S(7, 11), 'AR-3'],
    [S(10), 'AR-10'],
    [S(13), 'AA-6'],
  ]),
  Evt14: row([
    [S(8, 12), 'AR-4'],
    [S(9), 'AR-9'],
  ]),
  Evt15: row([
    [S(3, 5, 6, 7, 8, 9, 10, 11, 12), 'AA-1'],
    [S(4), 'AA-2'],
  ]),
  Evt16: row([
    [S(2, 13), 'AA-2'],
    [S(3, 5, 6, 7, 8, 9, 10, 11, 12), 'AA-3'],
  ]),
  Evt17: row([
    [S(2), 'AA-5'],
    [S(3, 4, 5, 6, 7, 8, 9, 10, 11, 12), 'AA-4'],
    [S(13), 'AR-5'],
  ]),
  Evt18: row([[S(2, 13), 'AA-2']]),
  Evt19: row([
    [S(2), 'AA-1'],
    [S(3, 5, 6, 7, 8, 9, 10, 11, 12), 'AA-8'],
    [S(13), 'AA-7'],
  ]),
};

export function transition(state: State, event: Event): Action | undefined {
  return TRANSITIONS[event][state];
}
