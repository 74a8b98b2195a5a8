/**
 * C-MOVE and C-GET as SCU. Pending responses report counts as they come; the final response's
 * status, counts and Failed SOP Instance UID List (0008,0058) are returned. The counts are never
 * proof of arrival: callers reconcile per instance against the inventory.
 */
import {
  type SmallDataset,
  decodeSmallDataset,
  encodeSmallDataset,
  encodingOf,
  str,
} from '../../dicom/small-dataset.js';
import type { ContextProposal } from '../association/types.js';
import type { DimseChannel, IncomingMessage } from '../dimse/channel.js';
import { type Command, CommandField, DATASET_PRESENT, NO_DATASET, Priority } from '../dimse/command.js';
import { type StatusEntry, lookupStatus } from '../dimse/status.js';
import type { NetFailure } from '../errors.js';
import { type Peer, openChannel } from '../peer.js';
import { channelFor, type ScpHandlers } from './scp.js';
import { QR, type QueryModel, UNCOMPRESSED_LE } from './sop-classes.js';
import type { StoreResult, StoreTarget } from './store-target.js';

export interface SubOperationCounts {
  remaining?: number;
  completed?: number;
  failed?: number;
  warning?: number;
}

export interface RetrieveOutcome {
  status: number;
  entry: StatusEntry;
  counts: SubOperationCounts;
  /** From (0008,0058) in the final response, when the peer sent it. */
  failedSopInstanceUids: string[];
  errorComment?: string;
  pendingResponses: number;
}

const countsOf = (c: Command): SubOperationCounts => ({
  remaining: c.NumberOfRemainingSuboperations,
  completed: c.NumberOfCompletedSuboperations,
  failed: c.NumberOfFailedSuboperations,
  warning: c.NumberOfWarningSuboperations,
});

function outcomeFrom(service: 'C-MOVE' | 'C-GET', m: IncomingMessage, pending: number): RetrieveOutcome {
  const status = m.command.Status ?? 0xffff;
  let failed: string[] = [];
  if (m.dataset && m.dataset.length > 0) {
    try {
      const ds = decodeSmallDataset(m.dataset, encodingOf(m.context.transferSyntax));
      failed = str(ds, 0x00080058).split('\\').filter(Boolean);
    } catch {
      /* a malformed failed-list is treated as absent; reconciliation finds the missing anyway */
    }
  }
  return {
    status,
    entry: lookupStatus(service, status),
    counts: countsOf(m.command),
    failedSopInstanceUids: failed,
    errorComment: m.command.ErrorComment,
    pendingResponses: pending,
  };
}

type RetrieveResult = { ok: true; value: RetrieveOutcome } | { ok: false; error: NetFailure };

/** C-MOVE-RQ: the peer sends the instances to `destination` on other associations. */
export async function cMove(
  ch: DimseChannel,
  identifier: SmallDataset,
  destination: string,
  opts: {
    model?: QueryModel;
    timeoutMs?: number;
    onPending?: (c: SubOperationCounts) => void;
    /** The request's Message ID (1..65535), which the sub-operations carry as Move Originator Message ID. */
    messageId?: number;
  } = {},
): Promise<RetrieveResult> {
  const sopClass = QR[opts.model ?? 'study'].move;
  const ctx = ch.findContext(sopClass);
  if (!ctx) return { ok: false, error: { kind: 'no-presentation-context', message: 'C-MOVE not accepted' } };
  let pending = 0;
  return ch.request(
    ctx.id,
    {
      CommandField: CommandField.C_MOVE_RQ,
      MessageID: opts.messageId ?? ch.nextMessageId(),
      AffectedSOPClassUID: sopClass,
      Priority: Priority.MEDIUM,
      MoveDestination: destination,
      CommandDataSetType: DATASET_PRESENT,
    },
    encodeSmallDataset(identifier, encodingOf(ctx.transferSyntax)),
    {
      timeoutMs: opts.timeoutMs ?? 600_000,
      onResponse: (m) => {
        const entry = lookupStatus('C-MOVE', m.command.Status ?? 0xffff);
        if (entry.category === 'pending') {
          pending++;
          opts.onPending?.(countsOf(m.command));
          return undefined;
        }
        return outcomeFrom('C-MOVE', m, pending);
      },
    },
  );
}

/** Presentation contexts for a C-GET: the GET model plus, with the SCP role, each storage class expected. */
export function getProposals(
  model: QueryModel,
  storage: { sopClassUid: string; transferSyntaxes: string[] }[],
): ContextProposal[] {
  const out: ContextProposal[] = [{ abstractSyntax: QR[model].get, transferSyntaxes: UNCOMPRESSED_LE }];
  for (const s of storage) {
    out.push({
      abstractSyntax: s.sopClassUid,
      transferSyntaxes: s.transferSyntaxes,
      role: { scu: false, scp: true },
    });
  }
  return out;
}

/** C-GET-RQ on an open channel whose association carries the storage contexts; instances go to `store`. */
export async function cGetOn(
  ch: DimseChannel,
  identifier: SmallDataset,
  opts: { model?: QueryModel; timeoutMs?: number; onPending?: (c: SubOperationCounts) => void } = {},
): Promise<RetrieveResult> {
  const sopClass = QR[opts.model ?? 'study'].get;
  const ctx = ch.findContext(sopClass);
  if (!ctx) return { ok: false, error: { kind: 'no-presentation-context', message: 'C-GET not accepted' } };
  let pending = 0;
  return ch.request(
    ctx.id,
    {
      CommandField: CommandField.C_GET_RQ,
      MessageID: ch.nextMessageId(),
      AffectedSOPClassUID: sopClass,
      Priority: Priority.MEDIUM,
      CommandDataSetType: DATASET_PRESENT,
    },
    encodeSmallDataset(identifier, encodingOf(ctx.transferSyntax)),
    {
      timeoutMs: opts.timeoutMs ?? 600_000,
      onResponse: (m) => {
        const entry = lookupStatus('C-GET', m.command.Status ?? 0xffff);
        if (entry.category === 'pending') {
          pending++;
          opts.onPending?.(countsOf(m.command));
          return undefined;
        }
        return outcomeFrom('C-GET', m, pending);
      },
    },
  );
}

/**
 * Open an association for C-GET (GET model + storage contexts with SCP role), run one C-GET,
 * release. Received instances go to `store`; `onStored` sees each.
 */
export async function cGet(
  peer: Peer,
  identifier: SmallDataset,
  storage: { sopClassUid: string; transferSyntaxes: string[] }[],
  store: StoreTarget,
  opts: {
    model?: QueryModel;
    timeoutMs?: number;
    onPending?: (c: SubOperationCounts) => void;
    onStored?: (r: StoreResult) => void;
  } = {},
): Promise<RetrieveResult> {
  const model = opts.model ?? 'study';
  const proposals = getProposals(model, storage);
  if (proposals.length > 128) {
    throw new Error(
      `${proposals.length} presentation contexts: split the C-GET (at most 127 storage classes)`,
    );
  }
  const opened = await openChannel(peer, proposals);
  if (!opened.ok) return opened;
  const handlers: ScpHandlers = { store, onStored: (r) => opts.onStored?.(r) };
  const ch = channelFor(opened.value.assoc, handlers);
  const r = await cGetOn(ch, identifier, opts);
  if (!ch.ended) await ch.assoc.release();
  return r;
}

export { NO_DATASET };
