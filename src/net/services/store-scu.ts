/**
 * C-STORE as SCU: send instances from files, streaming each data set from disk, over one or
 * more associations; each file gets an outcome, and a failed association is replaced.
 */
import type { ContextProposal } from '../association/types.js';
import type { DimseChannel } from '../dimse/channel.js';
import { CommandField, DATASET_PRESENT, Priority } from '../dimse/command.js';
import { FILE_CHUNK, prefetchHead } from '../dimse/dataset-source.js';
import { type StatusEntry, lookupStatus } from '../dimse/status.js';
import type { NetFailure } from '../errors.js';
import { type Peer, openChannel } from '../peer.js';
import { MAX_PRESENTATION_CONTEXTS } from '../association/request.js';
import { planOddLength } from './odd-length.js';

/** What the sender needs to know of an instance file (from src/dicom/part10.ts). */
export interface SendableInstance {
  path: string;
  sopClassUid: string;
  sopInstanceUid: string;
  transferSyntaxUid: string;
  datasetOffset: number;
  datasetLength: number;
}

export type StoreOutcome =
  | {
      ok: true;
      instance: SendableInstance;
      status: number;
      entry: StatusEntry;
      errorComment?: string;
      offendingElements?: number[];
      /** What we changed to send it (src/net/services/odd-length.ts); undefined when sent byte for byte. */
      adjusted?: string;
    }
  | {
      ok: false;
      instance: SendableInstance;
      /** A DIMSE status when the peer answered one. */
      status?: number;
      entry?: StatusEntry;
      errorComment?: string;
      offendingElements?: number[];
      failure?: NetFailure;
      /**
       * The peer aborted (or closed) the association on this instance, then again when it was sent alone on a new
       * association: the object causes it (DCMTK and Orthanc abort on a command UID they cannot parse).
       */
      abortedAgain?: boolean;
    };

export interface StoreOptions {
  associations?: number;
  /** Per-file outcome as it happens. */
  onOutcome?: (o: StoreOutcome) => void;
  moveOriginator?: { aeTitle: string; messageId: number };
  /** How many times in a row a worker reopens an association after it failed (default 3); a stored instance resets the count. */
  maxReconnects?: number;
}

/** The peer ended the association while (or before) it answered this instance. */
const abortedOn = (f: NetFailure | undefined): boolean =>
  f?.kind === 'aborted' ||
  (f?.kind === 'no-response' && (f.cause?.kind === 'aborted' || f.cause?.kind === 'closed'));

/** Failures decided before anything was sent: the association is as good as before. */
export const KEEPS_ASSOCIATION: ReadonlySet<NetFailure['kind']> = new Set([
  'no-presentation-context',
  'unsendable',
]);

const comboKey = (i: SendableInstance) => `${i.sopClassUid}|${i.transferSyntaxUid}`;

/** One context per (SOP class, transfer syntax) of the files: the file's own syntax, no transcoding. */
export function proposalsFor(instances: readonly SendableInstance[]): ContextProposal[] {
  const seen = new Map<string, ContextProposal>();
  for (const i of instances) {
    const k = comboKey(i);
    if (!seen.has(k)) seen.set(k, { abstractSyntax: i.sopClassUid, transferSyntaxes: [i.transferSyntaxUid] });
  }
  return [...seen.values()];
}

/** Split instances into groups whose (SOP class, syntax) combinations fit one association. */
export function groupByContexts(instances: readonly SendableInstance[]): SendableInstance[][] {
  const byCombo = new Map<string, SendableInstance[]>();
  for (const i of instances) {
    const k = comboKey(i);
    const list = byCombo.get(k) ?? [];
    list.push(i);
    byCombo.set(k, list);
  }
  const groups: SendableInstance[][] = [];
  let current: SendableInstance[] = [];
  let combos = 0;
  for (const list of byCombo.values()) {
    if (combos === MAX_PRESENTATION_CONTEXTS) {
      groups.push(current);
      current = [];
      combos = 0;
    }
    current.push(...list);
    combos++;
  }
  if (current.length) groups.push(current);
  return groups;
}

/** Send one instance on an open channel. */
export async function storeOne(
  ch: DimseChannel,
  inst: SendableInstance,
  opts: { timeoutMs?: number; head?: Buffer; moveOriginator?: StoreOptions['moveOriginator'] } = {},
): Promise<StoreOutcome> {
  const ctx = ch.findContext(inst.sopClassUid, [inst.transferSyntaxUid]);
  if (!ctx) {
    return {
      ok: false,
      instance: inst,
      failure: {
        kind: 'no-presentation-context',
        message: `peer accepted no context for SOP class ${inst.sopClassUid} in transfer syntax ${inst.transferSyntaxUid}`,
      },
    };
  }
  const odd = await planOddLength(inst, ch.assoc.info.peerImplementationClassUid);
  if (odd.kind === 'refuse') return { ok: false, instance: inst, failure: odd.failure };
  const patch = odd.kind === 'pad-value' ? odd.patch : undefined;
  const r = await ch.request(
    ctx.id,
    {
      CommandField: CommandField.C_STORE_RQ,
      MessageID: ch.nextMessageId(),
      AffectedSOPClassUID: inst.sopClassUid,
      AffectedSOPInstanceUID: inst.sopInstanceUid,
      Priority: Priority.MEDIUM,
      CommandDataSetType: DATASET_PRESENT,
      MoveOriginatorApplicationEntityTitle: opts.moveOriginator?.aeTitle,
      MoveOriginatorMessageID: opts.moveOriginator?.messageId,
    },
    { path: inst.path, offset: inst.datasetOffset, length: inst.datasetLength, head: opts.head, patch },
    { timeoutMs: opts.timeoutMs ?? 120_000, onResponse: (m) => m.command },
  );
  if (!r.ok) return { ok: false, instance: inst, failure: r.error };
  const status = r.value.Status ?? 0xffff;
  const entry = lookupStatus('C-STORE', status);
  const extra = { errorComment: r.value.ErrorComment, offendingElements: r.value.OffendingElement };
  if (entry.category === 'success' || entry.category === 'warning')
    return {
      ok: true,
      instance: inst,
      status,
      entry,
      ...extra,
      adjusted: patch && odd.kind === 'pad-value' ? odd.note : undefined,
    };
  return { ok: false, instance: inst, status, entry, ...extra };
}

/**
 * Send all instances to a peer over `associations` parallel associations. Resolves with one
 * outcome per instance, in no particular order.
 */
export async function storeInstances(
  peer: Peer,
  instances: readonly SendableInstance[],
  opts: StoreOptions = {},
): Promise<StoreOutcome[]> {
  const outcomes: StoreOutcome[] = [];
  const record = (o: StoreOutcome) => {
    outcomes.push(o);
    opts.onOutcome?.(o);
  };
  for (const group of groupByContexts(instances)) {
    const contexts = proposalsFor(group);
    const queue = [...group];
    const n = Math.max(1, Math.min(opts.associations ?? 1, queue.length));
    const worker = async () => {
      let reconnects = 0;
      // The next instance this worker will send, taken off the shared queue early so that its beginning can be
      // read while the peer works on the current one (another worker cannot take it); it survives a reconnect.
      let claimed:
        { inst: SendableInstance; bytes: Promise<Buffer | undefined>; buffer?: Buffer } | undefined;
      // Prefetch buffers this worker reuses: one is read into while the other is being sent. A buffer comes back
      // only after a success response and with nothing left in the socket's queue (no write still references it).
      const spare: Buffer[] = [];
      const abortedOnce = new Set<SendableInstance>();
      const failRest = (f: NetFailure) => {
        if (claimed) record({ ok: false, instance: claimed.inst, failure: f });
        claimed = undefined;
        while (queue.length > 0) record({ ok: false, instance: queue.shift()!, failure: f });
      };
      while (queue.length > 0 || claimed) {
        const opened = await openChannel(peer, contexts);
        if (!opened.ok) {
          // The association could not be opened: the instance at the head fails with that cause.
          // A rejection or refusal will not improve by retrying here: fail the rest of this worker's share.
          const f = opened.error;
          const retryable = f.kind === 'closed' || f.kind === 'timeout' || f.kind === 'aborted';
          if (!retryable || ++reconnects > (opts.maxReconnects ?? 3)) {
            failRest(f);
            return;
          }
          continue;
        }
        const ch = opened.value;
        while ((claimed || queue.length > 0) && !ch.ended) {
          const cur: NonNullable<typeof claimed> = claimed ?? {
            inst: queue.shift()!,
            bytes: Promise.resolve(undefined),
          };
          claimed = undefined;
          const h = await cur.bytes;
          const pending = storeOne(ch, cur.inst, {
            head: h,
            timeoutMs: peer.dimseTimeoutMs,
            moveOriginator: opts.moveOriginator,
          });
          // While the peer works on this one, read the beginning of the next file.
          const next = queue.shift();
          if (next) {
            const buffer = spare.pop() ?? Buffer.allocUnsafe(FILE_CHUNK);
            claimed = {
              inst: next,
              buffer,
              bytes: prefetchHead(
                next.path,
                next.datasetOffset,
                next.datasetLength,
                FILE_CHUNK,
                buffer,
              ).catch(() => undefined),
            };
          }
          const o = await pending;
          if (o.ok && o.status === 0 && cur.buffer && ch.assoc.socket.writableLength === 0)
            spare.push(cur.buffer);
          // An instance the peer aborted on goes once more, first on the next association: if the peer aborts on
          // it again, the object is the cause (abortedAgain), not the peer's state.
          const aborted = !o.ok && abortedOn(o.failure);
          const again = aborted && abortedOnce.has(cur.inst);
          if (aborted && !again) {
            abortedOnce.add(cur.inst);
            if (claimed) queue.unshift(claimed.inst);
            claimed = { inst: cur.inst, bytes: Promise.resolve(undefined) };
          } else record(again ? { ...o, abortedAgain: true } : o);
          // The budget is for consecutive failures (an unreachable peer), not for instances a peer aborts on.
          if (o.ok || again) reconnects = 0;
          if (!o.ok && o.failure && !KEEPS_ASSOCIATION.has(o.failure.kind)) {
            if (++reconnects > (opts.maxReconnects ?? 3)) {
              if (claimed) await claimed.bytes;
              failRest(o.failure);
            }
            break;
          }
        }
        if (!ch.ended) await ch.assoc.release();
      }
    };
    await Promise.all(Array.from({ length: n }, worker));
  }
  return outcomes;
}
