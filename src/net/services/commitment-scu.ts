/**
 * Storage Commitment Push Model as SCU (PS3.4 Annex J): N-ACTION-RQ asks the target to commit
 * to instances; the result comes in an N-EVENT-REPORT, usually on a new association to our SCP.
 * A commitment says the target holds an instance with that UID and class — useful, not proof of content.
 */
import { randomUUID } from 'node:crypto';
import {
  type SmallDataset,
  decodeSmallDataset,
  encodeSmallDataset,
  encodingOf,
  num,
  str,
} from '../../dicom/small-dataset.js';
import type { DimseChannel } from '../dimse/channel.js';
import { CommandField, DATASET_PRESENT } from '../dimse/command.js';
import { lookupStatus, type StatusEntry } from '../dimse/status.js';
import type { NetFailure } from '../errors.js';
import { STORAGE_COMMITMENT_PUSH, STORAGE_COMMITMENT_PUSH_INSTANCE } from './sop-classes.js';

export const T = {
  TransactionUID: 0x00081195,
  ReferencedSOPSequence: 0x00081199,
  FailedSOPSequence: 0x00081198,
  ReferencedSOPClassUID: 0x00081150,
  ReferencedSOPInstanceUID: 0x00081155,
  FailureReason: 0x00081197,
} as const;

/** A UID under pacshift's root from a random UUID (PS3.5 B.2: 2.25.<uuid as integer>). */
export const newUid = (): string => `2.25.${BigInt(`0x${randomUUID().replace(/-/g, '')}`).toString()}`;

export interface CommitmentRequest {
  transactionUid: string;
  instances: { sopClassUid: string; sopInstanceUid: string }[];
}

export async function requestCommitment(
  ch: DimseChannel,
  instances: { sopClassUid: string; sopInstanceUid: string }[],
  timeoutMs = 60_000,
): Promise<
  | { ok: true; value: { transactionUid: string; status: number; entry: StatusEntry } }
  | { ok: false; error: NetFailure }
> {
  const ctx = ch.findContext(STORAGE_COMMITMENT_PUSH);
  if (!ctx)
    return {
      ok: false,
      error: { kind: 'no-presentation-context', message: 'Storage Commitment Push Model not accepted' },
    };
  const transactionUid = newUid();
  const ds: SmallDataset = new Map();
  ds.set(T.TransactionUID, { vr: 'UI', value: transactionUid });
  ds.set(T.ReferencedSOPSequence, {
    vr: 'SQ',
    value: instances.map((i) => {
      const item: SmallDataset = new Map();
      item.set(T.ReferencedSOPClassUID, { vr: 'UI', value: i.sopClassUid });
      item.set(T.ReferencedSOPInstanceUID, { vr: 'UI', value: i.sopInstanceUid });
      return item;
    }),
  });
  const r = await ch.request(
    ctx.id,
    {
      CommandField: CommandField.N_ACTION_RQ,
      MessageID: ch.nextMessageId(),
      RequestedSOPClassUID: STORAGE_COMMITMENT_PUSH,
      RequestedSOPInstanceUID: STORAGE_COMMITMENT_PUSH_INSTANCE,
      ActionTypeID: 1,
      CommandDataSetType: DATASET_PRESENT,
    },
    encodeSmallDataset(ds, encodingOf(ctx.transferSyntax)),
    { timeoutMs, onResponse: (m) => m.command.Status ?? 0xffff },
  );
  if (!r.ok) return r;
  return { ok: true, value: { transactionUid, status: r.value, entry: lookupStatus('N-ACTION', r.value) } };
}

export interface CommitmentReport {
  transactionUid: string;
  eventTypeId: number;
  committed: { sopClassUid: string; sopInstanceUid: string }[];
  failed: { sopClassUid: string; sopInstanceUid: string; reason: number; entry: StatusEntry }[];
}

export function parseCommitmentReport(
  eventTypeId: number,
  dataset: Buffer,
  transferSyntaxUid: string,
): CommitmentReport {
  const ds = decodeSmallDataset(dataset, encodingOf(transferSyntaxUid));
  const items = (tag: number) => {
    const e = ds.get(tag);
    return Array.isArray(e?.value) ? (e.value as SmallDataset[]) : [];
  };
  return {
    transactionUid: str(ds, T.TransactionUID),
    eventTypeId,
    committed: items(T.ReferencedSOPSequence).map((i) => ({
      sopClassUid: str(i, T.ReferencedSOPClassUID),
      sopInstanceUid: str(i, T.ReferencedSOPInstanceUID),
    })),
    failed: items(T.FailedSOPSequence).map((i) => {
      const reason = num(i, T.FailureReason) ?? 0x0110;
      return {
        sopClassUid: str(i, T.ReferencedSOPClassUID),
        sopInstanceUid: str(i, T.ReferencedSOPInstanceUID),
        reason,
        entry: lookupStatus('STORAGE-COMMITMENT', reason),
      };
    }),
  };
}
