/**
 * The streaming PDU framer (src/net/ul/pdu-reader.ts): the same events whatever the chunking of the byte
 * stream (one byte at a time, random cuts), P-DATA delivered as slices of the received chunks, and anything
 * over the negotiated maximum or otherwise broken reported once as `invalid`, after which nothing is emitted.
 */
import { describe, expect, it } from 'vitest';
import { PduReader, type PduReaderEvent } from '../../../src/net/ul/pdu-reader.js';
import { encodeAbort, encodeAssociateAc, encodeReleaseRq } from '../../../src/net/ul/pdu.js';

/** One P-DATA-TF PDU carrying the given PDVs (built by hand from PS3.8 9.3.5). */
function pdata(...pdvs: { ctx: number; command: boolean; last: boolean; data: Buffer }[]): Buffer {
  const items = pdvs.map((p) => {
    const h = Buffer.alloc(6);
    h.writeUInt32BE(p.data.length + 2, 0);
    h[4] = p.ctx;
    h[5] = (p.command ? 1 : 0) | (p.last ? 2 : 0);
    return Buffer.concat([h, p.data]);
  });
  const body = Buffer.concat(items);
  const h = Buffer.alloc(6);
  h[0] = 4;
  h.writeUInt32BE(body.length, 2);
  return Buffer.concat([h, body]);
}

const bytes = (n: number, seed: number): Buffer =>
  Buffer.from(Array.from({ length: n }, (_, i) => (i * 31 + seed) & 0xff));

const AC = encodeAssociateAc({
  calledAeTitle: 'A',
  callingAeTitle: 'B',
  presentationContexts: [{ id: 1, result: 0, transferSyntax: '1.2.840.10008.1.2' }],
  userInformation: {
    maxPduLength: 16_384,
    implementationClassUid: '1.2.3',
    roleSelections: [],
    extendedNegotiations: [],
    otherItems: [],
  },
});

/** An association's worth of traffic: AC, a command and a data set over several PDUs, an empty PDV, release, abort. */
const STREAM = Buffer.concat([
  AC,
  pdata(
    { ctx: 1, command: true, last: true, data: bytes(80, 1) },
    { ctx: 1, command: false, last: false, data: bytes(3_000, 2) },
  ),
  pdata({ ctx: 1, command: false, last: false, data: bytes(5_000, 3) }),
  pdata({ ctx: 1, command: false, last: true, data: bytes(1, 4) }),
  pdata(
    { ctx: 3, command: true, last: false, data: Buffer.alloc(0) },
    { ctx: 3, command: true, last: true, data: bytes(20, 5) },
  ),
  encodeReleaseRq(),
  encodeAbort(2, 1),
]);

type Normalized =
  | { kind: 'control'; type: string }
  | { kind: 'pdv'; contextId: number; command: boolean; data: string; last: boolean }
  | { kind: 'invalid'; reason: string };

/** Events with a PDV's data pieces joined: what must not depend on how the bytes were cut. */
function normalize(events: PduReaderEvent[]): Normalized[] {
  const out: Normalized[] = [];
  let pieces: Buffer[] = [];
  for (const e of events) {
    if (e.kind === 'pdv-data') pieces.push(Buffer.from(e.data));
    else if (e.kind === 'pdv-end') {
      out.push({
        kind: 'pdv',
        contextId: e.contextId,
        command: e.command,
        data: Buffer.concat(pieces).toString('hex'),
        last: e.last,
      });
      pieces = [];
    } else if (e.kind === 'control') out.push({ kind: 'control', type: e.pdu.type });
    else out.push({ kind: 'invalid', reason: e.reason });
  }
  return out;
}

function feed(chunks: Buffer[], max = 0): PduReaderEvent[] {
  const events: PduReaderEvent[] = [];
  const r = new PduReader(max, (e) => events.push(e));
  for (const c of chunks) r.push(c);
  return events;
}

function randomCuts(b: Buffer, seed: number): Buffer[] {
  let s = seed;
  const rnd = () => (s = (s * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
  const out: Buffer[] = [];
  for (let p = 0; p < b.length;) {
    const n = Math.min(b.length - p, 1 + Math.floor(rnd() * (rnd() < 0.5 ? 8 : 4_000)));
    out.push(Buffer.from(b.subarray(p, p + n)));
    p += n;
  }
  return out;
}

describe('PduReader', () => {
  const whole = normalize(feed([STREAM]));

  it('frames a whole stream into the expected events', () => {
    expect(whole).toEqual([
      { kind: 'control', type: 'associate-ac' },
      { kind: 'pdv', contextId: 1, command: true, data: bytes(80, 1).toString('hex'), last: true },
      { kind: 'pdv', contextId: 1, command: false, data: bytes(3_000, 2).toString('hex'), last: false },
      { kind: 'pdv', contextId: 1, command: false, data: bytes(5_000, 3).toString('hex'), last: false },
      { kind: 'pdv', contextId: 1, command: false, data: bytes(1, 4).toString('hex'), last: true },
      { kind: 'pdv', contextId: 3, command: true, data: '', last: false },
      { kind: 'pdv', contextId: 3, command: true, data: bytes(20, 5).toString('hex'), last: true },
      { kind: 'control', type: 'release-rq' },
      { kind: 'control', type: 'abort' },
    ]);
  });

  it('yields the same events fed one byte at a time', () => {
    const oneByOne = [...STREAM].map((b) => Buffer.from([b]));
    expect(normalize(feed(oneByOne))).toEqual(whole);
  });

  it('yields the same events for 100 random chunkings', () => {
    for (let seed = 1; seed <= 100; seed++) expect(normalize(feed(randomCuts(STREAM, seed)))).toEqual(whole);
  });

  it('delivers PDV data as slices of the received chunk, not copies', () => {
    const chunk = Buffer.from(STREAM);
    const data = feed([chunk]).filter(
      (e): e is Extract<PduReaderEvent, { kind: 'pdv-data' }> => e.kind === 'pdv-data',
    );
    expect(data.length).toBeGreaterThan(0);
    for (const d of data) {
      expect(d.data.buffer).toBe(chunk.buffer);
      expect(d.data.byteOffset).toBeGreaterThanOrEqual(chunk.byteOffset);
      expect(d.data.byteOffset + d.data.length).toBeLessThanOrEqual(chunk.byteOffset + chunk.length);
    }
  });

  it('delivers a PDV that spans chunks in pieces, each a slice, in order', () => {
    const p = pdata({ ctx: 1, command: false, last: true, data: bytes(10_000, 9) });
    const chunks = [p.subarray(0, 3_000), p.subarray(3_000, 7_000), p.subarray(7_000)];
    const pieces = feed(chunks).filter(
      (e): e is Extract<PduReaderEvent, { kind: 'pdv-data' }> => e.kind === 'pdv-data',
    );
    expect(pieces.map((d) => d.data.length)).toEqual([3_000 - 12, 4_000, 3_012]);
    pieces.forEach((d, i) => expect(d.data.buffer).toBe(chunks[i]!.buffer));
    expect(Buffer.concat(pieces.map((d) => d.data)).equals(bytes(10_000, 9))).toBe(true);
  });

  it('accepts a P-DATA-TF of exactly the maximum and rejects one byte more', () => {
    const at = pdata({ ctx: 1, command: false, last: true, data: bytes(4_096 - 6, 1) });
    expect(at.readUInt32BE(2)).toBe(4_096);
    expect(normalize(feed([at], 4_096)).map((e) => e.kind)).toEqual(['pdv']);
    const over = pdata({ ctx: 1, command: false, last: true, data: bytes(4_096 - 5, 1) });
    const events = feed([over], 4_096);
    expect(events).toEqual([
      {
        kind: 'invalid',
        reason: 'invalid-pdu-parameter',
        message: expect.stringMatching(/4097 bytes exceeds the negotiated maximum of 4096/),
      },
    ]);
  });

  it('decides on the over-max PDU from its header alone (before its body arrives)', () => {
    const over = pdata({ ctx: 1, command: false, last: true, data: bytes(100_000, 1) });
    expect(feed([over.subarray(0, 6)], 16_384).map((e) => e.kind)).toEqual(['invalid']);
  });

  it('setMaxPduLength applies to the next PDU', () => {
    const events: PduReaderEvent[] = [];
    const r = new PduReader(0, (e) => events.push(e));
    const p = pdata({ ctx: 1, command: false, last: true, data: bytes(5_000, 1) });
    r.push(p);
    r.setMaxPduLength(4_096);
    r.push(p);
    expect(normalize(events).map((e) => e.kind)).toEqual(['pdv', 'invalid']);
  });

  const BROKEN: [string, Buffer, string][] = [
    ['an unknown PDU type', Buffer.from([0x0a, 0, 0, 0, 0, 2, 1, 2]), 'unrecognized-pdu'],
    ['PDU type 0', Buffer.from([0x00, 0, 0, 0, 0, 0]), 'unrecognized-pdu'],
    ['a P-DATA-TF too short for a PDV', Buffer.from([4, 0, 0, 0, 0, 4, 0, 0, 0, 0]), 'invalid-pdu-parameter'],
    ['a PDV length below 2', Buffer.from([4, 0, 0, 0, 0, 6, 0, 0, 0, 1, 1, 3]), 'invalid-pdu-parameter'],
    [
      'a PDV that overruns its PDU',
      Buffer.from([4, 0, 0, 0, 0, 8, 0, 0, 0, 9, 1, 3, 0, 0]),
      'invalid-pdu-parameter',
    ],
    [
      'trailing bytes after the last PDV',
      Buffer.from([4, 0, 0, 0, 0, 9, 0, 0, 0, 3, 1, 3, 7, 0xee, 0xee]),
      'invalid-pdu-parameter',
    ],
    ['a control PDU claiming more than 1 MiB', Buffer.from([1, 0, 0, 0x20, 0, 0]), 'invalid-pdu-parameter'],
    ['an A-ABORT of length 2', Buffer.from([7, 0, 0, 0, 0, 2, 0, 0]), 'invalid-pdu-parameter'],
    [
      'an A-ASSOCIATE-AC shorter than its fixed fields',
      Buffer.from([2, 0, 0, 0, 0, 4, 0, 1, 0, 0]),
      'invalid-pdu-parameter',
    ],
  ];

  it.each(BROKEN)('reports %s once as invalid, and nothing after it', (_what, bad, reason) => {
    const events = feed([Buffer.concat([bad, encodeReleaseRq()]), encodeReleaseRq()]);
    // data already streamed may precede the verdict (it arrives before the PDU is complete), never an end or a control PDU
    expect(events.map((e) => e.kind).filter((k) => k !== 'pdv-data')).toEqual(['invalid']);
    expect(events.at(-1)).toMatchObject({ kind: 'invalid', reason });
  });

  it('a handler that kills the reader stops the events of the chunk being drained', () => {
    const events: PduReaderEvent[] = [];
    const r = new PduReader(0, (e) => {
      events.push(e);
      if (e.kind === 'control' && e.pdu.type === 'abort') r.kill();
    });
    r.push(
      Buffer.concat([
        encodeAbort(0, 0),
        encodeReleaseRq(),
        pdata({ ctx: 1, command: true, last: true, data: bytes(4, 1) }),
      ]),
    );
    r.push(encodeReleaseRq());
    expect(events.map((e) => e.kind)).toEqual(['control']);
  });

  it('a handler that kills the reader during PDV data stops the PDV', () => {
    const events: PduReaderEvent[] = [];
    const r = new PduReader(0, (e) => {
      events.push(e);
      if (e.kind === 'pdv-data') r.kill();
    });
    r.push(
      Buffer.concat([pdata({ ctx: 1, command: false, last: true, data: bytes(100, 1) }), encodeReleaseRq()]),
    );
    expect(events.map((e) => e.kind)).toEqual(['pdv-data']);
  });
});
