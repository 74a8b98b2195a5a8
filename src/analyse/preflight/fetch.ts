/**
 * The objects pre-flight reads, fetched from a DIMSE source: chosen instances retrieved at IMAGE level
 * (series by series, UID lists of at most 200) by the plan's method, C-GET on our association or
 * C-MOVE to our listener, into a temporary spool. Arrivals are accounted per SOP Instance UID.
 */
import type { MigrationContext } from '../../run/context.js';
import { hex } from '../../net/dimse/status.js';
import { describeFailure } from '../../net/errors.js';
import { openChannel, type Peer } from '../../net/peer.js';
import { buildIdentifier } from '../../net/services/identifier.js';
import { cGet, cMove, type RetrieveOutcome } from '../../net/services/retrieve-scu.js';
import { QR, UNCOMPRESSED_LE } from '../../net/services/sop-classes.js';
import {
  MAX_STORAGE_CONTEXTS,
  storageContexts as sharedStorageContexts,
} from '../../net/services/storage-contexts.js';
import { FolderStoreTarget } from '../../net/services/store-target.js';
import type { DimseSourcePlan } from '../../plan/index.js';
import type { Instance } from '../../state/index.js';
import { listenerBookOf } from '../../transfer/listener-book.js';
import { startReceiver } from '../../transfer/receiver.js';
import { Spool, type SpooledInstance } from '../../transfer/spool.js';
import { ALL_TRANSFER_SYNTAXES } from '../../transfer/syntaxes.js';

export interface FetchReport {
  /** SOP Instance UID → the file that arrived. */
  readonly arrived: ReadonlyMap<string, SpooledInstance>;
  readonly missing: readonly string[];
  /** What went wrong, in words (UIDs and statuses only). */
  readonly problems: readonly string[];
}

const UID_LIST = 200;

type Outcome =
  { ok: true; value: RetrieveOutcome } | { ok: false; error: import('../../net/errors.js').NetFailure };

async function moveOnce(
  peer: Peer,
  model: 'study' | 'patient',
  keys: Record<string, string>,
  destination: string,
  messageId: number,
): Promise<Outcome> {
  const ch = await openChannel(peer, [{ abstractSyntax: QR[model].move, transferSyntaxes: UNCOMPRESSED_LE }]);
  if (!ch.ok) return ch;
  const r = await cMove(ch.value, buildIdentifier('IMAGE', keys), destination, {
    model,
    timeoutMs: peer.dimseTimeoutMs,
    messageId,
  });
  if (!ch.value.ended) await ch.value.assoc.release();
  return r;
}

/**
 * C-GET storage contexts (we take the SCP role): one per (SOP class, transfer syntax) the inventory
 * knows, so that a source that does not transcode can send each instance as it stores it (an acceptor
 * picks one syntax per context); every syntax we know, one context each, where the inventory does not
 * say (src/net/services/storage-contexts.ts). At most 127.
 */
export function storageContexts(
  part: readonly Instance[],
): { sopClassUid: string; transferSyntaxes: string[] }[] {
  return sharedStorageContexts(part, ALL_TRANSFER_SYNTAXES).slice(0, MAX_STORAGE_CONTEXTS);
}

/** Retrieves `picks` from the plan's DIMSE source into `dir` (created). */
export async function fetchFromSource(
  ctx: MigrationContext,
  picks: readonly Instance[],
  dir: string,
  log: (m: string) => void = () => undefined,
): Promise<FetchReport> {
  const src = ctx.plan.source as DimseSourcePlan;
  if (src.type !== 'dimse' || !ctx.source)
    throw new Error('fetchFromSource: the plan source is not a DIMSE archive');
  const peer = ctx.source;
  const model = src.queryModel === 'patient-root' ? 'patient' : 'study';
  const spool = new Spool(dir, Number.MAX_SAFE_INTEGER);
  await spool.open();
  const problems: string[] = [];
  const receiver =
    src.retrieve === 'c-move' ? await startReceiver(ctx.plan, spool, (m) => problems.push(m)) : undefined;
  // C-GET arrivals are registered as they come (reading each file): wait for those before counting.
  const adding: Promise<unknown>[] = [];
  // The listener admits only what a running retrieve waits for (src/transfer/listener-book.ts).
  const wait = listenerBookOf(spool).wait(
    'preflight',
    picks.map((i) => i.sopInstanceUid),
    peer.callingAeTitle,
  );
  try {
    const bySeries = new Map<string, Instance[]>();
    for (const i of picks) bySeries.set(i.seriesUid, [...(bySeries.get(i.seriesUid) ?? []), i]);
    for (const list of bySeries.values()) {
      for (let k = 0; k < list.length; k += UID_LIST) {
        const part = list.slice(k, k + UID_LIST);
        const keys = {
          StudyInstanceUID: part[0]!.studyUid,
          SeriesInstanceUID: part[0]!.seriesUid,
          SOPInstanceUID: part.map((i) => i.sopInstanceUid).join('\\'),
        };
        let r: Outcome;
        if (src.retrieve === 'c-get') {
          r = await cGet(
            peer,
            buildIdentifier('IMAGE', keys),
            storageContexts(part),
            new FolderStoreTarget(spool.incoming),
            {
              model,
              timeoutMs: peer.dimseTimeoutMs,
              onStored: (s) => void (s.ok && adding.push(spool.add(s.instance.path))),
            },
          );
        } else {
          r = await moveOnce(
            peer,
            model,
            keys,
            src.moveDestination ?? ctx.plan.local.aeTitle,
            wait.messageId(),
          );
        }
        if (!r.ok) problems.push(`series ${keys.SeriesInstanceUID}: ${describeFailure(r.error)}`);
        else if (r.value.entry.category !== 'success')
          problems.push(
            `series ${keys.SeriesInstanceUID}: ${src.retrieve.toUpperCase()} 0x${hex(r.value.status)} ${r.value.entry.meaning}`,
          );
      }
    }
    await Promise.all(adding);
    // C-MOVE sub-operations may still be arriving: wait until all came or nothing came for the quiet period.
    const missingNow = () => picks.filter((i) => spool.get(i.sopInstanceUid).length === 0);
    let last = missingNow().length;
    while (receiver && last > 0) {
      await spool.nextArrival(ctx.plan.transfer.quietPeriod);
      const now = missingNow().length;
      if (now === last) break;
      last = now;
    }
    const arrived = new Map<string, SpooledInstance>();
    for (const i of picks) {
      const copy = spool.get(i.sopInstanceUid)[0];
      if (copy) arrived.set(i.sopInstanceUid, copy);
    }
    const missing = picks.filter((i) => !arrived.has(i.sopInstanceUid)).map((i) => i.sopInstanceUid);
    if (missing.length > 0) log(`${missing.length} sampled instance(s) not delivered by the source`);
    return { arrived, missing, problems };
  } finally {
    wait.done();
    await receiver?.close();
  }
}
