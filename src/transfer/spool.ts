/**
 * The spool: where retrieved instances wait to be stored. Files arrive in `incoming/` (atomic
 * renames), refused ones move to `quarantine/`. After a crash the spool is re-read, so nothing
 * that arrived is lost; its size is bounded by spool.maxBytes (admission and the listener's limit:
 * spool-room.ts, spool-target.ts). The bytes counted against the limit are those on the disk of
 * `incoming/`: a file taken out of the registry (stored, released, quarantined, replaced by its
 * transformed copy) counts until it is gone from the folder, never only until it is forgotten.
 *
 * Nothing is dropped without a record: an arrival that cannot be read (from the listener, C-GET, or
 * found at start after a crash) is moved to the quarantine and noted as a problem the engine records
 * in the state database against its study (`takeProblems`). The quarantine never overwrites: each
 * object is kept as `<SOP Instance UID>.<first 16 hex of the SHA-256 of its bytes>.dcm` (the same
 * object twice is one file; different objects under one UID, or under no readable UID, are several).
 *
 * Transformed instances (src/transform/apply.ts): the rewritten copy of `X` is named
 * `X.x<first 12 hex of the SHA-256 of X's bytes>.dcm` and is renamed into `incoming/` only after its
 * record and audit events are in the state database; then `X` is deleted. A file of that form is never
 * transformed again. After a crash, an `X` whose transformed copy (same hash) is there is deleted: its
 * change is recorded and made; an `X` without one is kept and transformed again (temporary files start
 * with "." and are removed).
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { link, mkdir, readdir, rm } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { readInstanceInfo, type InstanceInfo } from '../dicom/part10.js';
import { safeName } from '../net/services/store-target.js';
import { sameFileBytes } from '../util/same-bytes.js';
import { type Need, SpoolRoom } from './spool-room.js';
import { SpoolStoreTarget } from './spool-target.js';

const TRANSFORMED_RE = /^(.*)\.x([0-9a-f]{12})\.dcm$/;

const QUARANTINED_RE = /^(.*)\.[0-9a-f]{16}(?:\.\d+)?\.dcm$/;

/** The (file-name-safe) SOP Instance UID a quarantined file's name was made from. */
export const quarantinedUidOf = (name: string): string | undefined => QUARANTINED_RE.exec(name)?.[1];

/** Whether a spooled file is the transformed copy of an instance (never transformed again). */
export const isTransformedPath = (path: string): boolean => TRANSFORMED_RE.test(basename(path));

/** The name of the transformed copy of `path`, given the SHA-256 (hex) of the original file's bytes. */
export const transformedPath = (path: string, fileSha256: string): string =>
  `${path}.x${fileSha256.slice(0, 12)}.dcm`;

/** SHA-256 (hex) of a file's bytes. */
export async function fileSha256(path: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(path)) h.update(chunk as Buffer);
  return h.digest('hex');
}

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

/** An arrival the spool could not register, kept in the quarantine: for the state database. */
export interface SpoolProblem {
  readonly kind: 'unreadable-arrival';
  /** From the C-STORE command (the file could not tell); undefined for a file found at start. */
  readonly sopInstanceUid: string | undefined;
  /** The reader's cause (codes, offsets, UIDs; no patient data). */
  readonly cause: string;
  /** Where the object is kept (in the quarantine); undefined if it could not be moved there. */
  readonly quarantinePath: string | undefined;
}

/** Whether two files hold the same bytes; false when either cannot be read. */
const sameBytes = (a: string, b: string): Promise<boolean> => sameFileBytes(a, b).catch(() => false);

/** A spool entry from the file's own identifiers (never from what a command said about it). */
const spooled = (path: string, i: InstanceInfo): SpooledInstance => ({
  path,
  sopInstanceUid: i.sopInstanceUid,
  sopClassUid: i.sopClassUid,
  studyUid: i.studyInstanceUid,
  seriesUid: i.seriesInstanceUid,
  transferSyntaxUid: i.transferSyntaxUid,
  datasetOffset: i.metaEnd,
  datasetLength: i.datasetLength,
  sizeBytes: i.fileSize,
});

export class Spool {
  readonly incoming: string;
  readonly quarantine: string;
  /** SOP Instance UID → the copies that arrived (more than one: the source sent different objects under one UID). */
  private bySop = new Map<string, SpooledInstance[]>();
  private byStudy = new Map<string, Set<string>>();
  private bytes = 0;
  /** Bytes of files out of the registry but not yet removed from `incoming/` (still on the disk). */
  private removing = 0;
  private waiters = new Set<() => void>();
  /** SOP Instance UID → why the listener refused it for want of room (until the retrieve takes it). */
  private refusals = new Map<string, string>();
  /** The refusals among them made by spool.maxBytes (not by a full disk). */
  private limitRefusals = new Set<string>();
  private problems: SpoolProblem[] = [];
  /** Admission by free space (spool-room.ts). */
  readonly room: SpoolRoom;

  constructor(
    readonly dir: string,
    readonly maxBytes: number,
  ) {
    this.incoming = join(dir, 'incoming');
    this.quarantine = join(dir, 'quarantine');
    this.room = new SpoolRoom(maxBytes, {
      usedBytes: () => this.bytes + this.removing,
      holds: (studyUid) => (this.byStudy.get(studyUid)?.size ?? 0) > 0,
    });
  }

  /** Where the listener and C-GET write: the spool's limit and registry on top of the files (spool-target.ts). */
  storeTarget(): SpoolStoreTarget {
    return new SpoolStoreTarget(this);
  }

  /** Whether a study may be retrieved now, given what it still needs (spool-room.ts); finish() when its job ends. */
  admit(studyUid: string, need: Need): boolean {
    return this.room.admit(studyUid, need);
  }

  finish(studyUid: string): void {
    this.room.finish(studyUid);
  }

  /** A study was refused room: retrieval of other studies waits for space. */
  get waitingForRoom(): boolean {
    return this.room.waitingForRoom;
  }

  /** The listener refused an instance for want of room (spool limit or ENOSPC). */
  noteRefusal(sopInstanceUid: string, cause: string, by: 'limit' | 'disk' = 'limit'): void {
    this.refusals.set(sopInstanceUid, cause);
    if (by === 'limit') this.limitRefusals.add(sopInstanceUid);
    else this.limitRefusals.delete(sopInstanceUid);
  }

  /** Whether every one of these taken refusals was made by spool.maxBytes (none by a full disk); forgets them. */
  refusedByLimit(uids: Iterable<string>): boolean {
    let all = true;
    for (const u of uids) {
      if (!this.limitRefusals.has(u)) all = false;
      this.limitRefusals.delete(u);
    }
    return all;
  }

  /** The room refusals among these SOP Instance UIDs (taken: each is reported once). */
  takeRefusals(uids: Iterable<string>): Map<string, string> {
    const out = new Map<string, string>();
    for (const u of uids) {
      const c = this.refusals.get(u);
      if (c === undefined) continue;
      out.set(u, c);
      this.refusals.delete(u);
    }
    return out;
  }

  /** Arrivals that could not be registered since the last call (for the state database). */
  takeProblems(): SpoolProblem[] {
    const p = this.problems;
    this.problems = [];
    return p;
  }

  async open(): Promise<{ recovered: number; unreadable: string[] }> {
    await mkdir(this.incoming, { recursive: true });
    await mkdir(this.quarantine, { recursive: true });
    const unreadable: string[] = [];
    let recovered = 0;
    const names = (await readdir(this.incoming)).sort();
    // Originals whose transformed copy is complete (so recorded): the change was made, drop the original.
    const hashesOf = new Map<string, Set<string>>();
    for (const f of names) {
      const m = TRANSFORMED_RE.exec(f);
      if (m) hashesOf.set(m[1]!, (hashesOf.get(m[1]!) ?? new Set()).add(m[2]!));
    }
    const dropped = new Set<string>();
    for (const [original, hashes] of hashesOf) {
      if (!names.includes(original)) continue;
      const p = join(this.incoming, original);
      const sha = await fileSha256(p).catch(() => undefined);
      if (sha && hashes.has(sha.slice(0, 12))) {
        await rm(p, { force: true });
        dropped.add(original);
      }
    }
    for (const f of names) {
      const p = join(this.incoming, f);
      if (dropped.has(f)) continue;
      if (f.startsWith('.')) {
        // a half-received or half-transformed file from before a crash: the source (or original) still has it
        await rm(p, { force: true });
        continue;
      }
      const r = await this.addArrival(p, undefined);
      if (r.ok) recovered++;
      else unreadable.push(r.quarantinePath ?? p);
    }
    return { recovered, unreadable };
  }

  /**
   * Register an arrival; one that cannot be read goes to the quarantine and is noted (takeProblems),
   * with the SOP Instance UID its sender named (`claimedUid`) when there was one.
   */
  async addArrival(
    path: string,
    claimedUid: string | undefined,
  ): Promise<
    { ok: true; instance: SpooledInstance } | { ok: false; cause: string; quarantinePath?: string }
  > {
    const r = await readInstanceInfo(path);
    if (r.ok) return { ok: true, instance: await this.register(spooled(path, r.value)) };
    const cause = `${r.error.code}: ${r.error.message}`;
    const quarantinePath = await this.moveToQuarantine(path, claimedUid).catch(() => undefined);
    this.problems.push({ kind: 'unreadable-arrival', sopInstanceUid: claimedUid, cause, quarantinePath });
    return { ok: false, cause, quarantinePath };
  }

  /** Register a file that arrived (read its identifiers from the file itself, not from the command). */
  async add(path: string): Promise<SpooledInstance | undefined> {
    const r = await readInstanceInfo(path);
    return r.ok ? this.register(spooled(path, r.value)) : undefined;
  }

  private async register(s: SpooledInstance): Promise<SpooledInstance> {
    const path = s.path;
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
    this.room.arrived(s.studyUid, s.sizeBytes);
    for (const w of this.waiters) w();
    return s;
  }

  /** Every spooled copy. */
  all(): SpooledInstance[] {
    return [...this.bySop.values()].flat();
  }

  get(sopInstanceUid: string): SpooledInstance[] {
    return this.bySop.get(sopInstanceUid) ?? [];
  }

  /**
   * The copy to send for an instance: the very file the state recorded as received (its spoolPath), so
   * that what goes to the target is what the record (and verification) describes, when the source or a
   * stray sender delivered other objects under the same UID (recorded as conflicts); else the first.
   */
  recordedCopy(sopInstanceUid: string, spoolPath: string | null | undefined): SpooledInstance | undefined {
    const copies = this.get(sopInstanceUid);
    if (spoolPath) {
      const name = basename(spoolPath);
      const same = copies.find((c) => basename(c.path) === name);
      if (same) return same;
    }
    return copies[0];
  }

  /** SOP Instance UIDs that arrived for a study (by the StudyInstanceUID in the files). */
  ofStudy(studyUid: string): SpooledInstance[] {
    return [...(this.byStudy.get(studyUid) ?? [])].flatMap((u) => this.get(u));
  }

  get usedBytes(): number {
    return this.bytes;
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

  /**
   * Takes `bytes` of a file out of `incoming/` by `remove` (delete, or move to the quarantine): they
   * count against the limit until it is done; then the room is told that space was freed.
   */
  private async removeCounted<T>(bytes: number, remove: () => Promise<T>): Promise<T> {
    this.removing += bytes;
    try {
      return await remove();
    } finally {
      this.removing -= bytes;
      this.room.freed();
    }
  }

  /**
   * The transformed copy of `original` (already renamed into `incoming/`, its record committed) takes
   * the original's place; the original file is deleted. Returns the copy as spooled.
   */
  async replace(original: SpooledInstance, path: string): Promise<SpooledInstance> {
    const r = await readInstanceInfo(path);
    if (!r.ok) throw new Error(`spool: the transformed copy ${path} is unreadable: ${r.error.message}`);
    const s = spooled(path, r.value);
    const list = this.bySop.get(original.sopInstanceUid) ?? [];
    const at = list.findIndex((x) => x.path === original.path);
    const present = list.some((x) => x.path === path);
    const replaced = at >= 0 ? list[at]!.sizeBytes : 0;
    if (at >= 0) {
      this.bytes -= replaced;
      if (present) list.splice(at, 1);
      else list[at] = s;
    } else if (!present) list.push(s);
    if (!present) this.bytes += s.sizeBytes;
    this.bySop.set(s.sopInstanceUid, list);
    if (s.studyUid) {
      const set = this.byStudy.get(s.studyUid) ?? new Set();
      set.add(s.sopInstanceUid);
      this.byStudy.set(s.studyUid, set);
    }
    if (original.path !== path) await this.removeCounted(replaced, () => rm(original.path, { force: true }));
    return list.find((x) => x.path === path) ?? s;
  }

  /** Done with a stored instance: delete its file (unless kept). */
  async release(s: SpooledInstance, keep: boolean): Promise<void> {
    this.forget(s);
    if (keep) this.room.freed();
    else await this.removeCounted(s.sizeBytes, () => rm(s.path, { force: true }));
  }

  /** Move a refused instance to the quarantine folder; returns its new path. */
  async toQuarantine(s: SpooledInstance): Promise<string> {
    this.forget(s);
    return this.removeCounted(s.sizeBytes, () => this.moveToQuarantine(s.path, s.sopInstanceUid));
  }

  /**
   * Moves a file into the quarantine under a name no other object has: `<UID>.<SHA-256 prefix>.dcm`
   * (`unknown-uid` when no UID is known). Never overwrites: the link fails if the name is taken; a
   * taken name holding the same bytes is this object already there, other bytes (a prefix collision)
   * get a counter.
   */
  private async moveToQuarantine(path: string, uid: string | undefined): Promise<string> {
    const name = uid ? safeName(uid) : 'unknown-uid';
    let digest: string;
    try {
      digest = (await fileSha256(path)).slice(0, 16);
    } catch (e) {
      // Moved by an earlier attempt of this process: that copy is the one.
      const earlier = (await readdir(this.quarantine)).find((f) => quarantinedUidOf(f) === name);
      if ((e as NodeJS.ErrnoException).code === 'ENOENT' && uid && earlier)
        return join(this.quarantine, earlier);
      throw e;
    }
    const base = join(this.quarantine, `${name}.${digest}`);
    for (let i = 1; ; i++) {
      const dest = i === 1 ? `${base}.dcm` : `${base}.${i}.dcm`;
      try {
        await link(path, dest);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
        if (!(await sameBytes(dest, path))) continue;
      }
      await rm(path, { force: true });
      return dest;
    }
  }
}
