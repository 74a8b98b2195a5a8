/** The plan's source as a Source. */
import type { Peer } from '../../net/peer.js';
import type { Plan } from '../../plan/index.js';
import type { Store } from '../../state/index.js';
import { dimseSource } from './dimse.js';
import { folderSource, type FolderLocator, type FolderRecord } from './folder.js';
import type { Source } from './source.js';

export type { Source, SourceKind } from './source.js';
export { dimseSource } from './dimse.js';
export {
  folderSource,
  type FolderLocator,
  type FolderRecord,
  type FolderRetrieveCode,
  type FolderRetrieveFailure,
  type FolderRetrieveReport,
} from './folder.js';

/** Where the folder inventory (src/inventory/folder.ts) recorded each instance's file: attrs.path. */
export function inventoryLocator(store: Store): FolderLocator {
  return async (studyUid) => {
    const m = new Map<string, FolderRecord>();
    for (const i of await store.listInstances(studyUid, 'all')) {
      const p = i.attrs?.path;
      if (typeof p === 'string') m.set(i.sopInstanceUid, { path: p, sizeBytes: i.sizeBytes ?? null });
    }
    return m;
  };
}

/** The plan's source. `peer`: the DIMSE peer built from the plan (src/run/context.ts), for a dimse source. */
export function openSource(plan: Plan, peer: Peer | undefined, store: Store): Source {
  const s = plan.source;
  if (s.type === 'folder') return folderSource(s.path, inventoryLocator(store));
  if (!peer) throw new Error('openSource: the plan has a DICOM source but no peer was built for it');
  return dimseSource(peer, s, s.moveDestination ?? plan.local.aeTitle);
}
