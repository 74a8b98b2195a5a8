/**
 * Admission by free spool space (src/transfer/spool-room.ts), on a moved clock: who is admitted, what
 * the listener may write, and when a refused study is tried again (never a claim/release spin).
 */
import { describe, expect, it } from 'vitest';
import { SpoolRoom, WAIT_RECHECK_MS } from '../../../src/transfer/spool-room.js';

const MiB = 1024 * 1024;

function room(maxBytes = 10 * MiB) {
  const files = new Map<string, number>(); // study → spooled bytes
  let t = 0;
  const r = new SpoolRoom(
    maxBytes,
    {
      usedBytes: () => [...files.values()].reduce((a, b) => a + b, 0),
      holds: (s) => (files.get(s) ?? 0) > 0,
    },
    () => t,
  );
  return {
    r,
    arrive(study: string, bytes: number) {
      files.set(study, (files.get(study) ?? 0) + bytes);
      r.arrived(study, bytes);
    },
    free(study: string) {
      files.delete(study);
      r.freed();
    },
    tick(ms: number) {
      t += ms;
    },
  };
}

describe('spool room', () => {
  it('admits by the inventory sizes; one study alone whatever its size', () => {
    const { r } = room();
    expect(r.admit('big', [20 * MiB])).toBe(true); // alone: larger than the spool, still moves
    expect(r.admit('small', [1 * MiB])).toBe(false);
    r.finish('big');
    expect(r.admit('a', [4 * MiB])).toBe(true);
    expect(r.admit('b', [4 * MiB])).toBe(true);
    expect(r.admit('c', [4 * MiB])).toBe(false);
    expect(r.admit('a', [4 * MiB])).toBe(true); // already admitted
  });

  it('sizes the inventory does not give are the mean of what arrived; none arrived yet: alone', () => {
    const s = room();
    expect(s.r.admit('a', [null, null])).toBe(true);
    expect(s.r.admit('b', [null])).toBe(false); // nothing known yet
    s.arrive('a', 2 * MiB);
    expect(s.r.bytesOf([null, null, null])).toBe(6 * MiB);
    // a: 2 MiB spooled + one more expected (2 MiB); b needs 3 × 2 MiB: 10 MiB fits exactly
    expect(s.r.admit('b', [null, null, null])).toBe(true);
    expect(s.r.admit('c', [null])).toBe(false);
  });

  it('the listener never writes beyond the limit, not even for a study admitted alone', () => {
    const s = room();
    expect(s.r.mayWrite(20 * MiB)).toBe(false); // nothing admitted: strays do not fill the spool
    s.r.admit('a', [4 * MiB]);
    expect(s.r.mayWrite(20 * MiB)).toBe(false); // alone, in an empty spool: still the limit
    s.arrive('a', 9 * MiB);
    expect(s.r.mayWrite(1 * MiB)).toBe(true);
    expect(s.r.mayWrite(1 * MiB + 1)).toBe(false); // a late arrival of a released study: refused
    s.free('a');
    s.r.admit('b', [4 * MiB]);
    s.arrive('a', 4 * MiB);
    s.r.startWrite(5 * MiB);
    expect(s.r.mayWrite(1 * MiB)).toBe(true);
    expect(s.r.mayWrite(1 * MiB + 1)).toBe(false);
    s.r.endWrite(5 * MiB);
    expect(s.r.mayWrite(6 * MiB)).toBe(true);
  });

  it('a study refused by the listener moves alone from then on, and nothing beside it', () => {
    const s = room();
    s.r.admit('a', [4 * MiB]);
    s.r.admit('b', [4 * MiB]);
    s.r.refused('b');
    s.r.finish('b');
    expect(s.r.admit('b', [4 * MiB])).toBe(false); // a is still admitted
    s.r.finish('a');
    expect(s.r.admit('b', [4 * MiB])).toBe(true);
    expect(s.r.admit('c', [1])).toBe(false);
  });

  it('a refused study waits until its need fits, or space was freed, or at most WAIT_RECHECK_MS', () => {
    const s = room();
    s.r.admit('a', [8 * MiB]);
    expect(s.r.admit('b', [4 * MiB])).toBe(false);
    expect(s.r.waitingForRoom).toBe(true);
    s.arrive('a', 8 * MiB);
    expect(s.r.waitingForRoom).toBe(true);
    s.free('a');
    s.r.finish('a');
    expect(s.r.waitingForRoom).toBe(false);
    // A listener refusal with nothing freed (a disk full of something else): tried again at the recheck pace.
    s.r.admit('c', [4 * MiB]);
    s.r.refused('c');
    s.r.finish('c');
    expect(s.r.waitingForRoom).toBe(true);
    s.tick(WAIT_RECHECK_MS - 1);
    expect(s.r.waitingForRoom).toBe(true);
    s.tick(1);
    expect(s.r.waitingForRoom).toBe(false);
  });
});
