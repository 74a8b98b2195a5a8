/**
 * Indexes the files of the archive folder, in place: each file is identified (readInstanceInfo),
 * its header attributes read, and a row written; a file that cannot be read is recorded with its
 * typed error, never dropped. Re-indexing reads only files whose size or mtime changed, and drops
 * rows of files that are gone.
 */
import { stat } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { readInstanceInfo } from '../dicom/part10.js';
import { listFiles } from '../util/files.js';
import { readHeaderAttributes } from './header.js';
import type { ArchiveIndex, InstanceRow, ProblemRow } from './index-db.js';

export type IndexedFile = { ok: true; row: InstanceRow } | { ok: false; problem: ProblemRow };

/** Codes the archive adds to DicomFileError's: readable files it cannot place in the Q/R hierarchy. */
export type ArchiveProblemCode = 'missing-study-uid' | 'missing-series-uid';

const toPosix = (p: string): string => p.split(sep).join('/');

/** Identify one file and read its attributes (no index write). `rel` is relative to `dir`. */
export async function examineFile(
  dir: string,
  rel: string,
  st?: { mtimeMs: number; size: number },
): Promise<IndexedFile> {
  const path = join(dir, rel);
  const s = st ?? (await stat(path));
  const base = { path: rel, mtimeMs: s.mtimeMs, size: s.size };
  const info = await readInstanceInfo(path);
  if (!info.ok) {
    const uid = info.error.detail?.sopInstanceUid;
    return {
      ok: false,
      problem: {
        ...base,
        code: info.error.code,
        message: info.error.message,
        ...(typeof uid === 'string' && uid ? { sopInstanceUid: uid } : {}),
      },
    };
  }
  const i = info.value;
  const missing = !i.studyInstanceUid
    ? 'missing-study-uid'
    : !i.seriesInstanceUid
      ? 'missing-series-uid'
      : undefined;
  if (missing) {
    const what =
      missing === 'missing-study-uid' ? 'StudyInstanceUID (0020,000D)' : 'SeriesInstanceUID (0020,000E)';
    return {
      ok: false,
      problem: {
        ...base,
        code: missing,
        message: `${path}: no ${what}: cannot be placed in the Q/R hierarchy`,
        sopInstanceUid: i.sopInstanceUid,
      },
    };
  }
  const attrs = await readHeaderAttributes(i);
  if (!attrs.ok) {
    return {
      ok: false,
      problem: {
        ...base,
        code: attrs.error.code,
        message: attrs.error.message,
        sopInstanceUid: i.sopInstanceUid,
      },
    };
  }
  return {
    ok: true,
    row: {
      ...base,
      sopInstanceUid: i.sopInstanceUid,
      sopClassUid: i.sopClassUid,
      transferSyntaxUid: i.transferSyntaxUid,
      datasetOffset: i.datasetOffset,
      datasetLength: i.datasetLength,
      patientId: attrs.value.PatientID ?? '',
      studyUid: i.studyInstanceUid!,
      seriesUid: i.seriesInstanceUid!,
      attrs: attrs.value,
    },
  };
}

/** Write what examineFile found; returns the studies whose content changed. */
export function record(index: ArchiveIndex, f: IndexedFile): string[] {
  return f.ok ? index.putInstance(f.row) : index.putProblem(f.problem);
}

export interface IndexReport {
  /** Files read this time (new or changed). */
  read: number;
  unchanged: number;
  removed: number;
  /** Of the files read: how many could not be served. */
  problems: number;
  touchedStudies: Set<string>;
}

/** Files examined at once while indexing (reads overlap; rows are still written in path order). */
const READ_AHEAD = 8;

/**
 * Index `dir` (recursively, hidden files skipped) and `alsoUnder` folders outside it (the store
 * folder). `onProgress` is told how many of the listed files are done.
 */
export async function indexFolder(
  dir: string,
  index: ArchiveIndex,
  opts: { alsoUnder?: readonly string[]; onProgress?: (done: number, total: number) => void } = {},
): Promise<IndexReport> {
  const known = index.knownFiles();
  const report: IndexReport = { read: 0, unchanged: 0, removed: 0, problems: 0, touchedStudies: new Set() };
  const seen = new Set<string>();
  const roots = [dir, ...(opts.alsoUnder ?? []).filter((d) => relative(dir, d).startsWith('..'))];
  const files = await listFiles(roots);
  const pending: Promise<IndexedFile | undefined>[] = [];
  let done = 0;
  const settle = async () => {
    const f = await pending.shift()!;
    opts.onProgress?.(++done, files.length);
    if (!f) return;
    report.read++;
    if (!f.ok) report.problems++;
    for (const u of record(index, f)) report.touchedStudies.add(u);
  };
  for (const abs of files) {
    const rel = toPosix(relative(dir, abs));
    if (seen.has(rel)) {
      opts.onProgress?.(++done, files.length);
      continue;
    }
    seen.add(rel);
    pending.push(
      (async () => {
        let s;
        try {
          s = await stat(abs);
        } catch {
          seen.delete(rel); // gone since it was listed: its row goes too
          return undefined;
        }
        const k = known.get(rel);
        if (k && k.mtimeMs === s.mtimeMs && k.size === s.size) {
          report.unchanged++;
          return undefined;
        }
        return examineFile(dir, rel, s);
      })(),
    );
    if (pending.length >= READ_AHEAD) await settle();
  }
  while (pending.length > 0) await settle();
  for (const rel of known.keys()) {
    if (seen.has(rel)) continue;
    report.removed++;
    for (const u of index.remove(rel)) report.touchedStudies.add(u);
  }
  return report;
}
