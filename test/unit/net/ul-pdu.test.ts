/**
 * The Upper Layer PDU codec (src/net/ul/pdu.ts) against PS3.8 Section 9.3: every PDU type round-trips, the
 * fixed layouts are the standard's byte for byte, user information sub-items (role selection, asynchronous
 * operations window, extended negotiation, user identity passed through raw) survive, and malformed input
 * of any kind is a PduDecodeError — never another exception.
 */
import { describe, expect, it } from 'vitest';
import { ItemType, PduType } from '../../../src/net/ul/constants.js';
import {
  type AssociateAc,
  type AssociateRq,
  PduDecodeError,
  decodeControlPdu,
  encodeAbort,
  encodeAssociateAc,
  encodeAssociateRj,
  encodeAssociateRq,
  encodeReleaseRp,
  encodeReleaseRq,
} from '../../../src/net/ul/pdu.js';

const CT = '1.2.840.10008.5.1.4.1.1.2';
const MR = '1.2.840.10008.5.1.4.1.1.4';
const IMPLICIT = '1.2.840.10008.1.2';
const EXPLICIT = '1.2.840.10008.1.2.1';

/** A user identity negotiation sub-item body (PS3.7 D.3.3.7): type 2 (user + passcode), response requested. */
const USER_IDENTITY_RQ = Buffer.concat([
  Buffer.from([2, 1, 0, 4]),
  Buffer.from('user'),
  Buffer.from([0, 4]),
  Buffer.from('pass'),
]);
const USER_IDENTITY_AC = Buffer.concat([Buffer.from([0, 5]), Buffer.from('token')]);

const RQ: Omit<AssociateRq, 'type'> = {
  protocolVersion: 1,
  calledAeTitle: 'ARCHIVE',
  callingAeTitle: 'PACSHIFT',
  applicationContext: '1.2.840.10008.3.1.1.1',
  presentationContexts: [
    { id: 1, abstractSyntax: CT, transferSyntaxes: [EXPLICIT, IMPLICIT] },
    { id: 3, abstractSyntax: MR, transferSyntaxes: [IMPLICIT] },
    { id: 255, abstractSyntax: '1.2.840.10008.1.1', transferSyntaxes: [IMPLICIT] },
  ],
  userInformation: {
    maxPduLength: 262_144,
    implementationClassUid: '1.2.826.0.1.3680043.10.1444.1.1',
    implementationVersionName: 'PACSHIFT_010',
    asyncOps: { invoked: 5, performed: 3 },
    roleSelections: [
      { sopClassUid: CT, scuRole: false, scpRole: true },
      { sopClassUid: MR, scuRole: true, scpRole: true },
    ],
    extendedNegotiations: [{ sopClassUid: '1.2.840.10008.5.1.4.1.2.2.1', info: Buffer.from([1, 1, 0, 1]) }],
    otherItems: [{ type: ItemType.UserIdentityRq, data: USER_IDENTITY_RQ }],
  },
};

const AC: Omit<AssociateAc, 'type'> = {
  protocolVersion: 1,
  calledAeTitle: 'ARCHIVE',
  callingAeTitle: 'PACSHIFT',
  applicationContext: '1.2.840.10008.3.1.1.1',
  presentationContexts: [
    { id: 1, result: 0, transferSyntax: EXPLICIT },
    { id: 3, result: 3, transferSyntax: '' },
    { id: 255, result: 4, transferSyntax: '' },
  ],
  userInformation: {
    maxPduLength: 0,
    implementationClassUid: '1.2.3.4.5',
    implementationVersionName: 'OTHER',
    asyncOps: { invoked: 1, performed: 1 },
    roleSelections: [{ sopClassUid: CT, scuRole: false, scpRole: true }],
    extendedNegotiations: [],
    otherItems: [{ type: ItemType.UserIdentityAc, data: USER_IDENTITY_AC }],
  },
};

const body = (pdu: Buffer): Buffer => pdu.subarray(6);

/** The (type, offset, length) of each item of an associate PDU body, from offset 68. */
function itemsOf(b: Buffer, start = 68, end = b.length): { type: number; offset: number; length: number }[] {
  const out: { type: number; offset: number; length: number }[] = [];
  for (let p = start; p < end; p += 4 + b.readUInt16BE(p + 2))
    out.push({ type: b[p]!, offset: p, length: b.readUInt16BE(p + 2) });
  return out;
}

/** A small deterministic PRNG (mulberry32) so fuzz failures reproduce. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** decode, or the class name of what it threw. */
function decodeOrError(type: number, b: Buffer): string {
  try {
    decodeControlPdu(type, b);
    return 'decoded';
  } catch (e) {
    return e instanceof PduDecodeError
      ? 'PduDecodeError'
      : `${(e as Error).constructor.name}: ${(e as Error).message}`;
  }
}

describe('A-ASSOCIATE-RQ', () => {
  const pdu = encodeAssociateRq(RQ);

  it('round-trips every field, sub-items included', () => {
    expect(decodeControlPdu(pdu[0]!, body(pdu))).toEqual({ type: 'associate-rq', ...RQ });
  });

  it('has the PS3.8 Table 9-11 layout: type 01, length, protocol version 1, AE titles in 16 space-padded bytes', () => {
    expect(pdu[0]).toBe(PduType.AssociateRq);
    expect(pdu[1]).toBe(0);
    expect(pdu.readUInt32BE(2)).toBe(pdu.length - 6);
    expect(pdu.readUInt16BE(6)).toBe(1);
    expect(pdu.readUInt16BE(8)).toBe(0);
    expect(pdu.toString('latin1', 10, 26)).toBe('ARCHIVE         ');
    expect(pdu.toString('latin1', 26, 42)).toBe('PACSHIFT        ');
    expect(pdu.subarray(42, 74).equals(Buffer.alloc(32))).toBe(true);
  });

  it('orders items as PS3.8 9.3.2 requires: application context, presentation contexts, user information', () => {
    const items = itemsOf(body(pdu));
    expect(items.map((i) => i.type)).toEqual([0x10, 0x20, 0x20, 0x20, 0x50]);
    const ui = items[4]!;
    const sub = itemsOf(body(pdu), ui.offset + 4, ui.offset + 4 + ui.length).map((i) => i.type);
    expect(sub).toEqual([0x51, 0x52, 0x53, 0x54, 0x54, 0x55, 0x56, 0x58]);
  });

  it('encodes a presentation context as id, three reserved bytes, abstract syntax, transfer syntaxes', () => {
    const pc = itemsOf(body(pdu))[1]!;
    const b = body(pdu).subarray(pc.offset + 4, pc.offset + 4 + pc.length);
    expect([...b.subarray(0, 4)]).toEqual([1, 0, 0, 0]);
    expect(itemsOf(b, 4).map((i) => i.type)).toEqual([0x30, 0x40, 0x40]);
  });

  it('encodes role selection as UID length, UID, SCU role, SCP role (PS3.7 D.3.3.4)', () => {
    const ui = itemsOf(body(pdu))[4]!;
    const role = itemsOf(body(pdu), ui.offset + 4, ui.offset + 4 + ui.length).find((i) => i.type === 0x54)!;
    const b = body(pdu).subarray(role.offset + 4, role.offset + 4 + role.length);
    expect(b.readUInt16BE(0)).toBe(CT.length);
    expect(b.toString('latin1', 2, 2 + CT.length)).toBe(CT);
    expect([b[2 + CT.length], b[3 + CT.length]]).toEqual([0, 1]);
  });

  it('encodes the asynchronous operations window as two 16-bit numbers', () => {
    const ui = itemsOf(body(pdu))[4]!;
    const w = itemsOf(body(pdu), ui.offset + 4, ui.offset + 4 + ui.length).find((i) => i.type === 0x53)!;
    expect(w.length).toBe(4);
    expect(body(pdu).readUInt16BE(w.offset + 4)).toBe(5);
    expect(body(pdu).readUInt16BE(w.offset + 6)).toBe(3);
  });

  it('without optional sub-items decodes with none (maximum length 0 = unlimited)', () => {
    const bare = {
      ...RQ,
      userInformation: {
        maxPduLength: 0,
        implementationClassUid: '1.2.3',
        roleSelections: [],
        extendedNegotiations: [],
        otherItems: [],
      },
    };
    const d = decodeControlPdu(PduType.AssociateRq, body(encodeAssociateRq(bare))) as AssociateRq;
    expect(d.userInformation).toEqual(bare.userInformation);
    expect(d.userInformation.asyncOps).toBeUndefined();
    expect(d.userInformation.implementationVersionName).toBeUndefined();
  });

  it('decodes UIDs padded with a NUL and AE titles with leading spaces', () => {
    const rq = Buffer.from(pdu);
    rq.write(' CALLED         ', 10, 'latin1');
    const odd = {
      ...RQ,
      presentationContexts: [{ id: 1, abstractSyntax: '1.2.3\0', transferSyntaxes: [`${IMPLICIT}\0`] }],
    };
    const d = decodeControlPdu(PduType.AssociateRq, body(encodeAssociateRq(odd))) as AssociateRq;
    expect(d.presentationContexts[0]).toEqual({
      id: 1,
      abstractSyntax: '1.2.3',
      transferSyntaxes: [IMPLICIT],
    });
    expect((decodeControlPdu(PduType.AssociateRq, body(rq)) as AssociateRq).calledAeTitle).toBe('CALLED');
  });

  it('truncates AE titles to 16 characters', () => {
    const long = encodeAssociateRq({ ...RQ, calledAeTitle: 'ABCDEFGHIJKLMNOPQRST' });
    expect((decodeControlPdu(PduType.AssociateRq, body(long)) as AssociateRq).calledAeTitle).toBe(
      'ABCDEFGHIJKLMNOP',
    );
  });
});

describe('A-ASSOCIATE-AC', () => {
  const pdu = encodeAssociateAc(AC);

  it('round-trips, accepted and refused contexts and the user identity answer (passed through raw)', () => {
    expect(decodeControlPdu(pdu[0]!, body(pdu))).toEqual({ type: 'associate-ac', ...AC });
  });

  it('encodes each context as id, reserved, result, reserved and a transfer syntax sub-item (PS3.8 Table 9-18)', () => {
    const items = itemsOf(body(pdu));
    expect(items.map((i) => i.type)).toEqual([0x10, 0x21, 0x21, 0x21, 0x50]);
    const refused = items[2]!;
    const b = body(pdu).subarray(refused.offset + 4, refused.offset + 4 + refused.length);
    expect([...b.subarray(0, 4)]).toEqual([3, 0, 3, 0]);
    // present but not significant when refused (9.3.3.2)
    expect(itemsOf(b, 4)).toEqual([{ type: 0x40, offset: 4, length: 0 }]);
  });
});

describe('fixed-size PDUs (PS3.8 Tables 9-21, 9-24, 9-25, 9-26)', () => {
  it('A-ASSOCIATE-RJ: 03 00, length 4, reserved, result, source, reason', () => {
    const rj = encodeAssociateRj(2, 3, 1);
    expect([...rj]).toEqual([3, 0, 0, 0, 0, 4, 0, 2, 3, 1]);
    expect(decodeControlPdu(3, body(rj))).toEqual({ type: 'associate-rj', result: 2, source: 3, reason: 1 });
  });

  it('A-RELEASE-RQ and -RP: length 4, reserved', () => {
    expect([...encodeReleaseRq()]).toEqual([5, 0, 0, 0, 0, 4, 0, 0, 0, 0]);
    expect([...encodeReleaseRp()]).toEqual([6, 0, 0, 0, 0, 4, 0, 0, 0, 0]);
    expect(decodeControlPdu(5, body(encodeReleaseRq()))).toEqual({ type: 'release-rq' });
    expect(decodeControlPdu(6, body(encodeReleaseRp()))).toEqual({ type: 'release-rp' });
  });

  it('A-ABORT: 07 00, length 4, two reserved bytes, source, reason', () => {
    const a = encodeAbort(2, 6);
    expect([...a]).toEqual([7, 0, 0, 0, 0, 4, 0, 0, 2, 6]);
    expect(decodeControlPdu(7, body(a))).toEqual({ type: 'abort', source: 2, reason: 6 });
  });

  it('A-ASSOCIATE-RJ and A-ABORT of another length are refused', () => {
    expect(() => decodeControlPdu(3, Buffer.alloc(5))).toThrow(PduDecodeError);
    expect(() => decodeControlPdu(7, Buffer.alloc(3))).toThrow(PduDecodeError);
  });

  it('an unknown PDU type is refused', () => {
    expect(() => decodeControlPdu(0x0a, Buffer.alloc(4))).toThrow(/unknown PDU type 0xa/);
    expect(() => decodeControlPdu(PduType.PDataTf, Buffer.alloc(4))).toThrow(PduDecodeError);
  });
});

describe('malformed associate PDUs are PduDecodeErrors', () => {
  const rq = body(encodeAssociateRq(RQ));
  const ac = body(encodeAssociateAc(AC));

  it('every strict prefix of an A-ASSOCIATE-RQ or -AC body is refused (truncated)', () => {
    for (const [type, b] of [
      [1, rq],
      [2, ac],
    ] as const) {
      const outcomes = new Set<string>();
      for (let n = 0; n < b.length; n++) outcomes.add(decodeOrError(type, b.subarray(0, n)));
      expect([...outcomes]).toEqual(['PduDecodeError']);
    }
  });

  it('an item whose length overruns the PDU is refused', () => {
    for (const it of itemsOf(rq)) {
      const b = Buffer.from(rq);
      b.writeUInt16BE(it.length + (b.length - it.offset), it.offset + 2);
      expect(() => decodeControlPdu(1, b)).toThrow(/overruns/);
    }
  });

  it('a sub-item whose length overruns its item is refused', () => {
    const ui = itemsOf(rq).find((i) => i.type === 0x50)!;
    for (const sub of itemsOf(rq, ui.offset + 4, ui.offset + 4 + ui.length)) {
      const b = Buffer.from(rq);
      b.writeUInt16BE(sub.length + 100, sub.offset + 2);
      expect(decodeOrError(1, b)).toBe('PduDecodeError');
    }
  });

  it('a missing user information item is refused', () => {
    const ui = itemsOf(rq).find((i) => i.type === 0x50)!;
    expect(() => decodeControlPdu(1, rq.subarray(0, ui.offset))).toThrow(/user information/);
  });

  it('an item of the wrong kind (an AC presentation context in an RQ) is refused', () => {
    const b = Buffer.from(rq);
    b[itemsOf(rq)[1]!.offset] = 0x21;
    expect(() => decodeControlPdu(1, b)).toThrow(PduDecodeError);
  });

  // Short sub-items: fixed fields that do not fit (PS3.7 D.3.3.4, D.3.3.5, D.1).
  const SHORT: [string, Buffer][] = [
    ['role selection of length 0', Buffer.from([0x54, 0, 0, 0])],
    ['role selection of length 1', Buffer.from([0x54, 0, 0, 1, 0])],
    ['role selection without its role bytes', Buffer.from([0x54, 0, 0, 3, 0, 1, 0x31])],
    ['extended negotiation of length 0', Buffer.from([0x56, 0, 0, 0])],
    ['extended negotiation of length 1', Buffer.from([0x56, 0, 0, 1, 0])],
    ['extended negotiation whose UID length overruns it', Buffer.from([0x56, 0, 0, 3, 0, 9, 0x31])],
    ['maximum length of 2 bytes', Buffer.from([0x51, 0, 0, 2, 0, 0])],
    ['asynchronous operations window of 2 bytes', Buffer.from([0x53, 0, 0, 2, 0, 1])],
  ];

  it.each(SHORT)('a user information %s is refused', (_what, sub) => {
    const ui = itemsOf(rq).find((i) => i.type === 0x50)!;
    const b = Buffer.concat([rq, sub]);
    b.writeUInt16BE(ui.length + sub.length, ui.offset + 2);
    expect(decodeOrError(1, b)).toBe('PduDecodeError');
  });

  it('random corruption of an RQ or AC decodes or is a PduDecodeError, nothing else (5000 mutants each)', () => {
    const rnd = prng(0x5eed);
    const other = new Map<string, number>();
    for (const [type, base] of [
      [1, rq],
      [2, ac],
    ] as const) {
      for (let i = 0; i < 5_000; i++) {
        const b = Buffer.from(base);
        const edits = 1 + Math.floor(rnd() * 4);
        for (let e = 0; e < edits; e++) b[Math.floor(rnd() * b.length)] = Math.floor(rnd() * 256);
        const end = rnd() < 0.3 ? Math.floor(rnd() * b.length) : b.length;
        const r = decodeOrError(type, b.subarray(0, end));
        if (r !== 'decoded' && r !== 'PduDecodeError') other.set(r, (other.get(r) ?? 0) + 1);
      }
    }
    expect(Object.fromEntries(other)).toEqual({});
  });
});
