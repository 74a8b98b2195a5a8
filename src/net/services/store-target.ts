/**
 * Where received instances go. `FolderStoreTarget` writes Part 10 files (our meta + the data set
 * bytes exactly as received), with few large writes and an atomic rename when complete.
 */
import fs from 'node:fs';
import { mkdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { ElementBounds } from '../../dicom/element-bounds.js';
import { buildPart10Meta } from '../../dicom/meta.js';
import { lookupTransferSyntax } from '../../dicom/transfer-syntax.js';
import { IMPLEMENTATION_CLASS_UID, IMPLEMENTATION_VERSION_NAME } from '../implementation.js';
import type { DatasetSink } from '../dimse/channel.js';

export interface ReceivedInstance {
  path: string;
  sopClassUid: string;
  sopInstanceUid: string;
  transferSyntaxUid: string;
  callingAeTitle: string;
  datasetLength: number;
  moveOriginatorMessageId?: number;
}

export type StoreResult =
  { ok: true; instance: ReceivedInstance } | { ok: false; status: number; comment: string };

export interface StoreRequestInfo {
  sopClassUid: string;
  sopInstanceUid: string;
  transferSyntaxUid: string;
  callingAeTitle: string;
  moveOriginatorMessageId?: number;
  /** (0000,1030): who asked for the C-MOVE this C-STORE is a sub-operation of, when the sender says. */
  moveOriginatorAeTitle?: string;
  /** The caller's address (for a refusal's record). */
  remoteAddress?: string;
}

export interface StoreTarget {
  open(req: StoreRequestInfo): DatasetSink<StoreResult>;
}

/** A sink of a folder target: after abort(), `cleanedUp()` settles once its temporary file is gone. */
export interface FolderSink extends DatasetSink<StoreResult> {
  cleanedUp(): Promise<void>;
}

/** File names are made from UIDs; anything outside a UID's alphabet is replaced. */
export const safeName = (uid: string): string =>
  uid.replace(/[^0-9A-Za-z.-]/g, '_').slice(0, 128) || 'unnamed';

/**
 * Gather this many bytes before writing: large enough for few writes, small enough that most of an
 * instance is written while the rest is still arriving (measured: 256 KiB beat 128 KiB and 1 MiB).
 */
const WRITE_BATCH = 256 << 10;
/** Above this many bytes not yet on disk, the association stops reading. */
const MAX_BACKLOG = 8 << 20;

/** The callback fs API with a file descriptor: cheaper than FileHandle (no handle object, no promise per call inside). */
const fsOpen = (p: string) =>
  new Promise<number>((res, rej) => fs.open(p, 'w', (e, fd) => (e ? rej(e) : res(fd))));
const fsWritevOnce = (fd: number, parts: Buffer[]) =>
  new Promise<number>((res, rej) => fs.writev(fd, parts, (e, n) => (e ? rej(e) : res(n))));
/**
 * Writes every byte of `parts`: a short write (a disk filling up writes what fits and says so only by
 * its count) is continued with the rest, and the next write then fails with the cause (ENOSPC).
 */
async function fsWritev(fd: number, parts: Buffer[]): Promise<void> {
  let rest = parts;
  let left = parts.reduce((n, b) => n + b.length, 0);
  while (left > 0) {
    let n = await fsWritevOnce(fd, rest);
    if (n <= 0) throw Object.assign(new Error('write made no progress'), { code: 'EIO' });
    left -= n;
    while (n > 0 && rest.length > 0) {
      const first = rest[0]!;
      if (n >= first.length) {
        n -= first.length;
        rest = rest.slice(1);
      } else {
        rest = [first.subarray(n), ...rest.slice(1)];
        n = 0;
      }
    }
  }
}
const fsTruncate = (fd: number, length: number) =>
  new Promise<void>((res, rej) => fs.ftruncate(fd, length, (e) => (e ? rej(e) : res())));
const fsClose = (fd: number) => new Promise<void>((res, rej) => fs.close(fd, (e) => (e ? rej(e) : res())));
const fsRename = (a: string, b: string) =>
  new Promise<void>((res, rej) => fs.rename(a, b, (e) => (e ? rej(e) : res())));
/** POSIX renames an open file; Windows refuses, so there the file is closed first. */
const RENAME_OPEN_FILES = process.platform !== 'win32';

/**
 * One instance being received. The temporary file is opened and the final name chosen as soon as the
 * command arrives, while the data set is still coming: when the last fragment is in, what remains is
 * one write of what is buffered, then close and rename together. The C-STORE response waits for them
 * (the bytes are with the OS; like storescp, no fsync).
 */
class FileSink implements FolderSink {
  private parts: Buffer[];
  private batched = 0;
  private total = 0;
  private readonly fd: Promise<number>;
  private readonly target: Promise<string>;
  private writing: Promise<void> = Promise.resolve();
  private backlog = 0;
  private error: Error | undefined;
  private cleaned: Promise<void> = Promise.resolve();
  private readonly tmp: string;
  private readonly metaLength: number;
  /** Follows the element structure to recognise the sender's pad of an odd-length data set (not for Deflate). */
  private readonly bounds: ElementBounds | undefined;

  constructor(
    dir: string,
    dirReady: Promise<unknown>,
    finalPath: () => Promise<string>,
    private readonly req: StoreRequestInfo,
    private readonly release: () => void,
  ) {
    this.tmp = join(
      dir,
      `.${safeName(req.sopInstanceUid)}.${process.pid}.${Math.random().toString(36).slice(2)}.part`,
    );
    const meta = buildPart10Meta({
      sopClassUid: req.sopClassUid,
      sopInstanceUid: req.sopInstanceUid,
      transferSyntaxUid: req.transferSyntaxUid,
      // An AE title the peer sent that (0002,0016) cannot hold is left out rather than refusing the instance.
      sourceAeTitle: validAeTitle(req.callingAeTitle.trim()) ? req.callingAeTitle : undefined,
      implementationClassUid: IMPLEMENTATION_CLASS_UID,
      implementationVersionName: IMPLEMENTATION_VERSION_NAME,
    });
    this.parts = [meta];
    this.batched = meta.length;
    this.metaLength = meta.length;
    const ts = lookupTransferSyntax(req.transferSyntaxUid);
    // A Deflate stream's trailing NUL is the pad PS3.5 A.5 prescribes: it stays.
    this.bounds = ts && !ts.deflated ? new ElementBounds(ts) : undefined;
    this.fd = dirReady.then(() => fsOpen(this.tmp));
    this.target = finalPath();
    // Failures are collected in end()/abort(); no unhandled rejection meanwhile.
    this.fd.catch(() => undefined);
    this.target.catch(() => undefined);
  }

  write(chunk: Buffer): void | Promise<void> {
    this.bounds?.push(chunk);
    this.parts.push(chunk);
    this.batched += chunk.length;
    this.total += chunk.length;
    if (this.batched >= WRITE_BATCH) return this.flush();
  }

  private flush(): void | Promise<void> {
    const parts = this.parts;
    const n = this.batched;
    this.parts = [];
    this.batched = 0;
    this.backlog += n;
    this.writing = this.writing.then(async () => {
      if (this.error) return;
      try {
        await fsWritev(await this.fd, parts);
      } catch (e) {
        this.error = e as Error;
      } finally {
        this.backlog -= n;
      }
    });
    if (this.backlog > MAX_BACKLOG) return this.writing;
  }

  async end(): Promise<StoreResult> {
    try {
      // An odd-length data set came with the sender's NUL pad after its last element: written, the file would
      // end with a byte no reader can parse. Without it, the data set is the one the sender read.
      const padded = this.bounds?.endsWithPad() === true;
      if (padded) this.total -= 1;
      if (this.batched > 0) void this.flush();
      await this.writing;
      let fd: number | undefined;
      try {
        fd = await this.fd;
        if (padded && !this.error) await fsTruncate(fd, this.metaLength + this.total);
      } catch (e) {
        this.error ??= e as Error;
      }
      let path: string | undefined;
      if (!this.error) {
        try {
          path = await this.target;
          if (RENAME_OPEN_FILES) await Promise.all([fsClose(fd!), fsRename(this.tmp, path)]);
          else {
            await fsClose(fd!);
            await fsRename(this.tmp, path);
          }
          fd = undefined;
        } catch (e) {
          this.error = e as Error;
        }
      }
      if (this.error || path === undefined) {
        if (fd !== undefined) await fsClose(fd).catch(() => undefined);
        await rm(this.tmp, { force: true });
        const e = this.error as NodeJS.ErrnoException | undefined;
        return {
          ok: false,
          status: 0xa700,
          comment: `cannot write: ${e?.code ?? e?.message ?? 'unknown error'}`,
        };
      }
      return {
        ok: true,
        instance: {
          path,
          sopClassUid: this.req.sopClassUid,
          sopInstanceUid: this.req.sopInstanceUid,
          transferSyntaxUid: this.req.transferSyntaxUid,
          callingAeTitle: this.req.callingAeTitle,
          datasetLength: this.total,
          moveOriginatorMessageId: this.req.moveOriginatorMessageId,
        },
      };
    } finally {
      this.release();
    }
  }

  abort(): void {
    this.parts = [];
    this.cleaned = this.writing
      .then(async () => {
        await fsClose(await this.fd);
      })
      .catch(() => undefined)
      .finally(() => {
        this.release();
        return rm(this.tmp, { force: true });
      })
      .catch(() => undefined);
  }

  cleanedUp(): Promise<void> {
    return this.cleaned;
  }
}

/** PS3.5 9.1: a UID is 1..64 characters of digits and dots. */
const UID = /^[0-9.]{1,64}$/;
/** PS3.5 6.2 AE: at most 16 characters, no backslash, no control characters. */
const validAeTitle = (ae: string): boolean =>
  ae.length <= 16 && ![...ae].some((c) => c === '\\' || c.charCodeAt(0) < 0x20);

/**
 * Identifiers from the peer that a file meta cannot hold, as the C-STORE status to answer (PS3.7 C.4);
 * undefined when the instance can be stored. Real archives hold such instances: the sender gets a typed refusal.
 */
export function metaRefusal(req: StoreRequestInfo): { status: number; comment: string } | undefined {
  if (!UID.test(req.sopInstanceUid))
    return { status: 0x0117, comment: 'SOP Instance UID violates the UID rules (PS3.5 9.1)' };
  if (!UID.test(req.sopClassUid))
    return { status: 0x0122, comment: 'SOP Class UID violates the UID rules (PS3.5 9.1)' };
  if (!UID.test(req.transferSyntaxUid))
    return { status: 0xc000, comment: 'transfer syntax UID violates the UID rules' };
  return undefined;
}

/** Takes the data set and drops it; ends with the refusal. */
class RefusingSink implements FolderSink {
  constructor(private readonly refusal: { status: number; comment: string }) {}
  write(): void {}
  end(): Promise<StoreResult> {
    return Promise.resolve({ ok: false, ...this.refusal });
  }
  abort(): void {}
  cleanedUp(): Promise<void> {
    return Promise.resolve();
  }
}

const exists = (p: string) =>
  stat(p).then(
    () => true,
    () => false,
  );

export class FolderStoreTarget implements StoreTarget {
  private ready: Promise<unknown>;
  /** Final names chosen by instances still being received: two copies of one UID arriving at once get two names. */
  private readonly reserved = new Set<string>();
  constructor(
    readonly dir: string,
    /** 'keep-both': a second instance with the same UID gets a suffixed name; 'overwrite' replaces it. */
    private readonly onDuplicate: 'keep-both' | 'overwrite' = 'keep-both',
  ) {
    this.ready = mkdir(dir, { recursive: true });
    // A folder that cannot be created fails each C-STORE (A700, with the cause) when it is awaited; until then it must
    // not surface as an unhandled rejection (which ends the process).
    this.ready.catch(() => undefined);
  }

  open(req: StoreRequestInfo): FolderSink {
    const refusal = metaRefusal(req);
    if (refusal) return new RefusingSink(refusal);
    const base = join(this.dir, safeName(req.sopInstanceUid));
    let chosen: string | undefined;
    const finalPath = async () => {
      await this.ready;
      if (this.onDuplicate === 'overwrite') return `${base}.dcm`;
      for (let i = 1; ; i++) {
        const p = i === 1 ? `${base}.dcm` : `${base}.${i}.dcm`;
        if (this.reserved.has(p)) continue;
        // Reserved before the look-up, so that an instance of the same UID arriving meanwhile tries the next name.
        this.reserved.add(p);
        if (!(await exists(p))) return (chosen = p);
        this.reserved.delete(p);
      }
    };
    return new FileSink(this.dir, this.ready, finalPath, req, () => {
      if (chosen !== undefined) this.reserved.delete(chosen);
    });
  }
}
