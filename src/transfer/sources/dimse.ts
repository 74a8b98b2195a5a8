/** A DICOM archive as a source: C-MOVE (to our listener) or C-GET, as src/transfer/retrieve.ts does it. */
import { hex } from '../../net/dimse/status.js';
import { describeFailure } from '../../net/errors.js';
import { describePeer, type Peer } from '../../net/peer.js';
import type { DimseSourcePlan } from '../../plan/index.js';
import { type RetrieveReport, retrieveStudy } from '../retrieve.js';
import type { Source, SourceRetrieveReport } from './source.js';

/**
 * Why each missing instance was not delivered, from what the source answered (UIDs and statuses only):
 * a network failure, a status that stopped the run, the instance named in a Failed SOP Instance UID List
 * (0008,0058), or else the last final status with its sub-operation counts.
 */
export function dimseCauses(rep: RetrieveReport, service: string): Map<string, string> {
  const causes = new Map<string, string>();
  const last = rep.outcomes.at(-1);
  const general = rep.failure
    ? `${service} failed: ${describeFailure(rep.failure)}`
    : rep.stop
      ? `the source stopped the retrieve: ${rep.stop}`
      : last
        ? `not sent by the source: the last of ${rep.outcomes.length} ${service} request(s) answered 0x${hex(last.status)} ${last.entry.meaning} (completed ${last.counts.completed ?? '?'}, failed ${last.counts.failed ?? '?'}, warning ${last.counts.warning ?? '?'})`
        : `no ${service} request was answered`;
  for (const u of rep.missing) {
    const ours = rep.refusedByListener?.get(u);
    if (ours) {
      causes.set(u, ours.cause);
      continue;
    }
    const named = rep.outcomes.filter((o) => o.failedSopInstanceUids.includes(u)).at(-1);
    causes.set(
      u,
      named
        ? `the source reported its sub-operation failed (${service} 0x${hex(named.status)} ${named.entry.meaning}, Failed SOP Instance UID List)`
        : general,
    );
  }
  return causes;
}

export function dimseSource(peer: Peer, plan: DimseSourcePlan, moveDestination: string): Source {
  return {
    kind: 'dimse',
    name: describePeer(peer),
    retrieveStudy: async (spool, req): Promise<SourceRetrieveReport> => {
      const rep = await retrieveStudy(peer, plan, spool, req, moveDestination);
      // Refused by our own listener: asking again meets the same refusal (src/transfer/listener-book.ts).
      const ours = [...(rep.refusedByListener ?? [])];
      return {
        ...rep,
        causes: dimseCauses(rep, plan.retrieve.toUpperCase()),
        final: new Map(ours.map(([u]) => [u, 'refused-by-listener'])),
        finalStatus: new Map(ours.map(([u, r]) => [u, r.status])),
      };
    },
    close: async () => undefined,
  };
}
