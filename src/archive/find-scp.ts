/**
 * C-FIND as SCP: one pending response per match (FF00, or FF01 when some key is not supported),
 * then Success; a C-CANCEL ends the answer with FE00; with a find limit, N matches then FE00 or
 * B001, as capped archives do.
 */
import {
  type SmallDataset,
  decodeSmallDataset,
  encodeSmallDataset,
  encodingOf,
} from '../dicom/small-dataset.js';
import type { DimseChannel, IncomingMessage } from '../net/dimse/channel.js';
import { CommandField, DATASET_PRESENT } from '../net/dimse/command.js';
import { respond } from '../net/services/scp.js';
import type { QueryModel } from '../net/services/sop-classes.js';
import type { ArchiveContext } from './context.js';
import { find } from './query.js';

export interface Operation {
  cancelled: boolean;
}

/** Decode a request's identifier; undefined when it is missing or malformed. */
export function identifierOf(msg: IncomingMessage): SmallDataset | undefined {
  if (!msg.dataset) return undefined;
  try {
    return decodeSmallDataset(msg.dataset, encodingOf(msg.context.transferSyntax));
  } catch {
    return undefined;
  }
}

export async function serveFind(
  ctx: ArchiveContext,
  ch: DimseChannel,
  msg: IncomingMessage,
  model: QueryModel,
  op: Operation,
): Promise<void> {
  ctx.counters.finds++;
  const callingAe = ch.assoc.info.callingAeTitle;
  const final = async (status: number, matches: number, comment?: string, level?: string) => {
    ctx.log({ type: 'find', callingAe, model, level, matches, status, comment });
    await respond(ch, msg, CommandField.C_FIND_RSP, status, { ErrorComment: comment?.slice(0, 64) });
  };
  const identifier = identifierOf(msg);
  if (!identifier) return final(0xc000, 0, 'identifier missing or malformed');
  const r = find(ctx.hierarchy, ctx.index, model, identifier, ctx.aeTitle, ctx.query);
  if (!r.ok) return final(r.error.status, 0, r.error.comment);
  const { query, matches } = r.value;
  const enc = encodingOf(msg.context.transferSyntax);
  let sent = 0;
  for (const m of matches) {
    if (op.cancelled) return final(0xfe00, sent, 'cancelled', query.level);
    if (ctx.findLimit !== undefined && sent >= ctx.findLimit) {
      return final(
        ctx.findLimitStatus,
        sent,
        `response limit of ${ctx.findLimit} matches reached`,
        query.level,
      );
    }
    const f = await ch.send(
      msg.contextId,
      {
        CommandField: CommandField.C_FIND_RSP,
        MessageIDBeingRespondedTo: msg.command.MessageID,
        AffectedSOPClassUID: msg.command.AffectedSOPClassUID,
        CommandDataSetType: DATASET_PRESENT,
        Status: query.unsupportedKeys ? 0xff01 : 0xff00,
      },
      encodeSmallDataset(m, enc),
    );
    if (f) return; // the association is gone
    sent++;
    // Writes complete without an I/O turn: yield one so that a C-CANCEL already received is read.
    await new Promise<void>((r) => setImmediate(r));
  }
  if (op.cancelled) return final(0xfe00, sent, 'cancelled', query.level);
  return final(0x0000, sent, undefined, query.level);
}
