/**
 * C-MOVE / C-GET sub-operations: one C-STORE per instance, counted (remaining, completed, failed,
 * warning), pending responses every N, stopped by a C-CANCEL; and the final status with the
 * Failed SOP Instance UID List (PS3.4 C.4.2.1.4, C.4.3.1.4).
 */
import type { SmallDataset } from '../dicom/small-dataset.js';
import type { StoreOutcome } from '../net/services/store-scu.js';
import { FAILED_SOP_INSTANCE_UID_LIST } from './attributes.js';

export interface SubOperationCounts {
  remaining: number;
  completed: number;
  failed: number;
  warning: number;
}

export type SubOperationOutcome = 'completed' | 'warning' | 'failed';

export interface SubOperationsResult {
  counts: SubOperationCounts;
  failedUids: string[];
  cancelled: boolean;
  /** The first failure's description (for the final response's Error Comment). */
  firstFailure?: string;
}

export const outcomeOf = (o: StoreOutcome): SubOperationOutcome =>
  !o.ok ? 'failed' : o.entry.category === 'warning' ? 'warning' : 'completed';

export const describeStoreFailure = (o: StoreOutcome): string | undefined => {
  if (o.ok) return undefined;
  if (o.failure) return `${o.failure.kind}: ${o.failure.message}`;
  return `C-STORE status ${(o.status ?? 0xffff).toString(16).toUpperCase().padStart(4, '0')}${o.entry ? ` (${o.entry.meaning})` : ''}`;
};

export async function runSubOperations<T extends { sopInstanceUid: string }>(
  items: readonly T[],
  send: (item: T) => Promise<{ outcome: SubOperationOutcome; why?: string }>,
  opts: {
    cancelled(): boolean;
    pendingEvery: number;
    onPending(c: SubOperationCounts): Promise<unknown> | void;
  },
): Promise<SubOperationsResult> {
  const counts: SubOperationCounts = { remaining: items.length, completed: 0, failed: 0, warning: 0 };
  const failedUids: string[] = [];
  let firstFailure: string | undefined;
  let sinceLast = 0;
  for (const item of items) {
    if (opts.cancelled()) return { counts, failedUids, cancelled: true, firstFailure };
    const r = await send(item);
    counts.remaining--;
    counts[r.outcome]++;
    if (r.outcome === 'failed') {
      failedUids.push(item.sopInstanceUid);
      firstFailure ??= r.why;
    }
    if (counts.remaining > 0 && ++sinceLast >= opts.pendingEvery) {
      sinceLast = 0;
      await opts.onPending({ ...counts });
    }
  }
  return { counts, failedUids, cancelled: false, firstFailure };
}

/** Counts travel as US: a retrieve of more than 65535 instances reports 65535. */
const us = (n: number): number => Math.min(n, 0xffff);

export function countFields(c: SubOperationCounts, withRemaining: boolean) {
  return {
    NumberOfRemainingSuboperations: withRemaining ? us(c.remaining) : undefined,
    NumberOfCompletedSuboperations: us(c.completed),
    NumberOfFailedSuboperations: us(c.failed),
    NumberOfWarningSuboperations: us(c.warning),
  };
}

/** FE00 cancelled; A702 every sub-operation failed; B000 some failed or warned; 0000 otherwise. */
export function finalStatus(r: SubOperationsResult): number {
  if (r.cancelled) return 0xfe00;
  const total = r.counts.completed + r.counts.failed + r.counts.warning;
  if (total > 0 && r.counts.failed === total) return 0xa702;
  if (r.counts.failed > 0 || r.counts.warning > 0) return 0xb000;
  return 0x0000;
}

/** A UI value has a 16-bit length in explicit VR: the list stops before it would overflow. */
const MAX_LIST_BYTES = 0xfff0;

/** The final response's identifier: the Failed SOP Instance UID List, when any failed (cut to fit one element). */
export function failedListIdentifier(r: SubOperationsResult): SmallDataset | undefined {
  if (r.failedUids.length === 0) return undefined;
  const list: string[] = [];
  let bytes = 0;
  for (const uid of r.failedUids) {
    if (bytes + uid.length + 1 > MAX_LIST_BYTES) break;
    list.push(uid);
    bytes += uid.length + 1;
  }
  return new Map([[FAILED_SOP_INSTANCE_UID_LIST, { vr: 'UI', value: list }]]);
}
