/**
 * C-MOVE and C-GET as SCP. The identifier selects instances (select.ts); each becomes a C-STORE
 * sub-operation: to the move destination on associations of its own (C-MOVE), or back on the
 * requestor's association where it holds the SCP role for the instance's SOP class and transfer
 * syntax (C-GET). Pending responses carry the counts; the final one the status and the Failed SOP
 * Instance UID List.
 */
import { encodeSmallDataset, encodingOf, type SmallDataset } from '../dicom/small-dataset.js';
import type { DimseChannel, IncomingMessage } from '../net/dimse/channel.js';
import { type Command, CommandField, DATASET_PRESENT, NO_DATASET } from '../net/dimse/command.js';
import type { Peer } from '../net/peer.js';
import type { QueryModel } from '../net/services/sop-classes.js';
import { type SendableInstance, storeOne } from '../net/services/store-scu.js';
import type { ArchiveContext } from './context.js';
import { type Operation, identifierOf } from './find-scp.js';
import { type ServedInstance, freshen } from './fresh.js';
import { MoveSender } from './move-sender.js';
import { selectForRetrieve } from './select.js';
import {
  type SubOperationCounts,
  type SubOperationOutcome,
  type SubOperationsResult,
  countFields,
  describeStoreFailure,
  failedListIdentifier,
  finalStatus,
  outcomeOf,
  runSubOperations,
} from './suboperations.js';

type Kind = 'move' | 'get';

function sendResponse(
  ch: DimseChannel,
  msg: IncomingMessage,
  kind: Kind,
  status: number,
  extra: Partial<Command>,
  ds?: SmallDataset,
) {
  const field = kind === 'move' ? CommandField.C_MOVE_RSP : CommandField.C_GET_RSP;
  return ch.send(
    msg.contextId,
    {
      CommandField: field,
      MessageIDBeingRespondedTo: msg.command.MessageID,
      AffectedSOPClassUID: msg.command.AffectedSOPClassUID,
      CommandDataSetType: ds ? DATASET_PRESENT : NO_DATASET,
      Status: status,
      ...extra,
    },
    ds ? encodeSmallDataset(ds, encodingOf(msg.context.transferSyntax)) : undefined,
  );
}

/** C-GET: the requestor's context for this instance, where it accepted to be the storage SCP. */
function getContextFor(ch: DimseChannel, inst: SendableInstance) {
  return ch.assoc.contexts.find(
    (c) =>
      c.accepted &&
      c.requestorIsScp &&
      c.abstractSyntax === inst.sopClassUid &&
      c.transferSyntax === inst.transferSyntaxUid,
  );
}

export async function serveRetrieve(
  ctx: ArchiveContext,
  ch: DimseChannel,
  msg: IncomingMessage,
  model: QueryModel,
  kind: Kind,
  op: Operation,
): Promise<void> {
  ctx.counters[kind === 'move' ? 'moves' : 'gets']++;
  const callingAe = ch.assoc.info.callingAeTitle;
  const destinationAe = kind === 'move' ? (msg.command.MoveDestination ?? '') : undefined;
  const finish = async (
    status: number,
    r: SubOperationsResult | undefined,
    instances: number,
    comment?: string,
  ) => {
    const c = r?.counts ?? { remaining: 0, completed: 0, failed: 0, warning: 0 };
    ctx.log({
      type: kind,
      callingAe,
      destination: destinationAe,
      instances,
      completed: c.completed,
      failed: c.failed,
      warning: c.warning,
      status,
      comment,
    });
    const extra = r ? countFields(c, r.cancelled) : {};
    await sendResponse(
      ch,
      msg,
      kind,
      status,
      { ...extra, ErrorComment: comment?.slice(0, 64) },
      r ? failedListIdentifier(r) : undefined,
    );
  };

  let destination: Peer | undefined;
  if (kind === 'move') {
    const d = ctx.destinations.get(destinationAe!);
    if (!d) return finish(0xa801, undefined, 0, `move destination ${destinationAe} unknown`);
    destination = {
      host: d.host,
      port: d.port,
      aeTitle: d.aeTitle,
      callingAeTitle: ctx.aeTitle,
      tls: d.tls,
      dimseTimeoutMs: ctx.dimseTimeoutMs,
    };
  }
  const identifier = identifierOf(msg);
  if (!identifier) return finish(0xc000, undefined, 0, 'identifier missing or malformed');
  const sel = selectForRetrieve(ctx.hierarchy, ctx.index, ctx.dir, model, identifier, ctx.query);
  if (!sel.ok) return finish(sel.error.status, undefined, 0, sel.error.comment);
  const instances = sel.value;

  let send: (i: ServedInstance) => Promise<{ outcome: SubOperationOutcome; why?: string }>;
  let ordered: readonly ServedInstance[] = instances;
  let sender: MoveSender | undefined;
  if (destination) {
    const moveSender = new MoveSender(destination, instances, {
      aeTitle: callingAe,
      messageId: msg.command.MessageID ?? 0,
    });
    sender = moveSender;
    ordered = moveSender.ordered as ServedInstance[];
    send = async (i) => {
      const f = await freshen(ctx, i);
      return f.ok ? moveSender.send(i, f.instance) : { outcome: 'failed', why: f.why };
    };
  } else {
    send = async (i) => {
      const f = await freshen(ctx, i);
      if (!f.ok) return { outcome: 'failed', why: f.why };
      if (!getContextFor(ch, f.instance)) {
        return {
          outcome: 'failed',
          why: `no context with the SCP role for ${i.sopClassUid} in ${f.instance.transferSyntaxUid}`,
        };
      }
      const o = await storeOne(ch, f.instance, { timeoutMs: ctx.dimseTimeoutMs });
      return { outcome: outcomeOf(o), why: describeStoreFailure(o) };
    };
  }
  const onPending = (c: SubOperationCounts) => sendResponse(ch, msg, kind, 0xff00, countFields(c, true));
  let r: SubOperationsResult;
  try {
    r = await runSubOperations(ordered, send, {
      cancelled: () => op.cancelled || ch.ended,
      pendingEvery: ctx.pendingEvery,
      onPending,
    });
  } finally {
    await sender?.closeChannel();
  }
  ctx.counters.subOperations.completed += r.counts.completed;
  ctx.counters.subOperations.failed += r.counts.failed;
  ctx.counters.subOperations.warning += r.counts.warning;
  const status = finalStatus(r);
  if (ch.ended) {
    const c = r.counts;
    ctx.log({
      type: kind,
      callingAe,
      destination: destinationAe,
      instances: instances.length,
      completed: c.completed,
      failed: c.failed,
      warning: c.warning,
      status,
      comment: 'association ended before the final response',
    });
    return;
  }
  const comment = status === 0xfe00 ? 'cancelled' : r.firstFailure;
  return finish(status, r, instances.length, comment);
}
