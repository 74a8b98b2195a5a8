/**
 * Our Storage SCP during a migration: the C-MOVE destination (and commitment report receiver).
 * Who may send: the AE titles of local.allow, each from its host (default: the source's and the target's
 * calledAe, from source.host and target.host; names are resolved to addresses at start). What may arrive: only
 * instances a running retrieve waits for (src/transfer/listener-book.ts: its SOP Instance UIDs, or the Move
 * Originator Message ID of one of its C-MOVE requests); anything else is refused (0124) and logged with its UID,
 * the calling AE and address. What is accepted lands in the spool; the job that expects it finds it there.
 */
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import type { AllowedPeer, AssociationServer } from '../net/association/server.js';
import { startScp, storageAcceptPolicy } from '../net/services/scp.js';
import { type StoreResult, type StoreRequestInfo, type StoreTarget } from '../net/services/store-target.js';
import type { DatasetSink } from '../net/dimse/channel.js';
import { type ListenerBook, UNAUTHENTICATED_ARRIVAL, listenerBookOf } from './listener-book.js';
import type { Store } from '../state/index.js';
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

/** The plan's allow list with each host name resolved to its addresses (the listener compares addresses). */
async function resolvedAllow(plan: Plan, log: (msg: string) => void): Promise<AllowedPeer[]> {
  const out: AllowedPeer[] = [];
  for (const a of plan.local.allow ?? []) {
    if (!a.host) {
      out.push({ aeTitle: a.aeTitle });
      continue;
    }
    let hosts = [a.host];
    if (isIP(a.host) === 0) {
      try {
        hosts = [a.host, ...(await lookup(a.host, { all: true })).map((x) => x.address)];
      } catch (e) {
        log(
          `local.allow: cannot resolve ${a.host} (${(e as NodeJS.ErrnoException).code ?? 'error'}): ${a.aeTitle} will be refused`,
        );
      }
    }
    out.push({ aeTitle: a.aeTitle, hosts });
  }
  return out;
}

export async function startReceiver(
  plan: Plan,
  spool: Spool,
  log: (msg: string) => void,
  /** Where copies accepted on their UID alone are recorded (UNAUTHENTICATED_ARRIVAL), for verification. */
  store?: Store,
): Promise<Receiver> {
  const allow = await resolvedAllow(plan, log);
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
    allow,
    policy: storageAcceptPolicy(),
    handlers: {
      // Registered in the spool before it is answered; refused when the spool is full or the arrival
      // unreadable (spool-target.ts), or when no running retrieve waits for it; refusals go into the book.
      store: admittingTarget(spool.storeTarget(), listenerBookOf(spool), log, store),
      onStored: (r) => {
        if (r.ok) rx.received++;
        else {
          rx.refused++;
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

/** Takes the data set and drops it; ends with the refusal. */
const refusing = (refusal: { status: number; comment: string }): DatasetSink<StoreResult> => ({
  write: () => undefined,
  abort: () => undefined,
  end: () => Promise.resolve({ ok: false, ...refusal }),
});

/**
 * A store target that admits only what a running retrieve waits for, and records every refusal (with the
 * instance's UID and the status we answered) in the book and the log.
 */
function admittingTarget(
  inner: StoreTarget,
  book: ListenerBook,
  log: (msg: string) => void,
  store: Store | undefined,
): StoreTarget {
  return {
    open(req: StoreRequestInfo): DatasetSink<StoreResult> {
      const a = book.admission(req);
      const sink = 'refusal' in a ? refusing(a.refusal) : inner.open(req);
      const byUidAlone = !('refusal' in a) && !a.byMessageId;
      return {
        write: (chunk) => sink.write(chunk),
        abort: () => sink.abort(),
        end: async () => {
          const r = await sink.end();
          if (r.ok && byUidAlone && store)
            await store
              .appendEvents([
                {
                  sopInstanceUid: req.sopInstanceUid,
                  kind: UNAUTHENTICATED_ARRIVAL,
                  detail: { callingAe: req.callingAeTitle.trim(), remote: req.remoteAddress ?? null },
                },
              ])
              .catch((e: unknown) => log(`cannot record an arrival: ${(e as Error).message}`));
          if (!r.ok) {
            book.refused({
              sopInstanceUid: req.sopInstanceUid,
              status: r.status,
              comment: r.comment,
              callingAeTitle: req.callingAeTitle,
              at: Date.now(),
            });
            log(
              `receiver refused instance ${req.sopInstanceUid} from ${req.callingAeTitle.trim()} at ${req.remoteAddress ?? '?'}: 0x${r.status.toString(16).padStart(4, '0').toUpperCase()} ${r.comment}`,
            );
          }
          return r;
        },
      };
    },
  };
}
