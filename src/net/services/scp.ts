/**
 * The acceptor's service dispatcher: C-ECHO, C-STORE (to a StoreTarget), N-EVENT-REPORT for
 * storage commitment, and C-FIND / C-MOVE / C-GET through a provider (the built-in archive).
 */
import type { Association } from '../association/association.js';
import { markBusy } from '../association/idle.js';
import type { AcceptPolicy } from '../association/negotiation.js';
import { type AssociationServer, type ServerOptions, startAssociationServer } from '../association/server.js';
import { type DimseChannel, type IncomingMessage } from '../dimse/channel.js';
import { type Command, CommandField, NO_DATASET, commandName } from '../dimse/command.js';
import type { StoreResult, StoreTarget } from './store-target.js';
import { STORAGE_COMMITMENT_PUSH, VERIFICATION } from './sop-classes.js';
import { DimseChannel as Channel } from '../dimse/channel.js';

export interface ScpHandlers {
  store?: StoreTarget;
  /** Called after each instance is stored (or refused). */
  onStored?(result: StoreResult, assoc: Association): void;
  /** N-EVENT-REPORT on the Storage Commitment Push Model: the data set, raw, in the context's syntax. */
  onCommitmentReport?(
    eventTypeId: number,
    dataset: Buffer,
    transferSyntaxUid: string,
    assoc: Association,
  ): void;
  /** Other requests (C-FIND, C-MOVE, C-GET…): the archive's provider. Return false when not handled. */
  onOtherRequest?(msg: IncomingMessage, ch: DimseChannel): Promise<boolean>;
  onAssociation?(assoc: Association): void;
}

export function respond(
  ch: DimseChannel,
  msg: IncomingMessage,
  field: number,
  status: number,
  extra: Partial<Command> = {},
) {
  return ch.send(msg.contextId, {
    CommandField: field,
    MessageIDBeingRespondedTo: msg.command.MessageID,
    AffectedSOPClassUID: msg.command.AffectedSOPClassUID ?? msg.command.RequestedSOPClassUID,
    CommandDataSetType: NO_DATASET,
    Status: status,
    ...extra,
  });
}

export function channelFor(assoc: Association, h: ScpHandlers): DimseChannel {
  const ch: DimseChannel = new Channel(assoc, {
    sinkFor: (cmd, ctx) => {
      if (cmd.CommandField !== CommandField.C_STORE_RQ || !h.store) return undefined;
      return h.store.open({
        sopClassUid: cmd.AffectedSOPClassUID ?? '',
        sopInstanceUid: cmd.AffectedSOPInstanceUID ?? '',
        transferSyntaxUid: ctx.transferSyntax,
        callingAeTitle: assoc.info.callingAeTitle,
        moveOriginatorMessageId: cmd.MoveOriginatorMessageID,
        moveOriginatorAeTitle: cmd.MoveOriginatorApplicationEntityTitle,
        remoteAddress: assoc.info.remoteAddress,
      });
    },
    onRequest: async (msg) => {
      // While a request is served (a long C-MOVE, a slow C-FIND), the association is not idle.
      const done = markBusy(assoc);
      try {
        await serve(msg);
      } finally {
        done();
      }
    },
  });
  const serve = async (msg: IncomingMessage): Promise<void> => {
    const f = msg.command.CommandField;
    if (f === CommandField.C_ECHO_RQ) {
      await respond(ch, msg, CommandField.C_ECHO_RSP, 0x0000);
      return;
    }
    if (f === CommandField.C_STORE_RQ && h.store && msg.sinkResult === undefined) {
      // CommandDataSetType said no data set follows: nothing to store (PS3.7 9.3.1.1 requires one).
      await respond(ch, msg, CommandField.C_STORE_RSP, 0xc000, {
        AffectedSOPInstanceUID: msg.command.AffectedSOPInstanceUID,
        ErrorComment: 'C-STORE-RQ without a data set',
      });
      return;
    }
    if (f === CommandField.C_STORE_RQ && h.store) {
      const res = msg.sinkResult as StoreResult | { error: unknown };
      const result: StoreResult =
        'error' in res
          ? {
              ok: false,
              status: 0xa700,
              comment: `cannot store: ${String((res.error as Error)?.message ?? res.error)}`,
            }
          : res;
      h.onStored?.(result, assoc);
      await respond(ch, msg, CommandField.C_STORE_RSP, result.ok ? 0x0000 : result.status, {
        AffectedSOPInstanceUID: msg.command.AffectedSOPInstanceUID,
        ErrorComment: result.ok ? undefined : result.comment.slice(0, 64),
      });
      return;
    }
    if (
      f === CommandField.N_EVENT_REPORT_RQ &&
      h.onCommitmentReport &&
      msg.command.AffectedSOPClassUID === STORAGE_COMMITMENT_PUSH
    ) {
      h.onCommitmentReport(
        msg.command.EventTypeID ?? 0,
        msg.dataset ?? Buffer.alloc(0),
        msg.context.transferSyntax,
        assoc,
      );
      await respond(ch, msg, CommandField.N_EVENT_REPORT_RSP, 0x0000, {
        AffectedSOPInstanceUID: msg.command.AffectedSOPInstanceUID,
        EventTypeID: msg.command.EventTypeID,
      });
      return;
    }
    if (h.onOtherRequest && (await h.onOtherRequest(msg, ch))) return;
    // Unsupported: answer with "unrecognized operation" when it is a request we can answer.
    const rsp = f | 0x8000;
    if (f !== CommandField.C_CANCEL_RQ)
      await respond(ch, msg, rsp, 0x0211, { ErrorComment: `${commandName(f)} not supported` });
  };
  return ch;
}

export interface ScpOptions extends Omit<ServerOptions, 'onAssociation' | 'policy'> {
  port: number;
  host?: string;
  policy: AcceptPolicy;
  handlers: ScpHandlers;
}

export async function startScp(opts: ScpOptions): Promise<AssociationServer> {
  return startAssociationServer({
    ...opts,
    onAssociation: (assoc) => {
      channelFor(assoc, opts.handlers);
      opts.handlers.onAssociation?.(assoc);
    },
  });
}

/** Accept Verification, every storage SOP class (any transfer syntax), and commitment reports. */
export const storageAcceptPolicy = (
  extra?: (abstractSyntax: string) => ReadonlySet<string> | 'any' | undefined,
): AcceptPolicy => ({
  transferSyntaxesFor: (as) => {
    const e = extra?.(as);
    if (e) return e;
    if (as === VERIFICATION) return 'any';
    if (as === STORAGE_COMMITMENT_PUSH) return 'any';
    // Storage SOP classes (and private ones) — anything that is not a known non-storage service.
    if (as.startsWith('1.2.840.10008.5.1.4.1.2.') || as.startsWith('1.2.840.10008.5.1.4.31'))
      return undefined;
    return 'any';
  },
  allowRequestorScp: (as) => as === STORAGE_COMMITMENT_PUSH,
});
