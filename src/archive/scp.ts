/**
 * The archive's request dispatcher, hooked into startScp: C-FIND, C-MOVE, C-GET for the patient-
 * and study-root models, C-CANCEL, and C-STORE through the archive's store target.
 *
 * Each Q/R request runs detached from the channel's delivery chain: the channel delivers messages
 * one after the other, so a handler that awaited its own sub-operations would never see the
 * C-STORE responses of a C-GET, nor a C-CANCEL.
 */
import type { DimseChannel, IncomingMessage } from '../net/dimse/channel.js';
import { CommandField } from '../net/dimse/command.js';
import { respond, type ScpHandlers } from '../net/services/scp.js';
import type { StoreTarget } from '../net/services/store-target.js';
import type { ArchiveContext } from './context.js';
import { type Operation, serveFind } from './find-scp.js';
import { QR_SOP_CLASSES, type QrService } from './levels.js';
import { serveRetrieve } from './retrieve-scp.js';

const SERVICE_OF: Record<number, QrService> = {
  [CommandField.C_FIND_RQ]: 'find',
  [CommandField.C_MOVE_RQ]: 'move',
  [CommandField.C_GET_RQ]: 'get',
};

export function archiveHandlers(ctx: ArchiveContext, store: StoreTarget): ScpHandlers {
  const running = new WeakMap<DimseChannel, Map<number, Operation>>();
  const run = (msg: IncomingMessage, ch: DimseChannel, service: QrService): void => {
    const qr = QR_SOP_CLASSES.get(msg.command.AffectedSOPClassUID ?? '');
    const field = msg.command.CommandField | 0x8000;
    if (!qr || qr.service !== service) {
      void respond(ch, msg, field, 0x0122, { ErrorComment: 'SOP class not supported for this operation' });
      return;
    }
    const op: Operation = { cancelled: false };
    const id = msg.command.MessageID ?? 0;
    let ops = running.get(ch);
    if (!ops) running.set(ch, (ops = new Map()));
    ops.set(id, op);
    const work =
      service === 'find'
        ? serveFind(ctx, ch, msg, qr.model, op)
        : serveRetrieve(ctx, ch, msg, qr.model, service, op);
    void work
      .catch(async (e: unknown) => {
        ctx.log({ type: 'error', message: `${service} failed: ${(e as Error)?.stack ?? String(e)}` });
        if (!ch.ended) await respond(ch, msg, field, 0xc000, { ErrorComment: 'internal error' });
      })
      .finally(() => ops.delete(id));
  };
  return {
    store,
    onOtherRequest: (msg, ch) => {
      const f = msg.command.CommandField;
      if (f === CommandField.C_CANCEL_RQ) {
        const op = running.get(ch)?.get(msg.command.MessageIDBeingRespondedTo ?? -1);
        if (op) op.cancelled = true;
        return Promise.resolve(true);
      }
      const service = SERVICE_OF[f];
      if (!service) return Promise.resolve(false);
      run(msg, ch, service);
      return Promise.resolve(true);
    },
  };
}
