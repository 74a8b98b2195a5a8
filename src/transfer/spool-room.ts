/**
 * Admission by free spool space (spool.maxBytes). A study is retrieved only when the spool has room for
 * what it still needs: its instances' sizes from the inventory, the mean size of what arrived so far for
 * those the inventory does not size, or (nothing arrived yet, so nothing known) only alone. When no
 * other study is admitted, a study is admitted if the spool is empty or holds part of that study
 * already (finishing it is what frees the spool).
 *
 * The bytes counted against the limit are the spooled files (and those being removed, until they are
 * gone), the instances being received now, and what each admitted study may still bring (its need less
 * what arrived for it). The listener's sink (spool-target.ts) asks `mayWrite` before each chunk and
 * counts it before it is written: beyond the limit it refuses the instance ("spool full"), whoever
 * sends it. The limit is a hard bound on the bytes in the spool's `incoming/` folder (half-received
 * files included), with no exception: an admitted study alone, a late sub-operation of a study already
 * released, two arrivals at once all reserve their bytes first. (A study admitted alone that is larger
 * than the spool is therefore refused beyond the limit; the engine stores the part that arrived before
 * it releases it, so each round moves what fits: engine.ts, `storePart`.)
 *
 * A study the listener refused instances of (the estimate was wrong) is admitted only alone from then on,
 * and no other study beside it.
 *
 * A refused study waits: `waitingForRoom` is true (the engine then claims only work that needs no room)
 * until its need fits (the estimate may change as instances arrive), or space was freed and then it
 * fits or nothing is admitted; after a refusal by the listener (the disk may be full of something
 * else), only once space was freed; in every case at most WAIT_RECHECK_MS (no claim/release spin).
 */

/** What a study still needs: the sizes the inventory gives (null: not known). */
export type Need = readonly (number | null)[];

/** A refused study is tried again at least this often, whatever was freed. */
export const WAIT_RECHECK_MS = 5000;

interface Admitted {
  need: Need;
  arrived: number;
}

export class SpoolRoom {
  private readonly admitted = new Map<string, Admitted>();
  private readonly arrivals = { n: 0, bytes: 0 };
  private waiting: { need: Need; at: number; freed: boolean; byListener: boolean } | undefined;
  /** Studies the listener refused instances of: the estimate failed them, they move alone. */
  private readonly alone = new Set<string>();
  /** Bytes of instances being received now (not yet files of the spool). */
  private writing = 0;

  constructor(
    readonly maxBytes: number,
    private readonly spool: {
      /** Bytes of the spooled files, and of those being removed from the folder. */
      usedBytes(): number;
      /** Whether files of this study are spooled. */
      holds(studyUid: string): boolean;
    },
    private readonly now: () => number = Date.now,
  ) {}

  private usedBytes(): number {
    return this.spool.usedBytes();
  }

  /** Mean size of the instances that arrived so far; undefined before the first. */
  meanInstanceBytes(): number | undefined {
    return this.arrivals.n === 0 ? undefined : this.arrivals.bytes / this.arrivals.n;
  }

  /** The bytes a need stands for now (Infinity: sizes unknown and nothing arrived yet to estimate them). */
  bytesOf(need: Need): number {
    const mean = this.meanInstanceBytes();
    let n = 0;
    for (const b of need) n += b ?? mean ?? Infinity;
    return n;
  }

  /** Spooled + being received + what admitted studies may still bring. */
  committedBytes(): number {
    let n = this.usedBytes() + this.writing;
    for (const a of this.admitted.values()) n += Math.max(0, this.bytesOf(a.need) - a.arrived);
    return n;
  }

  /** Whether a study may be retrieved now (idempotent for a study already admitted). */
  admit(studyUid: string, need: Need): boolean {
    if (this.admitted.has(studyUid)) return true;
    const fits =
      !this.alone.has(studyUid) &&
      ![...this.admitted.keys()].some((u) => this.alone.has(u)) &&
      this.committedBytes() + this.bytesOf(need) <= this.maxBytes;
    const alone = this.admitted.size === 0 && (this.usedBytes() === 0 || this.spool.holds(studyUid));
    if (!fits && !alone) {
      this.wait(need);
      return false;
    }
    this.admitted.set(studyUid, { need, arrived: 0 });
    return true;
  }

  /** Whether this study is the only one admitted: no other study's end will make room for it. */
  onlyAdmitted(studyUid: string): boolean {
    return this.admitted.size === 1 && this.admitted.has(studyUid);
  }

  /** The study's job is over (retrieved and stored, failed or released). */
  finish(studyUid: string): void {
    this.admitted.delete(studyUid);
  }

  /** A study was refused room: wait for space before retrieving again. */
  wait(need: Need, byListener = false): void {
    this.waiting = { need, at: this.now(), freed: false, byListener };
  }

  /** The listener refused instances of an admitted study (no room): it moves alone from now on, and waits. */
  refused(studyUid: string): void {
    this.alone.add(studyUid);
    this.wait([], true);
  }

  get waitingForRoom(): boolean {
    const w = this.waiting;
    if (!w) return false;
    const fits = this.committedBytes() + this.bytesOf(w.need) <= this.maxBytes;
    // Nothing admitted: a study may go alone, but only once something was freed (else it is refused again).
    const room = w.freed ? fits || this.admitted.size === 0 : fits && !w.byListener;
    if (room || this.now() - w.at >= WAIT_RECHECK_MS) this.waiting = undefined;
    return this.waiting !== undefined;
  }

  /** An instance registered in the spool (of `studyUid` as its file says). */
  arrived(studyUid: string | undefined, bytes: number): void {
    this.arrivals.n++;
    this.arrivals.bytes += bytes;
    const a = studyUid === undefined ? undefined : this.admitted.get(studyUid);
    if (a) a.arrived += bytes;
  }

  /** Spooled bytes were freed (stored, quarantined, released). */
  freed(): void {
    if (this.waiting) this.waiting.freed = true;
  }

  /**
   * Whether the listener may take `bytes` more of an instance being received: only within the limit,
   * counting the spooled files, those being removed and every instance being received (startWrite
   * reserves the bytes before they are written; check and reservation are one synchronous step).
   */
  mayWrite(bytes: number): boolean {
    return this.usedBytes() + this.writing + bytes <= this.maxBytes;
  }

  startWrite(bytes: number): void {
    this.writing += bytes;
  }

  endWrite(bytes: number): void {
    this.writing -= bytes;
  }
}
