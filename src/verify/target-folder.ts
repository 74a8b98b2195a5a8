/**
 * A folder target (plan target.type: folder) seen as a target: the folder is indexed once (SOP
 * Instance UIDs by study), and each file's header is compared directly. Files added after the index
 * was built are found by re-indexing when an expected instance is not there (at most every `refreshMs`).
 */
import { readInstanceInfo } from '../dicom/part10.js';
import type { Instance } from '../state/types.js';
import { listFiles } from '../util/files.js';
import { err, ok, type Result } from '../util/result.js';
import { recordPassThrough } from './pass-through.js';
import type { Header, RetrievedFiles, TargetListing, VerifyTarget } from './target.js';
import type { VerifyFailure } from './types.js';

interface Indexed {
  path: string;
  sopInstanceUid: string;
}

export function folderTarget(dir: string, opts: { refreshMs?: number } = {}): VerifyTarget {
  const refreshMs = opts.refreshMs ?? 60_000;
  let index: Map<string, Indexed[]> | undefined;
  let builtAt = 0;

  async function build(): Promise<Result<Map<string, Indexed[]>, VerifyFailure>> {
    let files: string[];
    try {
      files = await listFiles([dir]);
    } catch (e) {
      return err({
        code: 'TARGET_FOLDER',
        message: `cannot read the target folder ${dir}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
        retryable: true,
      });
    }
    const m = new Map<string, Indexed[]>();
    for (const path of files) {
      const info = await readInstanceInfo(path, { descendDefinedLength: false });
      if (!info.ok || !info.value.studyInstanceUid) continue; // not an instance: not ours to judge
      const list = m.get(info.value.studyInstanceUid) ?? [];
      list.push({ path, sopInstanceUid: info.value.sopInstanceUid });
      m.set(info.value.studyInstanceUid, list);
    }
    index = m;
    builtAt = Date.now();
    return ok(m);
  }

  async function filesOf(
    studyUid: string,
    expected: readonly Instance[],
  ): Promise<Result<Indexed[], VerifyFailure>> {
    let m = index;
    if (!m) {
      const r = await build();
      if (!r.ok) return r;
      m = r.value;
    }
    const have = new Set((m.get(studyUid) ?? []).map((f) => f.sopInstanceUid));
    if (expected.some((i) => !have.has(i.sopInstanceUid)) && Date.now() - builtAt >= refreshMs) {
      const r = await build();
      if (!r.ok) return r;
      m = r.value;
    }
    return ok(m.get(studyUid) ?? []);
  }

  return {
    name: dir,
    async list(studyUid, expected, keywords): Promise<Result<TargetListing, VerifyFailure>> {
      const files = await filesOf(studyUid, expected);
      if (!files.ok) return files;
      const instances = new Map<string, Header[]>();
      const notes: string[] = [];
      for (const f of files.value) {
        const r = await recordPassThrough(f.path, [...keywords]);
        if (!r.ok) {
          notes.push(`${f.path}: ${r.error.code}`);
          continue;
        }
        instances.set(f.sopInstanceUid, [...(instances.get(f.sopInstanceUid) ?? []), r.value.header]);
      }
      return ok({ instances, complete: true, mode: 'file', notes });
    },
    async retrieve(studyUid, expected): Promise<Result<RetrievedFiles, VerifyFailure>> {
      const files = await filesOf(studyUid, expected);
      if (!files.ok) return files;
      return ok({ paths: files.value.map((f) => f.path), notes: [], release: async () => undefined });
    },
    close: async () => undefined,
  };
}
