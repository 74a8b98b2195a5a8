/**
 * Retrieve a study from the source into the spool and account for every instance (like dcm4che's
 * BasicRetrieveTask): what arrived is compared with the inventory per SOP Instance UID, never with
 * the counts of a final status. Missing instances are asked for again at IMAGE level.
 */
import { hex } from '../net/dimse/status.js';
import type { NetFailure } from '../net/errors.js';
import { type Peer, openChannel } from '../net/peer.js';
import { buildIdentifier } from '../net/services/identifier.js';
import { type RetrieveOutcome, cGet, cMove } from '../net/services/retrieve-scu.js';
import { QR, UNCOMPRESSED_LE } from '../net/services/sop-classes.js';
import { type StorageProposal, storageContextGroups } from '../net/services/storage-contexts.js';
import type { DimseSourcePlan } from '../plan/index.js';
import type { Spool, SpooledInstance } from './spool.js';
import { ALL_TRANSFER_SYNTAXES } from './syntaxes.js';
import { listenerBookOf } from './listener-book.js';

export interface RetrieveRequest {
  studyUid: string;
  /**
   * Instances the inventory lists and that have not arrived yet (SOP Instance UID → SOP class, and the
   * transfer syntax where the inventory knows it: C-GET then proposes that syntax alone for it).
   */
  expected: Map<string, { sopClassUid: string | null; seriesUid: string; transferSyntaxUid?: string | null }>;
  /** Quiet period: how long to wait for stragglers after the final response. */
  quietMs: number;
  /** IMAGE-level retries for what is still missing. */
  imageRetries: number;
  /**
   * Ask for the whole study first (default). False when part of it arrived before: only the missing
   * instances are asked for, at IMAGE level (a second study-level move would send every instance again).
   */
  wholeStudy?: boolean;
}

export interface RetrieveReport {
  arrived: SpooledInstance[];
  missing: string[];
  /** Arrived but not listed by the inventory (new since, or new UIDs on retrieve). */
  unlisted: SpooledInstance[];
  /** Final statuses of the C-MOVE/C-GET requests, in order. */
  outcomes: RetrieveOutcome[];
  /** A request failed at the network level (the last one). */
  failure?: NetFailure;
  /** The source said something that stops the run (A801 move destination unknown). */
  stop?: string;
  /** A status asking to back off (A701/A702, Cxxx): its words, and the status itself. */
  backoff?: string;
  backoffStatus?: number;
  /**
   * Missing because our own listener refused them (SOP Instance UID → its status and comment): the source's
   * status for them (Orthanc: A702) is not the cause, and asking again would meet the same refusal.
   */
  refusedByListener?: Map<string, { cause: string; status: number }>;
}

const qrModel = (p: DimseSourcePlan) => (p.queryModel === 'patient-root' ? 'patient' : 'study');

async function moveOnce(
  peer: Peer,
  plan: DimseSourcePlan,
  keys: Record<string, string>,
  level: 'STUDY' | 'SERIES' | 'IMAGE',
  destination: string,
  messageId: number,
): Promise<{ ok: true; value: RetrieveOutcome } | { ok: false; error: NetFailure }> {
  const model = qrModel(plan);
  const ch = await openChannel(peer, [{ abstractSyntax: QR[model].move, transferSyntaxes: UNCOMPRESSED_LE }]);
  if (!ch.ok) return ch;
  const r = await cMove(ch.value, buildIdentifier(level, keys), destination, {
    model,
    timeoutMs: peer.dimseTimeoutMs,
    messageId,
  });
  if (!ch.value.ended) await ch.value.assoc.release();
  return r;
}

async function getOnce(
  peer: Peer,
  plan: DimseSourcePlan,
  keys: Record<string, string>,
  level: 'STUDY' | 'SERIES' | 'IMAGE',
  storage: StorageProposal[],
  spool: Spool,
): Promise<{ ok: true; value: RetrieveOutcome } | { ok: false; error: NetFailure }> {
  // Registered in the spool before each sub-operation is answered (spool-target.ts).
  return cGet(peer, buildIdentifier(level, keys), storage, spool.storeTarget(), {
    model: qrModel(plan),
    timeoutMs: peer.dimseTimeoutMs,
  });
}

/** Wait until every expected UID is in the spool, or nothing new arrived for `quietMs`. */
async function settle(spool: Spool, expected: Set<string>, quietMs: number): Promise<void> {
  const missing = () => [...expected].filter((u) => spool.get(u).length === 0).length;
  let last = missing();
  while (last > 0) {
    await spool.nextArrival(quietMs);
    const now = missing();
    if (now === last) return; // quiet: nothing came in the quiet period
    last = now;
  }
}

export async function retrieveStudy(
  peer: Peer,
  plan: DimseSourcePlan,
  spool: Spool,
  req: RetrieveRequest,
  moveDestination: string,
): Promise<RetrieveReport> {
  const report: RetrieveReport = { arrived: [], missing: [], unlisted: [], outcomes: [] };
  const expected = new Set(req.expected.keys());
  const book = listenerBookOf(spool);
  const since = Date.now();
  /** Our listener refused it during this retrieve: it will again. */
  const refusedByUs = (u: string) => plan.retrieve === 'c-move' && book.refusalOf(u, since) !== undefined;
  // Our listener accepts only the instances a running retrieve waits for (src/transfer/listener-book.ts).
  const wait = book.wait(req.studyUid, expected, peer.callingAeTitle);
  try {
    return await retrieveWaiting();
  } finally {
    wait.done();
  }

  async function retrieveWaiting(): Promise<RetrieveReport> {
    type Attempt = Awaited<ReturnType<typeof getOnce>>;
    /**
     * One C-MOVE; or C-GETs with one storage context per (SOP class, transfer syntax) of the instances
     * asked for (src/net/services/storage-contexts.ts), one association per group of at most 127
     * contexts, asking only for its classes' instances (IMAGE level). A STUDY-level C-GET that needs
     * more than one association is not sent: a source meeting an instance without a context for its
     * class may fail the whole request (Orthanc 1.10: "No presentation context", the C-GET aborted), so
     * those studies are asked for at IMAGE level at once (instances not listed by the inventory are then
     * not asked for).
     */
    const run = async (
      keys: Record<string, string>,
      level: 'STUDY' | 'SERIES' | 'IMAGE',
      uids?: string[],
    ): Promise<Attempt[]> => {
      if (plan.retrieve !== 'c-get')
        return [await moveOnce(peer, plan, keys, level, moveDestination, wait.messageId())];
      const items = uids ? uids.map((u) => req.expected.get(u)!) : [...req.expected.values()];
      const groups = storageContextGroups(items, ALL_TRANSFER_SYNTAXES);
      if (groups.length <= 1)
        return [await getOnce(peer, plan, keys, level, groups[0]?.contexts ?? [], spool)];
      if (!uids) return [];
      const out: Attempt[] = [];
      for (const [n, g] of groups.entries()) {
        const classes = new Set(g.sopClasses);
        const mine = uids?.filter((u) => {
          const c = req.expected.get(u)!.sopClassUid;
          return c ? classes.has(c) : n === 0;
        });
        const k = mine ? { ...keys, SOPInstanceUID: mine.join('\\') } : keys;
        out.push(await getOnce(peer, plan, k, level, g.contexts, spool));
      }
      return out;
    };

    const judge = (r: Attempt): boolean => {
      if (!r.ok) {
        report.failure = r.error;
        return false;
      }
      report.outcomes.push(r.value);
      const a = r.value.entry.action;
      if (a === 'stop-run' || a === 'stop-configuration') {
        report.stop = `${plan.retrieve.toUpperCase()} 0x${hex(r.value.status)} ${r.value.entry.meaning}${r.value.errorComment ? `: ${r.value.errorComment}` : ''}`;
        return false;
      }
      if (a === 'backoff-retry-smaller') {
        report.backoff = `0x${hex(r.value.status)} ${r.value.entry.meaning}`;
        report.backoffStatus = r.value.status;
      }
      return true;
    };

    const missingNow = () => [...expected].filter((u) => spool.get(u).length === 0);
    const askAgain = () => missingNow().filter((u) => !refusedByUs(u));
    const wholeStudy = (req.wholeStudy ?? true) || req.expected.size === 0;
    if (wholeStudy && (expected.size > 0 || req.expected.size === 0)) {
      const whole = await run({ StudyInstanceUID: req.studyUid }, 'STUDY');
      let go = true;
      for (const w of whole) if (!judge(w) && report.stop) go = false;
      if (go && whole.some((w) => w.ok)) await settle(spool, expected, req.quietMs);
    }
    // Ask (again), at IMAGE level, for what did not come (series by series, UID lists of at most 200).
    const split =
      plan.retrieve === 'c-get' &&
      storageContextGroups(req.expected.values(), ALL_TRANSFER_SYNTAXES).length > 1;
    const imageRounds = wholeStudy && !split ? req.imageRetries : Math.max(1, req.imageRetries);
    for (let attempt = 0; attempt < imageRounds && !report.stop && askAgain().length > 0; attempt++) {
      const bySeries = new Map<string, string[]>();
      for (const u of askAgain()) {
        const s = req.expected.get(u)!.seriesUid;
        bySeries.set(s, [...(bySeries.get(s) ?? []), u]);
      }
      for (const [seriesUid, uids] of bySeries) {
        for (let i = 0; i < uids.length && !report.stop; i += 200) {
          const part = uids.slice(i, i + 200);
          const rs = await run(
            { StudyInstanceUID: req.studyUid, SeriesInstanceUID: seriesUid, SOPInstanceUID: part.join('\\') },
            'IMAGE',
            part,
          );
          for (const r of rs) if (!judge(r) && report.stop) break;
        }
      }
      await settle(spool, new Set(askAgain()), req.quietMs);
    }
    const arrived = spool.ofStudy(req.studyUid);
    report.arrived = arrived.filter((s) => expected.has(s.sopInstanceUid));
    report.unlisted = arrived.filter((s) => !expected.has(s.sopInstanceUid));
    report.missing = missingNow();
    const refused = new Map<string, { cause: string; status: number }>();
    for (const u of report.missing) {
      const r = refusedByUs(u) ? book.refusalOf(u, since) : undefined;
      if (r)
        refused.set(u, {
          status: r.status,
          cause: `refused by pacshift's listener (0x${hex(r.status)} ${r.comment}) when ${r.callingAeTitle.trim()} sent it`,
        });
    }
    if (refused.size > 0) {
      report.refusedByListener = refused;
      // The source's back-off status (A702 for failed sub-operations) counted our refusals: not a reason to wait.
      if (report.missing.every((u) => refused.has(u))) {
        report.backoff = undefined;
        report.backoffStatus = undefined;
      }
    }
    return report;
  }
}
