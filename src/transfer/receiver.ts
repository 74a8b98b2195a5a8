/**
 * Our Storage SCP during a migration: the C-MOVE destination (and commitment report receiver).
 * Every instance lands in the spool, whoever sent it; the job that expects it finds it there.
 */
import type { AssociationServer } from '../net/association/server.js';
import { startScp, storageAcceptPolicy } from '../net/services/scp.js';
import { type StoreResult, type StoreRequestInfo, type StoreTarget } from '../net/services/store-target.js';
import type { DatasetSink } from '../net/dimse/channel.js';
import { type ListenerBook, listenerBookOf } from './listener-book.js';
import type { Plan } from '../plan/index.js';
import type { Spool } from './spool.js';
import { parseCommitmentReport, type CommitmentReport } from '../net/services/commitment-scu.js';

export interface Receiver {
  server: AssociationServer;
  received: number;
  refused: number;
  reports: CommitmentReport[];
  close(): Promise<void>;
}

export async function startReceiver(plan: Plan, spool: Spool, log: (msg: string) => void): Promise<Receiver> {
  const allow = plan.local.allow ?? [];
  const rx: Receiver = {
    server: undefined as unknown as AssociationServer,
    received: 0,
    refused: 0,
    reports: [],
    close: async () => rx.server.close(),
  };
  rx.server = await startScp({
    aeTitle: plan.local.aeTitle,
    port: plan.local.port,
    host: plan.local.host,
    allow: allow.map((a) => ({ aeTitle: a.aeTitle, hosts: a.host ? [a.host] : undefined })),
    policy: storageAcceptPolicy(),
    handlers: {
      // Registered in the spool before it is answered; refused when the spool is full or the arrival
      // unreadable (spool-target.ts); refusals go into the listener's book.
      store: recordingTarget(spool.storeTarget(), listenerBookOf(spool)),
      onStored: (r) => {
        if (r.ok) rx.received++;
        else {
          rx.refused++;
          log(`receiver refused an instance: ${r.comment}`);
        }
      },
      onCommitmentReport: (eventTypeId, ds, ts) => {
        try {
          rx.reports.push(parseCommitmentReport(eventTypeId, ds, ts));
        } catch (e) {
          log(`unreadable storage commitment report: ${(e as Error).message}`);
        }
      },
    },
    onRefused: (why, remote) => log(`receiver refused an association from ${remote}: ${why}`),
  });
  return rx;
}

/** A store target whose refusals (with the instance's UID and the status we answered) go into the book. */
function recordingTarget(inner: StoreTarget, book: ListenerBook): StoreTarget {
  return {
    open(req: StoreRequestInfo): DatasetSink<StoreResult> {
      const sink = inner.open(req);
      return {
        write: (chunk) => sink.write(chunk),
        abort: () => sink.abort(),
        end: async () => {
          const r = await sink.end();
          if (!r.ok)
            book.refused({
              sopInstanceUid: req.sopInstanceUid,
              status: r.status,
              comment: r.comment,
              callingAeTitle: req.callingAeTitle,
              at: Date.now(),
            });
          return r;
        },
      };
    },
  };
}
