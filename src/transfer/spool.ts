/**
 * The spool: where retrieved instances wait to be stored. Files arrive in `incoming/` (atomic
 * renames), refused ones move to `quarantine/`. After a crash the spool is re-read, so nothing
 * that arrived is lost; its size is bounded by spool.maxBytes.
 */
import { mkdir, open, readdir, rename, rm, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { readInstanceInfo } from '../dicom/part10.js';

export interface SpooledInstance {
  path: string;
  sopInstanceUid: string;
  sopClassUid: string;
  studyUid: string | undefined;
  seriesUid: string | undefined;
  transferSyntaxUid: string;
  datasetOffset: number;
  datasetLength: number;
  sizeBytes: number;
}

/** Whether two files hold the same bytes (read in 1 MiB blocks; false when either cannot be read). */
async function sameBytes(a: string, b: string): Promise<boolean> {
  const [fa, fb] = await Promise.all([open(a, 'r'), open(b, 'r')]).catch(() => [undefined, undefined]);
  if (!fa || !fb) {
    await fa?.close();
    await fb?.close();
    return false;
  }
  try {
    const size = 1 << 20;
    const ba = Buffer.allocUnsafe(size);
    const bb = Buffer.allocUnsafe(size);
    for (;;) {
      const [ra, rb] = await Promise.all([fa.read(ba, 0, size, null), fb.read(bb, 0, size, null)]);
      if (ra.bytesRead !== rb.bytesRead) return false;
      if (ra.bytesRead === 0) return true;
      if (!ba.subarray(0, ra.bytesRead).equals(bb.subarray(0, rb.bytesRead))) return false;
    }
  } finally {
    await fa.close();
    await fb.close();
  }
}

export class Spool {
  readonly incoming: string;
  readonly quarantine: string;
  /** SOP Instance UID → the copies that arrived (more than one: the source sent different objects under one UID). */
  private bySop = new Map<string, SpooledInstance[]>();
  private byStudy = new Map<string, Set<string>>();
  private bytes = 0;
  private waiters = new Set<() => void>();

  constructor(
    readonly dir: string,
    readonly maxBytes: number,
  ) {
    this.incoming = join(dir, 'incoming');
    this.quarantine = join(dir, 'quarantine');
  }

  async open(): Promise<{ recovered: number; unreadable: string[] }> {
    await mkdir(this.incoming, { recursive: true });
    await mkdir(this.quarantine, { recursive: true });
    const unreadable: string[] = [];
    let recovered = 0;
    for (const f of await readdir(this.incoming)) {
      const p = join(this.incoming, f);
      if (f.startsWith('.')) {
        await rm(p, { force: true }); // a half-received file from before a crash: the source still has it
        continue;
      }
      if ((await this.add(p)) === undefined) unreadable.push(p);
      else recovered++;
    }
    return { recovered, unreadable };
  }

  /** Register a file that arrived (read its identifiers from the file itself, not from the command). */
  async add(path: string): Promise<SpooledInstance | undefined> {
    const r = await readInstanceInfo(path);
    if (!r.ok) return undefined;
    const i = r.value;
    const s: SpooledInstance = {
      path,
      sopInstanceUid: i.sopInstanceUid,
      sopClassUid: i.sopClassUid,
      studyUid: i.studyInstanceUid,
      seriesUid: i.seriesInstanceUid,
      transferSyntaxUid: i.transferSyntaxUid,
      datasetOffset: i.metaEnd,
      datasetLength: i.datasetLength,
      sizeBytes: i.fileSize,
    };
    if (this.get(s.sopInstanceUid).some((x) => x.path === path)) return s;
    // The same bytes again (a source that sends an instance twice, a re-sent move): one copy is enough.
    for (const x of this.get(s.sopInstanceUid)) {
      if (x.sizeBytes === s.sizeBytes && (await sameBytes(x.path, path))) {
        await rm(path, { force: true });
        return x;
      }
    }
    const list = this.bySop.get(s.sopInstanceUid) ?? [];
    if (list.some((x) => x.path === path)) return s;
    list.push(s);
    this.bySop.set(s.sopInstanceUid, list);
    if (s.studyUid) {
      const set = this.byStudy.get(s.studyUid) ?? new Set();
      set.add(s.sopInstanceUid);
      this.byStudy.set(s.studyUid, set);
    }
    this.bytes += s.sizeBytes;
    for (const w of this.waiters) w();
    return s;
  }

  get(sopInstanceUid: string): SpooledInstance[] {
    return this.bySop.get(sopInstanceUid) ?? [];
  }

  /** SOP Instance UIDs that arrived for a study (by the StudyInstanceUID in the files). */
  ofStudy(studyUid: string): SpooledInstance[] {
    return [...(this.byStudy.get(studyUid) ?? [])].flatMap((u) => this.get(u));
  }

  get usedBytes(): number {
    return this.bytes;
  }

  hasRoomFor(bytes: number): boolean {
    return this.bytes === 0 || this.bytes + bytes <= this.maxBytes;
  }

  /** Resolve on the next arrival or after `ms`. */
  nextArrival(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(t);
        this.waiters.delete(done);
        resolve();
      };
      const t = setTimeout(done, ms);
      this.waiters.add(done);
    });
  }

  private forget(s: SpooledInstance): void {
    const list = (this.bySop.get(s.sopInstanceUid) ?? []).filter((x) => x.path !== s.path);
    if (list.length) this.bySop.set(s.sopInstanceUid, list);
    else {
      this.bySop.delete(s.sopInstanceUid);
      if (s.studyUid) this.byStudy.get(s.studyUid)?.delete(s.sopInstanceUid);
    }
    this.bytes -= s.sizeBytes;
  }

  /** Done with a stored instance: delete its file (unless kept). */
  async release(s: SpooledInstance, keep: boolean): Promise<void> {
    this.forget(s);
    if (!keep) await rm(s.path, { force: true });
  }

  /** Move a refused instance to the quarantine folder; returns its new path. */
  async toQuarantine(s: SpooledInstance): Promise<string> {
    this.forget(s);
    const dest = join(this.quarantine, basename(s.path));
    await rename(s.path, dest).catch(async () => {
      // already moved by an earlier attempt
      await stat(dest);
    });
    return dest;
  }
}
