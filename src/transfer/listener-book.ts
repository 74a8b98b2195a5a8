/**
 * What the migration's listener (receiver.ts) and the retrieves (retrieve.ts) tell each other, kept per spool
 * (they share the spool, not a constructor): which instances each running retrieve waits for, and which
 * arrivals the listener refused, and why.
 *
 * - A retrieve names the SOP Instance UIDs it waits for (and the Message ID of each C-MOVE it sends): the
 *   listener accepts only those (src/transfer/receiver.ts), so a copy sent under the source's AE title by
 *   anyone else is refused and recorded instead of replacing the real one.
 * - The listener records every refusal with its status: an instance the source could not deliver because we
 *   refused it gets that cause ("refused by our listener: 0117 …"), not the source's summary status
 *   (Orthanc answers A702 "out of resources" for failed sub-operations), and is not asked for again.
 */
import type { StoreRequestInfo } from '../net/services/store-target.js';
import type { Spool } from './spool.js';

export interface ListenerRefusal {
  readonly sopInstanceUid: string;
  readonly status: number;
  readonly comment: string;
  readonly callingAeTitle: string;
  readonly at: number;
}

interface Wait {
  readonly studyUid: string;
  readonly uids: ReadonlySet<string>;
  /** Message IDs of the C-MOVE requests of this retrieve (Move Originator Message ID of its sub-operations). */
  readonly messageIds: Set<number>;
}

/** Refusals kept per UID, at most this many (the oldest go first): bounded memory on a long run. */
const MAX_REFUSALS = 10_000;

export class ListenerBook {
  private readonly waits = new Set<Wait>();
  private readonly refusals = new Map<string, ListenerRefusal>();

  /** A retrieve starts waiting for these instances; call the returned function when it is done. */
  wait(studyUid: string, uids: Iterable<string>): { messageId(id: number): void; done(): void } {
    const w: Wait = { studyUid, uids: new Set(uids), messageIds: new Set() };
    this.waits.add(w);
    return {
      messageId: (id) => void w.messageIds.add(id),
      done: () => void this.waits.delete(w),
    };
  }

  /**
   * Why an arriving instance is refused (a C-STORE status and comment), or undefined when a running retrieve
   * waits for it. A Move Originator Message ID, when the sender gives one, must be one of that retrieve's.
   */
  admit(req: StoreRequestInfo): { status: number; comment: string } | undefined {
    const mine = [...this.waits].filter((w) => w.uids.has(req.sopInstanceUid));
    if (mine.length === 0)
      return { status: 0x0124, comment: 'not an instance of a retrieve pacshift is waiting for' };
    const id = req.moveOriginatorMessageId;
    if (id !== undefined && !mine.some((w) => w.messageIds.has(id)))
      return {
        status: 0x0124,
        comment: `Move Originator Message ID ${id} is not one of our C-MOVE requests`,
      };
    return undefined;
  }

  refused(r: ListenerRefusal): void {
    this.refusals.delete(r.sopInstanceUid);
    this.refusals.set(r.sopInstanceUid, r);
    if (this.refusals.size > MAX_REFUSALS) this.refusals.delete(this.refusals.keys().next().value!);
  }

  /** The listener's last refusal of this instance since `since` (ms epoch), if any. */
  refusalOf(sopInstanceUid: string, since = 0): ListenerRefusal | undefined {
    const r = this.refusals.get(sopInstanceUid);
    return r && r.at >= since ? r : undefined;
  }
}

const books = new WeakMap<Spool, ListenerBook>();

/** The book of the listener and retrieves writing into this spool. */
export function listenerBookOf(spool: Spool): ListenerBook {
  let b = books.get(spool);
  if (!b) books.set(spool, (b = new ListenerBook()));
  return b;
}
