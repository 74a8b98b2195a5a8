/**
 * A folder as a target: each instance is written byte for byte as a Part 10 file named by its SOP
 * Instance UID under <study>/<series>/ folders, atomically (a temporary file in the same folder, then a
 * hard link that never replaces anything, then the temporary name removed). An instance that is already
 * there with the same bytes is a success (idempotent re-runs); a different file under that name is a data
 * conflict (0xA770, quarantined with its cause), never overwritten. File system errors map onto the
 * status table through FS_ERRORS.
 */
import { constants } from 'node:fs';
import { access, copyFile, link, mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { safeName } from '../../net/services/store-target.js';
import { sameFileBytes } from '../../util/same-bytes.js';
import type { StoreOutcome } from '../../net/services/store-scu.js';
import { failureOutcome, statusOutcome } from './outcome.js';
import type { Target, TargetInstance } from './target.js';

/** Status for an existing file with other bytes under the instance's name (data conflict family, A770–A77B). */
export const FOLDER_CONFLICT_STATUS = 0xa770;

/**
 * File system error codes → the C-STORE status whose action fits: out of space is a resource problem
 * (retry after back-off), permissions are a configuration problem (stop), an I/O error is retried.
 * Codes not listed: retried (outcome unknown), with the code in the cause.
 */
export const FS_ERRORS: Readonly<Record<string, { status: number; why: string }>> = {
  ENOSPC: { status: 0xa700, why: 'no space left on the target folder' },
  EDQUOT: { status: 0xa700, why: 'disk quota exceeded on the target folder' },
  EMFILE: { status: 0xa700, why: 'too many open files' },
  EACCES: { status: 0x0124, why: 'permission denied on the target folder' },
  EPERM: { status: 0x0124, why: 'operation not permitted on the target folder' },
  EROFS: { status: 0x0124, why: 'the target folder is on a read-only file system' },
  ENOTDIR: { status: 0x0124, why: 'a path component of the target folder is not a folder' },
  EIO: { status: 0xa700, why: 'I/O error writing the target folder' },
};

/** Where an instance goes in the folder. */
export function folderPathOf(dir: string, i: TargetInstance): string {
  return join(
    dir,
    safeName(i.studyUid ?? 'unknown-study'),
    safeName(i.seriesUid ?? 'unknown-series'),
    `${safeName(i.sopInstanceUid)}.dcm`,
  );
}

let counter = 0;

async function writeOne(dir: string, i: TargetInstance): Promise<StoreOutcome> {
  const dest = folderPathOf(dir, i);
  const folder = join(dest, '..');
  const tmp = join(folder, `.${safeName(i.sopInstanceUid)}.${process.pid}.${++counter}.tmp`);
  try {
    await access(i.path, constants.R_OK);
  } catch (e) {
    // Our own spool lost the file: not the target's doing (the engine fetches it again on the next attempt).
    const code = (e as NodeJS.ErrnoException).code ?? 'error';
    return failureOutcome(i, {
      kind: 'local',
      message: `spooled file of ${i.sopInstanceUid} cannot be read: ${code}`,
    });
  }
  try {
    await mkdir(folder, { recursive: true });
    // A reflink where the file system offers one, a plain copy otherwise: the bytes of the spooled file.
    await copyFile(i.path, tmp, constants.COPYFILE_FICLONE);
    try {
      await link(tmp, dest); // never replaces an existing file (EEXIST), unlike rename
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      if (await sameFileBytes(i.path, dest)) return statusOutcome('C-STORE', i, 0x0000);
      return statusOutcome(
        'C-STORE',
        i,
        FOLDER_CONFLICT_STATUS,
        `folder target: another file with SOP Instance UID ${i.sopInstanceUid} is already at ${dest} (different bytes; not overwritten)`,
      );
    }
    return statusOutcome('C-STORE', i, 0x0000);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? 'error';
    const m = FS_ERRORS[code];
    if (m) return statusOutcome('C-STORE', i, m.status, `folder target ${dir}: ${m.why} (${code})`);
    return failureOutcome(i, {
      kind: 'local',
      message: `folder target ${dir}: ${code} writing ${i.sopInstanceUid}`,
    });
  } finally {
    await rm(tmp, { force: true }).catch(() => undefined);
  }
}

export function folderTarget(dir: string): Target {
  return {
    kind: 'folder',
    name: dir,
    async store(instances, opts) {
      const out: StoreOutcome[] = [];
      const queue = [...instances];
      const worker = async () => {
        for (let i = queue.shift(); i; i = queue.shift()) out.push(await writeOne(dir, i));
      };
      await Promise.all(
        Array.from({ length: Math.max(1, Math.min(opts.concurrency, queue.length)) }, worker),
      );
      return out;
    },
    close: async () => undefined,
  };
}
