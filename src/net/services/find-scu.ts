/**
 * C-FIND as SCU. Matches arrive as an async iterator; the final status says whether the answer
 * is complete. A final Cancel (FE00) we did not ask for, or B001, means *incomplete* (capped).
 */
import {
  type SmallDataset,
  decodeSmallDataset,
  encodeSmallDataset,
  encodingOf,
} from '../../dicom/small-dataset.js';
import type { DimseChannel } from '../dimse/channel.js';
import { CommandField, DATASET_PRESENT, NO_DATASET, Priority } from '../dimse/command.js';
import { type StatusEntry, lookupStatus } from '../dimse/status.js';
import type { NetFailure } from '../errors.js';
import { QR, type QueryModel } from './sop-classes.js';

export interface FindOutcome {
  status: number;
  entry: StatusEntry;
  matches: number;
  /** True only for a final Success with no cancel requested and no B001. */
  complete: boolean;
  cancelledByUs: boolean;
  errorComment?: string;
}

export interface FindQuery {
  /** The identifiers, in arrival order. */
  matches: AsyncIterable<SmallDataset>;
  /** The final outcome (or the failure). */
  done: Promise<{ ok: true; value: FindOutcome } | { ok: false; error: NetFailure }>;
  /** Send C-CANCEL-RQ. */
  cancel(): void;
}

export function cFind(
  ch: DimseChannel,
  identifier: SmallDataset,
  opts: { model?: QueryModel; timeoutMs?: number } = {},
): FindQuery {
  const sopClass = QR[opts.model ?? 'study'].find;
  const ctx = ch.findContext(sopClass);
  const queue: SmallDataset[] = [];
  let wake: (() => void) | undefined;
  let finished = false;
  let cancelledByUs = false;
  let count = 0;
  const notify = () => {
    const w = wake;
    wake = undefined;
    w?.();
  };
  const messageId = ch.nextMessageId();
  let done: FindQuery['done'];
  if (!ctx) {
    finished = true;
    done = Promise.resolve({
      ok: false,
      error: {
        kind: 'no-presentation-context',
        message: `C-FIND (${opts.model ?? 'study'} root) not accepted`,
      },
    });
  } else {
    const enc = encodingOf(ctx.transferSyntax);
    done = ch
      .request(
        ctx.id,
        {
          CommandField: CommandField.C_FIND_RQ,
          MessageID: messageId,
          AffectedSOPClassUID: sopClass,
          Priority: Priority.MEDIUM,
          CommandDataSetType: DATASET_PRESENT,
        },
        encodeSmallDataset(identifier, enc),
        {
          timeoutMs: opts.timeoutMs ?? 120_000,
          onResponse: (m): FindOutcome | undefined => {
            const status = m.command.Status ?? 0xffff;
            const entry = lookupStatus('C-FIND', status);
            if (entry.category === 'pending') {
              if (m.dataset) {
                try {
                  queue.push(decodeSmallDataset(m.dataset, enc));
                  count++;
                } catch {
                  // An identifier we cannot decode is counted but not yielded; the outcome says complete=false.
                  malformed++;
                }
                notify();
              }
              return undefined;
            }
            return {
              status,
              entry,
              matches: count,
              complete: entry.category === 'success' && malformed === 0,
              cancelledByUs,
              errorComment: m.command.ErrorComment,
            };
          },
        },
      )
      .finally(() => {
        finished = true;
        notify();
      });
  }
  let malformed = 0;
  const matches: AsyncIterable<SmallDataset> = {
    [Symbol.asyncIterator]: () => ({
      next: async (): Promise<IteratorResult<SmallDataset>> => {
        for (;;) {
          if (queue.length > 0) return { value: queue.shift()!, done: false };
          if (finished) return { value: undefined, done: true };
          await new Promise<void>((r) => (wake = r));
        }
      },
    }),
  };
  return {
    matches,
    done,
    cancel: () => {
      if (!ctx || finished) return;
      cancelledByUs = true;
      void ch.send(ctx.id, {
        CommandField: CommandField.C_CANCEL_RQ,
        MessageIDBeingRespondedTo: messageId,
        CommandDataSetType: NO_DATASET,
      });
    },
  };
}

/** Collect all matches of a query. */
export async function cFindAll(
  ch: DimseChannel,
  identifier: SmallDataset,
  opts: { model?: QueryModel; timeoutMs?: number } = {},
): Promise<
  { ok: true; value: FindOutcome & { identifiers: SmallDataset[] } } | { ok: false; error: NetFailure }
> {
  const q = cFind(ch, identifier, opts);
  const identifiers: SmallDataset[] = [];
  for await (const m of q.matches) identifiers.push(m);
  const r = await q.done;
  if (!r.ok) return r;
  return { ok: true, value: { ...r.value, identifiers } };
}
