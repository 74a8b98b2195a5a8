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
import { randomInt } from 'node:crypto';
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
  /** Our AE title as the C-MOVE's originator (the source's callingAe), when known. */
  readonly originatorAe: string | undefined;
  /** Message IDs of the C-MOVE requests of this retrieve (Move Originator Message ID of its sub-operations). */
  readonly messageIds: Set<number>;
  /** An arrival carried one of them: the source sends them, so an arrival without one is not its. */
  sawMessageId: boolean;
}

/** Refusals kept per UID, at most this many (the oldest go first): bounded memory on a long run. */
const MAX_REFUSALS = 10_000;

/**
 * The event recorded for an instance our listener accepted on its SOP Instance UID alone (no Move Originator
 * Message ID of ours): verification checks such copies against the source (src/verify/against-source.ts).
 */
export const UNAUTHENTICATED_ARRIVAL = 'listener.admitted-by-uid';

export class ListenerBook {
  private readonly waits = new Set<Wait>();
  private readonly refusals = new Map<string, ListenerRefusal>();

  /**
   * A retrieve starts waiting for these instances; `done()` when it stops. `messageId()` picks the Message ID of
   * its next C-MOVE: random (1..65535) and not used by another running retrieve, so that a sender cannot guess
   * the Move Originator Message ID that lets an instance in.
   */
  wait(
    studyUid: string,
    uids: Iterable<string>,
    originatorAe?: string,
  ): { messageId(): number; done(): void } {
    const w: Wait = {
      studyUid,
      uids: new Set(uids),
      originatorAe: originatorAe?.trim(),
      messageIds: new Set(),
      sawMessageId: false,
    };
    this.waits.add(w);
    return {
      messageId: () => {
        const used = new Set([...this.waits].flatMap((x) => [...x.messageIds]));
        let id: number;
        do id = 1 + randomInt(0xffff);
        while (used.has(id));
        w.messageIds.add(id);
        return id;
      },
      done: () => void this.waits.delete(w),
    };
  }

  /**
   * Why an arriving C-MOVE sub-operation is refused (a C-STORE status and comment), or undefined to accept it:
   * a running retrieve waits for its SOP Instance UID, or the Move Originator Message ID it carries is one of
   * our C-MOVE requests (an instance of the study the inventory did not list). A Move Originator Message ID or
   * AE title that is not ours refuses it, even for an awaited UID; so does a missing Message ID once the source
   * showed that it sends ours (Orthanc does; DCMTK's storescu, a forger's tool, sends none).
   */
  admit(req: StoreRequestInfo): { status: number; comment: string } | undefined {
    const r = this.admission(req);
    return 'refusal' in r ? r.refusal : undefined;
  }

  /** As admit, and whether the arrival carried the Move Originator Message ID of one of our C-MOVEs. */
  admission(
    req: StoreRequestInfo,
  ): { refusal: { status: number; comment: string } } | { byMessageId: boolean } {
    const r = this.decide(req);
    if (r === undefined) return { byMessageId: req.moveOriginatorMessageId !== undefined };
    return { refusal: r };
  }

  private decide(req: StoreRequestInfo): { status: number; comment: string } | undefined {
    const waits = [...this.waits];
    const ae = req.moveOriginatorAeTitle?.trim();
    if (ae && !waits.some((w) => w.originatorAe === undefined || w.originatorAe === ae))
      return { status: 0x0124, comment: `Move Originator AE ${ae} is not pacshift's` };
    const id = req.moveOriginatorMessageId;
    if (id !== undefined) {
      const ours = waits.filter((w) => w.messageIds.has(id));
      for (const w of ours) w.sawMessageId = true;
      if (ours.length > 0) return undefined;
      return {
        status: 0x0124,
        comment: `Move Originator Message ID ${id} is not one of our C-MOVE requests`,
      };
    }
    const awaiting = waits.filter((w) => w.uids.has(req.sopInstanceUid));
    if (awaiting.length === 0)
      return { status: 0x0124, comment: 'not an instance of a retrieve pacshift is waiting for' };
    if (awaiting.every((w) => w.sawMessageId))
      return { status: 0x0124, comment: 'no Move Originator Message ID, where the source sends ours' };
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
