/**
 * A folder of Part 10 files as a source (plan source.type: folder). The folder inventory
 * (src/inventory/folder.ts) recorded, per instance, the file it came from (attrs.path, relative to the
 * folder) and its size; retrieving is copying that file into the spool, byte for byte (a reflink where
 * the file system has them). What the inventory listed and is now missing, unreadable or changed on
 * disk (another SOP Instance UID, another study, another size) is not delivered, with its cause:
 * the same accounting as a network source that does not deliver.
 */
import { constants } from 'node:fs';
import { copyFile, rename, rm } from 'node:fs/promises';
import { isAbsolute, join, relative } from 'node:path';
import { readInstanceInfo } from '../../dicom/part10.js';
import { safeName } from '../../net/services/store-target.js';
import type { RetrieveRequest } from '../retrieve.js';
import type { Spool, SpooledInstance } from '../spool.js';
import type { Source, SourceRetrieveReport } from './source.js';

/** What the inventory recorded of an instance of a folder source. */
export interface FolderRecord {
  /** Relative to the source folder (absolute paths are taken as they are). */
  readonly path: string;
  readonly sizeBytes: number | null;
}

/** The inventory's records of a study's instances (SOP Instance UID → record). */
export type FolderLocator = (studyUid: string) => Promise<ReadonlyMap<string, FolderRecord>>;

/** Why an instance listed by the inventory was not delivered by a folder source. */
export type FolderRetrieveCode =
  | 'FOLDER_NOT_RECORDED'
  | 'FOLDER_FILE_MISSING'
  | 'FOLDER_FILE_UNREADABLE'
  | 'FOLDER_FILE_CHANGED'
  | 'FOLDER_OUTSIDE'
  | 'FOLDER_COPY_FAILED';

export interface FolderRetrieveFailure {
  readonly sopInstanceUid: string;
  readonly code: FolderRetrieveCode;
  /** UIDs, sizes and paths relative to the source folder only. */
  readonly cause: string;
}

/** A RetrieveReport with the cause of each instance not delivered. */
export interface FolderRetrieveReport extends SourceRetrieveReport {
  readonly failures: readonly FolderRetrieveFailure[];
  readonly causes: ReadonlyMap<string, string>;
}

let seq = 0;

export function folderSource(
  dir: string,
  locate: FolderLocator,
  opts: { concurrency?: number } = {},
): Source & {
  retrieveStudy(spool: Spool, req: RetrieveRequest): Promise<FolderRetrieveReport>;
} {
  async function one(
    spool: Spool,
    studyUid: string,
    uid: string,
    rec: FolderRecord | undefined,
  ): Promise<SpooledInstance | FolderRetrieveFailure> {
    const fail = (code: FolderRetrieveCode, cause: string): FolderRetrieveFailure => ({
      sopInstanceUid: uid,
      code,
      cause,
    });
    if (!rec) return fail('FOLDER_NOT_RECORDED', 'the inventory recorded no file for this instance');
    const abs = isAbsolute(rec.path) ? rec.path : join(dir, rec.path);
    const rel = relative(dir, abs);
    if (!isAbsolute(rec.path) && (rel.startsWith('..') || isAbsolute(rel)))
      return fail('FOLDER_OUTSIDE', `recorded path ${rec.path} is outside the source folder`);
    const info = await readInstanceInfo(abs);
    if (!info.ok) {
      const gone = info.error.code === 'io' && info.error.message.includes('ENOENT');
      return gone
        ? fail('FOLDER_FILE_MISSING', `file ${rel} listed by the inventory is gone`)
        : fail('FOLDER_FILE_UNREADABLE', `file ${rel} cannot be read now: ${info.error.code}`);
    }
    const i = info.value;
    if (i.sopInstanceUid !== uid)
      return fail('FOLDER_FILE_CHANGED', `file ${rel} now holds SOP Instance UID ${i.sopInstanceUid}`);
    if (i.studyInstanceUid !== studyUid)
      return fail(
        'FOLDER_FILE_CHANGED',
        `file ${rel} now belongs to study ${i.studyInstanceUid ?? '(none)'}`,
      );
    if (rec.sizeBytes !== null && i.fileSize !== rec.sizeBytes)
      return fail(
        'FOLDER_FILE_CHANGED',
        `file ${rel} changed size since the inventory (${rec.sizeBytes} → ${i.fileSize} bytes)`,
      );
    const name = `${safeName(uid)}.f${process.pid}-${++seq}`;
    const tmp = join(spool.incoming, `.${name}`); // dot files are half-received files: removed by spool.open()
    const dest = join(spool.incoming, name);
    try {
      await copyFile(abs, tmp, constants.COPYFILE_FICLONE);
      await rename(tmp, dest);
    } catch (e) {
      await rm(tmp, { force: true });
      return fail(
        'FOLDER_COPY_FAILED',
        `copying ${rel} into the spool failed: ${(e as NodeJS.ErrnoException).code ?? 'error'}`,
      );
    }
    const s = await spool.add(dest);
    if (!s || s.sopInstanceUid !== uid) {
      if (!s) await rm(dest, { force: true });
      return fail('FOLDER_FILE_CHANGED', `file ${rel} changed while it was copied`);
    }
    return s;
  }

  return {
    kind: 'folder',
    name: dir,
    async retrieveStudy(spool, req) {
      const records = await locate(req.studyUid);
      const report = {
        arrived: [] as SpooledInstance[],
        missing: [] as string[],
        unlisted: [],
        outcomes: [],
        failures: [] as FolderRetrieveFailure[],
      };
      const queue = [...req.expected.keys()].filter((u) => {
        const have = spool.get(u)[0];
        if (have) report.arrived.push(have);
        return !have;
      });
      const worker = async () => {
        for (let u = queue.shift(); u !== undefined; u = queue.shift()) {
          const r = await one(spool, req.studyUid, u, records.get(u));
          if ('path' in r) report.arrived.push(r);
          else {
            report.missing.push(u);
            report.failures.push(r);
          }
        }
      };
      await Promise.all(Array.from({ length: Math.max(1, opts.concurrency ?? 4) }, worker));
      return {
        ...report,
        causes: new Map(report.failures.map((f) => [f.sopInstanceUid, `${f.code}: ${f.cause}`])),
      };
    },
    close: async () => undefined,
  };
}
