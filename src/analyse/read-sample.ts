/**
 * Reads the sample: a folder source's files in place, or copies retrieved from a DICOM source into a
 * temporary folder (removed afterwards); each copy is recorded with store.recordAnalysisHeaders.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { AnalysisHeaderInput, Store } from '../state/index.js';
import { readCopy } from './read-copy.js';
import { SampleRetriever, type SampleRetrieveOptions } from './retrieve.js';
import type { SampleTarget } from './sample.js';

export interface SampleReport {
  /** Instances asked for. */
  readonly requested: number;
  /** Copies read and recorded (new content or read again). */
  readonly read: number;
  /** Of those, SOP Instance UID / content pairs not seen before. */
  readonly newContent: number;
  /** Series whose sample did not (fully) arrive, with the cause. */
  readonly problems: readonly { studyUid: string; seriesUid: string; missing: number; cause: string }[];
}

export interface SampleProgress {
  readonly done: number;
  readonly total: number;
}

async function record(store: Store, rows: AnalysisHeaderInput[]): Promise<number> {
  if (rows.length === 0) return 0;
  return (await store.recordAnalysisHeaders(rows)).inserted;
}

/** Files of a folder source, read in place (`root` = source.path), `concurrency` at a time. */
export async function readFolderSample(
  store: Store,
  root: string,
  targets: readonly SampleTarget[],
  opts: { concurrency?: number; onProgress?: (p: SampleProgress) => void; signal?: AbortSignal } = {},
): Promise<SampleReport> {
  const withPath = targets.filter((t) => t.path !== undefined);
  const problems: SampleReport['problems'][number][] = targets
    .filter((t) => t.path === undefined)
    .map((t) => ({
      studyUid: t.studyUid,
      seriesUid: t.seriesUid,
      missing: 1,
      cause: 'the inventory recorded no file for this instance',
    }));
  let next = 0;
  let done = 0;
  let read = 0;
  let newContent = 0;
  let batch: AnalysisHeaderInput[] = [];
  const flush = async () => {
    const rows = batch;
    batch = [];
    newContent += await record(store, rows);
  };
  const worker = async () => {
    while (next < withPath.length && !opts.signal?.aborted) {
      const t = withPath[next++]!;
      batch.push(await readCopy(join(root, t.path!), t, 'folder'));
      read++;
      if (batch.length >= 200) await flush();
      opts.onProgress?.({ done: ++done, total: withPath.length });
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, opts.concurrency ?? 4) }, worker));
  await flush();
  return { requested: targets.length, read, newContent, problems };
}

/** Copies retrieved from a DICOM source, study by study. */
export async function readDimseSample(
  store: Store,
  targets: readonly SampleTarget[],
  o: SampleRetrieveOptions,
  opts: { onProgress?: (p: SampleProgress) => void; signal?: AbortSignal } = {},
): Promise<SampleReport> {
  const byStudy = new Map<string, SampleTarget[]>();
  for (const t of targets) byStudy.set(t.studyUid, [...(byStudy.get(t.studyUid) ?? []), t]);
  const retriever = new SampleRetriever(o);
  await retriever.start();
  const problems: SampleReport['problems'][number][] = [];
  let read = 0;
  let newContent = 0;
  let done = 0;
  try {
    for (const [studyUid, list] of byStudy) {
      if (opts.signal?.aborted) break;
      const dir = await mkdtemp(join(o.tempDir, 'sample-'));
      try {
        const got = await retriever.study(studyUid, list, dir);
        for (const p of got.problems) problems.push({ studyUid, ...p });
        const where = new Map(list.map((t) => [t.sopInstanceUid, t]));
        const rows: AnalysisHeaderInput[] = [];
        for (const f of got.files) {
          const t = where.get(f.sopInstanceUid);
          rows.push(
            await readCopy(
              f.path,
              {
                sopInstanceUid: f.sopInstanceUid,
                studyUid: t?.studyUid ?? studyUid,
                seriesUid: t?.seriesUid ?? null,
              },
              'sample',
            ),
          );
        }
        read += rows.length;
        newContent += await record(store, rows);
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
      done += list.length;
      opts.onProgress?.({ done, total: targets.length });
    }
  } finally {
    await retriever.close();
  }
  return { requested: targets.length, read, newContent, problems };
}
