/** A DICOM archive as a target: C-STORE over our network layer (src/net/services/store-scu.ts). */
import { describePeer, type Peer } from '../../net/peer.js';
import { storeInstances } from '../../net/services/store-scu.js';
import type { Target } from './target.js';

export function dimseTarget(peer: Peer): Target {
  return {
    kind: 'dimse',
    name: describePeer(peer),
    store: (instances, opts) => storeInstances(peer, instances, { associations: opts.concurrency }),
    close: async () => undefined,
  };
}
