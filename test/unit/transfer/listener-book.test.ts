import { describe, expect, it } from 'vitest';
import { ListenerBook } from '../../../src/transfer/listener-book.js';
import { CORRECTION_EVENT } from '../../../src/verify/against-source.js';
import { TRANSFORM_EVENT } from '../../../src/transform/audit.js';

const req = (
  sopInstanceUid: string,
  more: { moveOriginatorMessageId?: number; moveOriginatorAeTitle?: string } = {},
) => ({
  sopClassUid: '1.2.840.10008.5.1.4.1.1.7',
  sopInstanceUid,
  transferSyntaxUid: '1.2.840.10008.1.2.1',
  callingAeTitle: 'OLDPACS',
  ...more,
});

describe('the listener admits only what a running retrieve waits for', () => {
  it('an awaited UID without Move Originator Message ID is admitted; any other UID is refused (0124)', () => {
    const b = new ListenerBook();
    expect(b.admit(req('1.2.3'))).toMatchObject({ status: 0x0124 });
    const w = b.wait('S', ['1.2.3'], 'PACSHIFT');
    expect(b.admit(req('1.2.3'))).toBeUndefined();
    expect(b.admit(req('1.2.4'))?.comment).toBe('not an instance of a retrieve pacshift is waiting for');
    w.done();
    expect(b.admit(req('1.2.3'))).toMatchObject({ status: 0x0124 });
  });

  it('a Move Originator Message ID must be one of our C-MOVEs (then an unlisted UID of that move is admitted too)', () => {
    const b = new ListenerBook();
    const w = b.wait('S', ['1.2.3'], 'PACSHIFT');
    const id = w.messageId();
    expect(id).toBeGreaterThanOrEqual(1);
    expect(id).toBeLessThanOrEqual(0xffff);
    const other = id === 1 ? 2 : id - 1;
    expect(b.admit(req('1.2.3', { moveOriginatorMessageId: other }))?.comment).toMatch(
      /is not one of our C-MOVE requests/,
    );
    expect(b.admit(req('1.2.3', { moveOriginatorMessageId: id }))).toBeUndefined();
    expect(b.admit(req('9.9.9', { moveOriginatorMessageId: id }))).toBeUndefined();
    // The source sends our Message IDs: an awaited UID without one is not its.
    expect(b.admit(req('1.2.3'))?.comment).toMatch(/no Move Originator Message ID/);
  });

  it('a Move Originator AE title that is not ours is refused', () => {
    const b = new ListenerBook();
    b.wait('S', ['1.2.3'], 'PACSHIFT');
    expect(b.admit(req('1.2.3', { moveOriginatorAeTitle: 'PACSHIFT ' }))).toBeUndefined();
    expect(b.admit(req('1.2.3', { moveOriginatorAeTitle: 'MALLORY' }))?.comment).toMatch(
      /MALLORY is not pacshift's/,
    );
  });

  it('two running retrieves get different Message IDs; refusals are kept per UID with their time', () => {
    const b = new ListenerBook();
    const ids = new Set<number>();
    for (let i = 0; i < 200; i++) ids.add(b.wait(`S${i}`, []).messageId());
    expect(ids.size).toBe(200);
    b.refused({
      sopInstanceUid: '1.2.3',
      status: 0x0117,
      comment: 'bad UID',
      callingAeTitle: 'OLDPACS',
      at: 10,
    });
    expect(b.refusalOf('1.2.3', 5)?.status).toBe(0x0117);
    expect(b.refusalOf('1.2.3', 11)).toBeUndefined();
  });

  it('verify recognises the audit event of a correction by the name transform gives it', () => {
    expect(CORRECTION_EVENT).toBe(TRANSFORM_EVENT);
  });
});
