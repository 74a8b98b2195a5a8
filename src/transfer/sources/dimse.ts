/** A DICOM archive as a source: C-MOVE (to our listener) or C-GET, as src/transfer/retrieve.ts does it. */
import { describePeer, type Peer } from '../../net/peer.js';
import type { DimseSourcePlan } from '../../plan/index.js';
import { retrieveStudy } from '../retrieve.js';
import type { Source } from './source.js';

export function dimseSource(peer: Peer, plan: DimseSourcePlan, moveDestination: string): Source {
  return {
    kind: 'dimse',
    name: describePeer(peer),
    retrieveStudy: (spool, req) => retrieveStudy(peer, plan, spool, req, moveDestination),
    close: async () => undefined,
  };
}
