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
import { FolderStoreTarget } from '../net/services/store-target.js';
import type { DimseSourcePlan } from '../plan/index.js';
import type { Spool, SpooledInstance } from './spool.js';
import { ALL_TRANSFER_SYNTAXES } from './syntaxes.js';

export interface RetrieveRequest {
  studyUid: string;
  /** Instances the inventory lists and that have not arrived yet (SOP Instance UID → SOP class). */
  expected: Map<string, { sopClassUid: string | null; seriesUid: string }>;
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
}

const qrModel = (p: DimseSourcePlan) => (p.queryModel === 'patient-root' ? 'patient' : 'study');

async function moveOnce(
  peer: Peer,
  plan: DimseSourcePlan,
  keys: Record<string, string>,
  level: 'STUDY' | 'SERIES' | 'IMAGE',
  destination: string,
): Promise<{ ok: true; value: RetrieveOutcome } | { ok: false; error: NetFailure }> {
  const model = qrModel(plan);
  const ch = await openChannel(peer, [{ abstractSyntax: QR[model].move, transferSyntaxes: UNCOMPRESSED_LE }]);
  if (!ch.ok) return ch;
  const r = await cMove(ch.value, buildIdentifier(level, keys), destination, {
    model,
    timeoutMs: peer.dimseTimeoutMs,
  });
  if (!ch.value.ended) await ch.value.assoc.release();
  return r;
}

async function getOnce(
  peer: Peer,
  plan: DimseSourcePlan,
  keys: Record<string, string>,
  level: 'STUDY' | 'SERIES' | 'IMAGE',
  sopClasses: string[],
  spool: Spool,
): Promise<{ ok: true; value: RetrieveOutcome } | { ok: false; error: NetFailure }> {
  // At most 127 storage contexts besides the GET model: beyond that, retrieve per series/instance.
  const storage = sopClasses
    .slice(0, 127)
    .map((c) => ({ sopClassUid: c, transferSyntaxes: ALL_TRANSFER_SYNTAXES }));
  return cGet(peer, buildIdentifier(level, keys), storage, new FolderStoreTarget(spool.incoming), {
    model: qrModel(plan),
    timeoutMs: peer.dimseTimeoutMs,
    onStored: (r) => {
      if (r.ok) void spool.add(r.instance.path);
    },
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
  const sopClasses = [
    ...new Set([...req.expected.values()].map((v) => v.sopClassUid).filter((c): c is string => !!c)),
  ];
  const run = (keys: Record<string, string>, level: 'STUDY' | 'SERIES' | 'IMAGE') =>
    plan.retrieve === 'c-get'
      ? getOnce(peer, plan, keys, level, sopClasses, spool)
      : moveOnce(peer, plan, keys, level, moveDestination);

  const judge = (r: Awaited<ReturnType<typeof run>>): boolean => {
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
  const wholeStudy = (req.wholeStudy ?? true) || req.expected.size === 0;
  if (wholeStudy && (expected.size > 0 || req.expected.size === 0)) {
    const whole = await run({ StudyInstanceUID: req.studyUid }, 'STUDY');
    if (judge(whole)) await settle(spool, expected, req.quietMs);
  }
  // Ask (again), at IMAGE level, for what did not come (series by series, UID lists of at most 200).
  const imageRounds = wholeStudy ? req.imageRetries : Math.max(1, req.imageRetries);
  for (let attempt = 0; attempt < imageRounds && !report.stop && missingNow().length > 0; attempt++) {
    const bySeries = new Map<string, string[]>();
    for (const u of missingNow()) {
      const s = req.expected.get(u)!.seriesUid;
      bySeries.set(s, [...(bySeries.get(s) ?? []), u]);
    }
    for (const [seriesUid, uids] of bySeries) {
      for (let i = 0; i < uids.length; i += 200) {
        const r = await run(
          {
            StudyInstanceUID: req.studyUid,
            SeriesInstanceUID: seriesUid,
            SOPInstanceUID: uids.slice(i, i + 200).join('\\'),
          },
          'IMAGE',
        );
        if (!judge(r) && report.stop) break;
      }
    }
    await settle(spool, new Set(missingNow()), req.quietMs);
  }
  const arrived = spool.ofStudy(req.studyUid);
  report.arrived = arrived.filter((s) => expected.has(s.sopInstanceUid));
  report.unlisted = arrived.filter((s) => !expected.has(s.sopInstanceUid));
  report.missing = missingNow();
  return report;
}
