/**
 * DIMSE command sets (src/net/dimse/command.ts) against PS3.7 Section 9.3 and Annex E: implicit VR little
 * endian group 0000, (0000,0000) the length of what follows, ascending tags, even-length values (UIDs padded
 * with NUL, text with a space), unknown elements preserved byte for byte, malformed sets refused with a
 * CommandDecodeError.
 */
import { describe, expect, it } from 'vitest';
import {
  COMMAND_ELEMENTS,
  type Command,
  CommandDecodeError,
  CommandField,
  DATASET_PRESENT,
  NO_DATASET,
  commandName,
  decodeCommand,
  encodeCommand,
  hasDataset,
} from '../../../src/net/dimse/command.js';

/** One implicit VR little endian element, built by hand. */
function el(group: number, element: number, value: Buffer): Buffer {
  const h = Buffer.alloc(8);
  h.writeUInt16LE(group, 0);
  h.writeUInt16LE(element, 2);
  h.writeUInt32LE(value.length, 4);
  return Buffer.concat([h, value]);
}
const us = (n: number) => {
  const b = Buffer.alloc(2);
  b.writeUInt16LE(n);
  return b;
};
const ul = (n: number) => {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n);
  return b;
};
const withGroupLength = (...elements: Buffer[]): Buffer => {
  const rest = Buffer.concat(elements);
  return Buffer.concat([el(0, 0, ul(rest.length)), rest]);
};

/** The elements of an encoded command set: tag, length, offset. */
function elementsOf(b: Buffer): { tag: number; length: number; offset: number }[] {
  const out: { tag: number; length: number; offset: number }[] = [];
  for (let p = 0; p < b.length;) {
    const tag = ((b.readUInt16LE(p) << 16) | b.readUInt16LE(p + 2)) >>> 0;
    const length = b.readUInt32LE(p + 4);
    out.push({ tag, length, offset: p });
    p += 8 + length;
  }
  return out;
}

const STORE_RQ: Command = {
  CommandField: CommandField.C_STORE_RQ,
  MessageID: 7,
  AffectedSOPClassUID: '1.2.840.10008.5.1.4.1.1.2',
  AffectedSOPInstanceUID: '1.2.3.4.5.6.7',
  Priority: 0,
  CommandDataSetType: DATASET_PRESENT,
  MoveOriginatorApplicationEntityTitle: 'MOVER',
  MoveOriginatorMessageID: 3,
};

const SAMPLES: [string, Command][] = [
  ['C-STORE-RQ with move originator', STORE_RQ],
  [
    'C-STORE-RSP with a failure, comment and offending elements',
    {
      CommandField: CommandField.C_STORE_RSP,
      MessageIDBeingRespondedTo: 7,
      AffectedSOPClassUID: '1.2.840.10008.5.1.4.1.1.2',
      AffectedSOPInstanceUID: '1.2.3.4.5.6.7',
      CommandDataSetType: NO_DATASET,
      Status: 0xa900,
      ErrorComment: 'SOP Instance UID mismatch',
      OffendingElement: [0x00080018, 0x00100020],
    },
  ],
  [
    'C-MOVE-RSP with sub-operation counts',
    {
      CommandField: CommandField.C_MOVE_RSP,
      MessageIDBeingRespondedTo: 2,
      AffectedSOPClassUID: '1.2.840.10008.5.1.4.1.2.2.2',
      CommandDataSetType: NO_DATASET,
      Status: 0xff00,
      NumberOfRemainingSuboperations: 10,
      NumberOfCompletedSuboperations: 65535,
      NumberOfFailedSuboperations: 0,
      NumberOfWarningSuboperations: 1,
    },
  ],
  [
    'C-MOVE-RQ with a move destination',
    {
      CommandField: CommandField.C_MOVE_RQ,
      MessageID: 65535,
      AffectedSOPClassUID: '1.2.840.10008.5.1.4.1.2.2.2',
      Priority: 2,
      MoveDestination: 'DEST',
      CommandDataSetType: DATASET_PRESENT,
    },
  ],
  [
    'N-ACTION-RQ',
    {
      CommandField: CommandField.N_ACTION_RQ,
      MessageID: 9,
      RequestedSOPClassUID: '1.2.840.10008.1.20.1',
      RequestedSOPInstanceUID: '1.2.840.10008.1.20.1.1',
      ActionTypeID: 1,
      CommandDataSetType: DATASET_PRESENT,
    },
  ],
  [
    'N-EVENT-REPORT-RQ',
    {
      CommandField: CommandField.N_EVENT_REPORT_RQ,
      MessageID: 1,
      AffectedSOPClassUID: '1.2.840.10008.1.20.1',
      AffectedSOPInstanceUID: '1.2.840.10008.1.20.1.1',
      EventTypeID: 2,
      CommandDataSetType: DATASET_PRESENT,
    },
  ],
  [
    'C-CANCEL-RQ',
    { CommandField: CommandField.C_CANCEL_RQ, MessageIDBeingRespondedTo: 4, CommandDataSetType: NO_DATASET },
  ],
];

describe('command sets', () => {
  it.each(SAMPLES)('%s round-trips', (_name, cmd) => {
    expect(decodeCommand(encodeCommand(cmd))).toEqual(cmd);
  });

  it('a C-ECHO-RQ is byte for byte the PS3.7 layout (hand-assembled)', () => {
    const expected = withGroupLength(
      el(0, 0x0002, Buffer.from('1.2.840.10008.1.1\0', 'latin1')),
      el(0, 0x0100, us(0x0030)),
      el(0, 0x0110, us(5)),
      el(0, 0x0800, us(0x0101)),
    );
    const got = encodeCommand({
      CommandField: CommandField.C_ECHO_RQ,
      MessageID: 5,
      AffectedSOPClassUID: '1.2.840.10008.1.1',
      CommandDataSetType: NO_DATASET,
    });
    expect(got.toString('hex')).toBe(expected.toString('hex'));
    // (0000,0000) UL, length 4, value 56: the bytes after the group length element
    expect(got.readUInt32LE(8)).toBe(56);
  });

  it.each(SAMPLES)(
    '%s: group length is the byte count after it, tags ascend, every value has even length',
    (_name, cmd) => {
      const b = encodeCommand(cmd);
      const els = elementsOf(b);
      expect(els[0]).toEqual({ tag: 0, length: 4, offset: 0 });
      expect(b.readUInt32LE(8)).toBe(b.length - 12);
      const tags = els.map((e) => e.tag);
      expect(tags).toEqual([...tags].sort((x, y) => x - y));
      expect(new Set(tags).size).toBe(tags.length);
      for (const e of els) expect(e.length % 2).toBe(0);
      for (const e of els) expect(e.tag >>> 16).toBe(0);
    },
  );

  it('pads odd-length UIDs with NUL and odd-length text with a space, and strips both when decoding', () => {
    const b = encodeCommand({
      CommandField: CommandField.C_MOVE_RQ,
      MessageID: 1,
      AffectedSOPClassUID: '1.2.3',
      MoveDestination: 'ABC',
      CommandDataSetType: DATASET_PRESENT,
    });
    const els = elementsOf(b);
    const uid = els.find((e) => e.tag === COMMAND_ELEMENTS.AffectedSOPClassUID.tag)!;
    expect(b.subarray(uid.offset + 8, uid.offset + 8 + uid.length).toString('latin1')).toBe('1.2.3\0');
    const ae = els.find((e) => e.tag === COMMAND_ELEMENTS.MoveDestination.tag)!;
    expect(b.subarray(ae.offset + 8, ae.offset + 8 + ae.length).toString('latin1')).toBe('ABC ');
    const d = decodeCommand(b);
    expect(d.AffectedSOPClassUID).toBe('1.2.3');
    expect(d.MoveDestination).toBe('ABC');
  });

  it('even-length UIDs are not padded', () => {
    const b = encodeCommand({
      CommandField: 1,
      AffectedSOPClassUID: '1.2.34',
      CommandDataSetType: NO_DATASET,
    });
    expect(elementsOf(b).find((e) => e.tag === 2)!.length).toBe(6);
  });

  it('decodes UIDs padded with a space (some peers) and AE titles with leading spaces', () => {
    const b = withGroupLength(
      el(0, 0x0002, Buffer.from('1.2.3 ', 'latin1')),
      el(0, 0x0100, us(0x0021)),
      el(0, 0x0600, Buffer.from('  DEST  ', 'latin1')),
      el(0, 0x0800, us(0)),
    );
    expect(decodeCommand(b)).toMatchObject({ AffectedSOPClassUID: '1.2.3', MoveDestination: 'DEST' });
  });

  it('keeps unknown elements (retired or private to group 0000) and re-encodes them unchanged', () => {
    const original = withGroupLength(
      el(0, 0x0002, Buffer.from('1.2.840.10008.1.1\0', 'latin1')),
      el(0, 0x0100, us(0x0030)),
      el(0, 0x0110, us(1)),
      el(0, 0x0800, us(0x0101)),
      el(0, 0x4000, Buffer.from('retired!', 'latin1')), // (0000,4000) Retired Comments
      el(0, 0x5010, Buffer.from('MSGSETID', 'latin1')), // (0000,5010) Retired Message Set ID
    );
    const d = decodeCommand(original);
    expect(d.unknown).toEqual([
      { tag: 0x00004000, value: Buffer.from('retired!', 'latin1') },
      { tag: 0x00005010, value: Buffer.from('MSGSETID', 'latin1') },
    ]);
    expect(encodeCommand(d).equals(original)).toBe(true);
  });

  it('ignores a wrong group length on input and computes the right one on output', () => {
    const good = encodeCommand(STORE_RQ);
    const wrong = Buffer.from(good);
    wrong.writeUInt32LE(3, 8);
    expect(decodeCommand(wrong)).toEqual(STORE_RQ);
    expect(encodeCommand(decodeCommand(wrong)).equals(good)).toBe(true);
  });

  it('CommandDataSetType: 0101 means no data set, any other value means one follows; absent means none', () => {
    expect(hasDataset({ CommandField: 1, CommandDataSetType: NO_DATASET })).toBe(false);
    expect(hasDataset({ CommandField: 1, CommandDataSetType: 0x0000 })).toBe(true);
    expect(hasDataset({ CommandField: 1, CommandDataSetType: 0xfefe })).toBe(true);
    const noType = withGroupLength(el(0, 0x0100, us(0x8030)), el(0, 0x0120, us(1)), el(0, 0x0900, us(0)));
    expect(decodeCommand(noType).CommandDataSetType).toBe(NO_DATASET);
  });

  const BROKEN: [string, Buffer][] = [
    ['an empty buffer', Buffer.alloc(0)],
    [
      'a truncated element header',
      Buffer.concat([withGroupLength(el(0, 0x0100, us(1))), Buffer.from([0, 0, 0x10])]),
    ],
    [
      'an element that overruns the set',
      Buffer.concat([el(0, 0x0100, us(1)), Buffer.from([0, 0, 0x00, 0x09, 0xff, 0, 0, 0, 1])]),
    ],
    [
      'an element outside group 0000',
      withGroupLength(el(0, 0x0100, us(1)), el(8, 0x0018, Buffer.from('1.2\0'))),
    ],
    ['no Command Field', withGroupLength(el(0, 0x0110, us(1)))],
    ['a US element of one byte', withGroupLength(el(0, 0x0100, Buffer.from([1])))],
  ];

  it.each(BROKEN)('refuses %s with a CommandDecodeError', (_what, b) => {
    expect(() => decodeCommand(b)).toThrow(CommandDecodeError);
  });

  it('refuses to encode a key that is not a command element (a programmer error)', () => {
    expect(() =>
      encodeCommand({
        CommandField: 1,
        CommandDataSetType: NO_DATASET,
        PatientName: 'X',
      } as unknown as Command),
    ).toThrow(/not a command element/);
  });

  it('names command fields, and unknown ones in hex', () => {
    expect(commandName(CommandField.C_STORE_RSP)).toBe('C-STORE-RSP');
    expect(commandName(CommandField.N_EVENT_REPORT_RQ)).toBe('N-EVENT-REPORT-RQ');
    expect(commandName(0x0abc)).toBe('0xabc');
  });

  it('command field values are those of PS3.7 Annex E', () => {
    expect(CommandField).toMatchObject({
      C_STORE_RQ: 0x0001,
      C_GET_RQ: 0x0010,
      C_FIND_RQ: 0x0020,
      C_MOVE_RQ: 0x0021,
      C_ECHO_RQ: 0x0030,
      N_EVENT_REPORT_RQ: 0x0100,
      N_GET_RQ: 0x0110,
      N_SET_RQ: 0x0120,
      N_ACTION_RQ: 0x0130,
      N_CREATE_RQ: 0x0140,
      N_DELETE_RQ: 0x0150,
      C_CANCEL_RQ: 0x0fff,
    });
    for (const [k, v] of Object.entries(CommandField)) {
      if (k.endsWith('_RSP'))
        expect(v).toBe((CommandField as Record<string, number>)[k.replace('_RSP', '_RQ')]! | 0x8000);
    }
  });
});
