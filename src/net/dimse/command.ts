/**
 * DIMSE command sets (PS3.7 Section 9.3, E.1): group 0000, always Implicit VR Little Endian.
 * Encoding and decoding are table-driven; unknown command elements survive decoding as raw bytes.
 */

type CommandVr = 'UI' | 'US' | 'UL' | 'AE' | 'LO' | 'AT' | 'SH';

/** Command elements (PS3.7 Table E.1-1), keyword → tag and VR. */
export const COMMAND_ELEMENTS = {
  CommandGroupLength: { tag: 0x00000000, vr: 'UL' },
  AffectedSOPClassUID: { tag: 0x00000002, vr: 'UI' },
  RequestedSOPClassUID: { tag: 0x00000003, vr: 'UI' },
  CommandField: { tag: 0x00000100, vr: 'US' },
  MessageID: { tag: 0x00000110, vr: 'US' },
  MessageIDBeingRespondedTo: { tag: 0x00000120, vr: 'US' },
  MoveDestination: { tag: 0x00000600, vr: 'AE' },
  Priority: { tag: 0x00000700, vr: 'US' },
  CommandDataSetType: { tag: 0x00000800, vr: 'US' },
  Status: { tag: 0x00000900, vr: 'US' },
  OffendingElement: { tag: 0x00000901, vr: 'AT' },
  ErrorComment: { tag: 0x00000902, vr: 'LO' },
  ErrorID: { tag: 0x00000903, vr: 'US' },
  AffectedSOPInstanceUID: { tag: 0x00001000, vr: 'UI' },
  RequestedSOPInstanceUID: { tag: 0x00001001, vr: 'UI' },
  EventTypeID: { tag: 0x00001002, vr: 'US' },
  AttributeIdentifierList: { tag: 0x00001005, vr: 'AT' },
  ActionTypeID: { tag: 0x00001008, vr: 'US' },
  NumberOfRemainingSuboperations: { tag: 0x00001020, vr: 'US' },
  NumberOfCompletedSuboperations: { tag: 0x00001021, vr: 'US' },
  NumberOfFailedSuboperations: { tag: 0x00001022, vr: 'US' },
  NumberOfWarningSuboperations: { tag: 0x00001023, vr: 'US' },
  MoveOriginatorApplicationEntityTitle: { tag: 0x00001030, vr: 'AE' },
  MoveOriginatorMessageID: { tag: 0x00001031, vr: 'US' },
} as const satisfies Record<string, { tag: number; vr: CommandVr }>;

export type CommandKeyword = keyof typeof COMMAND_ELEMENTS;

/** Command Field values (PS3.7 E.1). */
export const CommandField = {
  C_STORE_RQ: 0x0001,
  C_STORE_RSP: 0x8001,
  C_GET_RQ: 0x0010,
  C_GET_RSP: 0x8010,
  C_FIND_RQ: 0x0020,
  C_FIND_RSP: 0x8020,
  C_MOVE_RQ: 0x0021,
  C_MOVE_RSP: 0x8021,
  C_ECHO_RQ: 0x0030,
  C_ECHO_RSP: 0x8030,
  N_EVENT_REPORT_RQ: 0x0100,
  N_EVENT_REPORT_RSP: 0x8100,
  N_GET_RQ: 0x0110,
  N_GET_RSP: 0x8110,
  N_SET_RQ: 0x0120,
  N_SET_RSP: 0x8120,
  N_ACTION_RQ: 0x0130,
  N_ACTION_RSP: 0x8130,
  N_CREATE_RQ: 0x0140,
  N_CREATE_RSP: 0x8140,
  N_DELETE_RQ: 0x0150,
  N_DELETE_RSP: 0x8150,
  C_CANCEL_RQ: 0x0fff,
} as const;

export const commandName = (field: number): string =>
  Object.entries(CommandField)
    .find(([, v]) => v === field)?.[0]
    .replace(/_/g, '-') ?? `0x${field.toString(16)}`;

/** (0000,0800): 0x0101 means no data set follows. */
export const NO_DATASET = 0x0101;
export const DATASET_PRESENT = 0x0000;

export const Priority = { MEDIUM: 0, HIGH: 1, LOW: 2 } as const;

export type CommandValue = string | number | number[];

/** A decoded command set: keyword → value, plus elements we do not know, raw. */
export interface Command {
  CommandField: number;
  MessageID?: number;
  MessageIDBeingRespondedTo?: number;
  AffectedSOPClassUID?: string;
  RequestedSOPClassUID?: string;
  AffectedSOPInstanceUID?: string;
  RequestedSOPInstanceUID?: string;
  MoveDestination?: string;
  Priority?: number;
  CommandDataSetType: number;
  Status?: number;
  OffendingElement?: number[];
  ErrorComment?: string;
  ErrorID?: number;
  EventTypeID?: number;
  AttributeIdentifierList?: number[];
  ActionTypeID?: number;
  NumberOfRemainingSuboperations?: number;
  NumberOfCompletedSuboperations?: number;
  NumberOfFailedSuboperations?: number;
  NumberOfWarningSuboperations?: number;
  MoveOriginatorApplicationEntityTitle?: string;
  MoveOriginatorMessageID?: number;
  unknown?: { tag: number; value: Buffer }[];
}

const BY_TAG = new Map<number, { keyword: CommandKeyword; vr: CommandVr }>(
  Object.entries(COMMAND_ELEMENTS).map(([k, v]) => [v.tag, { keyword: k as CommandKeyword, vr: v.vr }]),
);

function encodeValue(vr: CommandVr, v: CommandValue): Buffer {
  switch (vr) {
    case 'US': {
      const b = Buffer.alloc(2);
      b.writeUInt16LE(v as number);
      return b;
    }
    case 'UL': {
      const b = Buffer.alloc(4);
      b.writeUInt32LE(v as number);
      return b;
    }
    case 'AT': {
      const tags = v as number[];
      const b = Buffer.alloc(4 * tags.length);
      tags.forEach((t, i) => {
        b.writeUInt16LE(t >>> 16, 4 * i);
        b.writeUInt16LE(t & 0xffff, 4 * i + 2);
      });
      return b;
    }
    case 'UI': {
      const s = v as string;
      return Buffer.from(s.length % 2 ? `${s}\0` : s, 'latin1');
    }
    default: {
      const s = v as string;
      return Buffer.from(s.length % 2 ? `${s} ` : s, 'latin1');
    }
  }
}

/** Encode a command set, with (0000,0000) computed, elements in ascending tag order. */
export function encodeCommand(cmd: Command): Buffer {
  const parts: { tag: number; value: Buffer }[] = [];
  for (const [k, v] of Object.entries(cmd)) {
    if (v === undefined || k === 'unknown') continue;
    const def = COMMAND_ELEMENTS[k as CommandKeyword];
    if (!def) throw new Error(`not a command element: ${k}`);
    parts.push({ tag: def.tag, value: encodeValue(def.vr, v as CommandValue) });
  }
  for (const u of cmd.unknown ?? []) parts.push(u);
  parts.sort((a, b) => a.tag - b.tag);
  const size = parts.reduce((n, p) => n + 8 + p.value.length, 0);
  const out = Buffer.alloc(12 + size);
  out.writeUInt32LE(0x00000000, 0);
  out.writeUInt32LE(4, 4);
  out.writeUInt32LE(size, 8);
  let off = 12;
  for (const p of parts) {
    out.writeUInt16LE(p.tag >>> 16, off);
    out.writeUInt16LE(p.tag & 0xffff, off + 2);
    out.writeUInt32LE(p.value.length, off + 4);
    p.value.copy(out, off + 8);
    off += 8 + p.value.length;
  }
  return out;
}

export class CommandDecodeError extends Error {}

export function decodeCommand(buf: Buffer): Command {
  const out: Record<string, unknown> = {};
  const unknown: { tag: number; value: Buffer }[] = [];
  let off = 0;
  while (off < buf.length) {
    if (off + 8 > buf.length) throw new CommandDecodeError('command set truncated in an element header');
    const tag = ((buf.readUInt16LE(off) << 16) | buf.readUInt16LE(off + 2)) >>> 0;
    const len = buf.readUInt32LE(off + 4);
    if (tag >>> 16 !== 0) throw new CommandDecodeError(`element outside group 0000 in a command set`);
    if (off + 8 + len > buf.length) throw new CommandDecodeError('command element overruns the command set');
    const v = buf.subarray(off + 8, off + 8 + len);
    off += 8 + len;
    if (tag === 0) continue;
    const def = BY_TAG.get(tag);
    if (!def) {
      unknown.push({ tag, value: Buffer.from(v) });
      continue;
    }
    switch (def.vr) {
      case 'US':
        if (len < 2) throw new CommandDecodeError(`${def.keyword} too short`);
        out[def.keyword] = v.readUInt16LE(0);
        break;
      case 'UL':
        out[def.keyword] = v.readUInt32LE(0);
        break;
      case 'AT': {
        const tags: number[] = [];
        for (let i = 0; i + 4 <= len; i += 4)
          tags.push(((v.readUInt16LE(i) << 16) | v.readUInt16LE(i + 2)) >>> 0);
        out[def.keyword] = tags;
        break;
      }
      default:
        out[def.keyword] = v
          .toString('latin1')
          .replace(/[\0 ]+$/, '')
          .replace(/^ +/, '');
    }
  }
  if (typeof out.CommandField !== 'number')
    throw new CommandDecodeError('command set without (0000,0100) Command Field');
  if (typeof out.CommandDataSetType !== 'number') out.CommandDataSetType = NO_DATASET;
  if (unknown.length) out.unknown = unknown;
  return out as unknown as Command;
}

export const hasDataset = (cmd: Command): boolean => cmd.CommandDataSetType !== NO_DATASET;
