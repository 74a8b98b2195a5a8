/**
 * The C-MOVE side of sub-operations: C-STORE each instance to the move destination, on one
 * association per group of at most 128 (SOP class, transfer syntax) contexts, each instance in
 * its own transfer syntax (no transcoding). An association that breaks is reopened a few times;
 * one that cannot be opened fails the rest of its group with that cause.
 */
import type { DimseChannel } from '../net/dimse/channel.js';
import { describeFailure } from '../net/errors.js';
import { type Peer, openChannel } from '../net/peer.js';
import {
  KEEPS_ASSOCIATION,
  type SendableInstance,
  groupByContexts,
  proposalsFor,
  storeOne,
} from '../net/services/store-scu.js';
import { type SubOperationOutcome, describeStoreFailure, outcomeOf } from './suboperations.js';

const MAX_RECONNECTS = 3;

export class MoveSender {
  /** Instances in sending order (grouped so that each group fits one association). */
  readonly ordered: SendableInstance[];
  private readonly groupOf = new Map<SendableInstance, number>();
  private readonly groups: SendableInstance[][];
  private channel: { group: number; ch: DimseChannel } | undefined;
  private dead = new Map<number, string>();
  private reconnects = 0;

  constructor(
    private readonly peer: Peer,
    instances: readonly SendableInstance[],
    private readonly origin: { aeTitle: string; messageId: number },
  ) {
    this.groups = groupByContexts(instances);
    this.groups.forEach((g, i) => g.forEach((inst) => this.groupOf.set(inst, i)));
    this.ordered = this.groups.flat();
  }

  /** Send `inst` (as it is now on disk: `actual`, when its file was re-read since it was selected). */
  async send(
    inst: SendableInstance,
    actual: SendableInstance = inst,
  ): Promise<{ outcome: SubOperationOutcome; why?: string }> {
    const g = this.groupOf.get(inst)!;
    const deadWhy = this.dead.get(g);
    if (deadWhy) return { outcome: 'failed', why: deadWhy };
    if (!this.channel || this.channel.group !== g || this.channel.ch.ended) {
      await this.closeChannel();
      const opened = await openChannel(this.peer, proposalsFor(this.groups[g]!));
      if (!opened.ok) {
        const why = `cannot open an association to ${this.peer.aeTitle}: ${describeFailure(opened.error)}`;
        this.dead.set(g, why);
        return { outcome: 'failed', why };
      }
      this.channel = { group: g, ch: opened.value };
    }
    const o = await storeOne(this.channel.ch, actual, {
      timeoutMs: this.peer.dimseTimeoutMs,
      moveOriginator: this.origin,
    });
    if (!o.ok && o.failure && !KEEPS_ASSOCIATION.has(o.failure.kind)) {
      // The association is gone or in an unknown state: the next instance opens a new one.
      await this.closeChannel();
      if (++this.reconnects > MAX_RECONNECTS)
        this.dead.set(
          g,
          `gave up after ${MAX_RECONNECTS} broken associations: ${describeFailure(o.failure)}`,
        );
    }
    return { outcome: outcomeOf(o), why: describeStoreFailure(o) };
  }

  async closeChannel(): Promise<void> {
    const c = this.channel;
    this.channel = undefined;
    if (c && !c.ch.ended) await c.ch.assoc.release();
  }
}
