/**
 * Where our listener (the C-MOVE destination) and C-GET put what they receive: the spool's `incoming/`
 * folder (net/services/store-target.ts writes the files), with the spool's rules on top:
 *
 * - its limit: an instance that would take the spool beyond spool.maxBytes is refused with 0xA700
 *   "spool full" (out of resources: the source reports a resource problem, not a broken object), and so
 *   is one the disk has no space for (ENOSPC); the spool notes the refusal by SOP Instance UID so that
 *   the study's retrieve is released as "spool full", never recorded as the source's failure;
 * - its registry: an instance is registered (read from the file) before its C-STORE is answered; one
 *   that cannot be read is refused (0xC000, with the reader's cause), moved to the quarantine and noted
 *   for the state database (Spool.takeProblems) — never left in `incoming/` unrecorded.
 */
import type { DatasetSink } from '../net/dimse/channel.js';
import {
  type FolderSink,
  FolderStoreTarget,
  type StoreRequestInfo,
  type StoreResult,
  type StoreTarget,
} from '../net/services/store-target.js';
import type { Spool } from './spool.js';

/** The status our listener answers when the spool has no room (PS3.4 C-STORE A7xx: out of resources). */
export const SPOOL_FULL_STATUS = 0xa700;
/** The status for an arrival the spool cannot read (C-STORE Cxxx: cannot understand). */
export const UNREADABLE_ARRIVAL_STATUS = 0xc000;
/** What the file meta adds to the data set, counted against the limit from the first byte. */
const META_ALLOWANCE = 1024;

export class SpoolStoreTarget implements StoreTarget {
  private readonly files: FolderStoreTarget;
  constructor(private readonly spool: Spool) {
    this.files = new FolderStoreTarget(spool.incoming);
  }

  open(req: StoreRequestInfo): DatasetSink<StoreResult> {
    return new SpoolSink(this.spool, req, this.files.open(req));
  }
}

class SpoolSink implements DatasetSink<StoreResult> {
  private counted = 0;
  private full = false;
  private done = false;

  constructor(
    private readonly spool: Spool,
    private readonly req: StoreRequestInfo,
    private readonly inner: FolderSink,
  ) {
    this.count(META_ALLOWANCE);
  }

  private count(n: number): void {
    this.counted += n;
    this.spool.room.startWrite(n);
  }

  private uncount(): void {
    if (this.done) return;
    this.done = true;
    this.spool.room.endWrite(this.counted);
  }

  /** Check and reservation in one synchronous step: two arrivals at once cannot both take the last bytes. */
  write(chunk: Buffer): void | Promise<void> {
    if (this.full) return;
    if (!this.spool.room.mayWrite(chunk.length)) {
      this.full = true;
      this.inner.abort();
      return;
    }
    this.count(chunk.length);
    return this.inner.write(chunk);
  }

  async end(): Promise<StoreResult> {
    try {
      if (this.full) {
        // What was written of it counts until its temporary file is gone.
        await this.inner.cleanedUp();
        return this.refuseFull(
          `spool full: its limit of ${this.spool.maxBytes} bytes (spool.maxBytes) is reached`,
        );
      }
      const r = await this.inner.end();
      if (!r.ok) {
        if (/ENOSPC/.test(r.comment))
          return this.refuseFull(
            `spool full: no space left on the disk of ${this.spool.dir} (ENOSPC)`,
            'disk',
          );
        return r;
      }
      const added = await this.spool.addArrival(r.instance.path, this.req.sopInstanceUid);
      if (!added.ok)
        return {
          ok: false,
          status: UNREADABLE_ARRIVAL_STATUS,
          comment: `received instance unreadable: ${added.cause}`,
        };
      return r;
    } finally {
      this.uncount();
    }
  }

  abort(): void {
    if (!this.full) this.inner.abort();
    // The half-received file counts until it is removed.
    void this.inner.cleanedUp().finally(() => this.uncount());
  }

  private refuseFull(cause: string, by: 'limit' | 'disk' = 'limit'): StoreResult {
    this.spool.noteRefusal(this.req.sopInstanceUid, cause, by);
    return { ok: false, status: SPOOL_FULL_STATUS, comment: cause };
  }
}
