/**
 * C-FIND against the source over at most `size` associations, opened on demand and reused. Each
 * answer is classified: complete, capped (a final FE00 we did not ask for, B001, or exactly the
 * configured cap `findLimit`), or failed (a failure status, or the association broke). A failed
 * query is retried on a fresh association before it is reported.
 */
import type { SmallDataset } from '../dicom/small-dataset.js';
import type { DimseChannel } from '../net/dimse/channel.js';
import { hex } from '../net/dimse/status.js';
import { type NetFailure, describeFailure } from '../net/errors.js';
import { type Peer, describePeer, openChannel } from '../net/peer.js';
import { cFind } from '../net/services/find-scu.js';
import { QR, type QueryModel, UNCOMPRESSED_LE } from '../net/services/sop-classes.js';

export type FindAnswer =
  | { readonly kind: 'complete'; readonly status: number; readonly matches: SmallDataset[] }
  /** Incomplete: the source stopped answering at its cap (the matches are a part of the answer). */
  | {
      readonly kind: 'capped';
      readonly status: number;
      readonly matches: SmallDataset[];
      readonly why: string;
    }
  | {
      readonly kind: 'failed';
      readonly status: number | null;
      readonly matches: SmallDataset[];
      readonly error: string;
    };

export interface FindPoolOptions {
  readonly model: QueryModel;
  /** Most associations open at once (source.maxAssociations). */
  readonly size: number;
  /** The source's configured cap: an answer with exactly this many matches is incomplete. */
  readonly findLimit?: number;
  /** Attempts per query (default 3). */
  readonly attempts?: number;
}

interface Slot {
  ch: DimseChannel | undefined;
}

export class FindPool {
  private readonly idle: Slot[] = [];
  private readonly waiters: ((s: Slot) => void)[] = [];
  private created = 0;
  private closed = false;
  /** Queries sent (attempts included). */
  sent = 0;
  /** Associations opened. */
  associations = 0;

  constructor(
    private readonly peer: Peer,
    private readonly opts: FindPoolOptions,
  ) {
    if (!(Number.isInteger(opts.size) && opts.size >= 1)) throw new RangeError('FindPool: size must be >= 1');
  }

  private acquire(): Promise<Slot> {
    const s = this.idle.pop();
    if (s) return Promise.resolve(s);
    if (this.created < this.opts.size) {
      this.created++;
      return Promise.resolve({ ch: undefined });
    }
    return new Promise((r) => this.waiters.push(r));
  }

  private releaseSlot(s: Slot): void {
    const w = this.waiters.shift();
    if (w) w(s);
    else this.idle.push(s);
  }

  private async channel(s: Slot): Promise<{ ok: true; ch: DimseChannel } | { ok: false; error: NetFailure }> {
    if (s.ch && !s.ch.ended) return { ok: true, ch: s.ch };
    s.ch = undefined;
    const r = await openChannel(this.peer, [
      { abstractSyntax: QR[this.opts.model].find, transferSyntaxes: UNCOMPRESSED_LE },
    ]);
    if (!r.ok) return { ok: false, error: r.error };
    this.associations++;
    s.ch = r.value;
    return { ok: true, ch: r.value };
  }

  /** One C-FIND, retried on a fresh association when it got no answer or A7xx; capped and refused ones are not. */
  async find(identifier: SmallDataset): Promise<FindAnswer> {
    const attempts = this.opts.attempts ?? 3;
    let last: FindAnswer | undefined;
    for (let i = 0; i < attempts; i++) {
      if (this.closed) return { kind: 'failed', status: null, matches: [], error: 'inventory stopped' };
      last = await this.once(identifier);
      if (last.kind !== 'failed' || !transient(last.status)) return last;
    }
    return last!;
  }

  private async once(identifier: SmallDataset): Promise<FindAnswer> {
    const slot = await this.acquire();
    try {
      const ch = await this.channel(slot);
      if (!ch.ok)
        return {
          kind: 'failed',
          status: null,
          matches: [],
          error: `${describePeer(this.peer)}: ${describeFailure(ch.error)}`,
        };
      this.sent++;
      const q = cFind(ch.ch, identifier, { model: this.opts.model, timeoutMs: this.peer.dimseTimeoutMs });
      const matches: SmallDataset[] = [];
      for await (const m of q.matches) matches.push(m);
      const r = await q.done;
      if (!r.ok) {
        slot.ch?.assoc.abort();
        slot.ch = undefined;
        return { kind: 'failed', status: null, matches, error: describeFailure(r.error) };
      }
      return classify(
        r.value.status,
        r.value.entry.action,
        r.value.complete,
        r.value.cancelledByUs,
        matches,
        this.opts.findLimit,
        r.value.errorComment,
      );
    } finally {
      this.releaseSlot(slot);
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    const slots = this.idle.splice(0);
    await Promise.all(slots.map(async (s) => (s.ch && !s.ch.ended ? s.ch.assoc.release() : undefined)));
  }
}

/** Worth another attempt: no answer (network, timeout) or out of resources (A7xx); not a refusal. */
const transient = (status: number | null): boolean =>
  status === null || (status >= 0xa700 && status <= 0xa7ff);

/** Complete, capped or failed, from the final status and the number of matches. */
export function classify(
  status: number,
  action: string,
  complete: boolean,
  cancelledByUs: boolean,
  matches: SmallDataset[],
  findLimit: number | undefined,
  comment?: string,
): FindAnswer {
  const code = `0x${hex(status)}`;
  if (complete) {
    if (findLimit !== undefined && matches.length >= findLimit)
      return {
        kind: 'capped',
        status,
        matches,
        why: `${matches.length} matches: the configured cap source.findLimit (${findLimit})`,
      };
    return { kind: 'complete', status, matches };
  }
  if (action === 'incomplete-split' && !cancelledByUs)
    return {
      kind: 'capped',
      status,
      matches,
      why: `final status ${code} after ${matches.length} matches${comment ? ` (${comment.slice(0, 64)})` : ''}`,
    };
  return {
    kind: 'failed',
    status,
    matches,
    error: `final status ${code}${comment ? ` (${comment.slice(0, 64)})` : ''}${status === 0 ? ': an answer could not be decoded' : ''}`,
  };
}
