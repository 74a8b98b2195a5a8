/**
 * A served file may change behind the archive (an export folder being rewritten, a file replaced or
 * deleted). Before an instance is sent, its file is checked against the index (size, mtime); a changed
 * file is read again and re-indexed, so that the byte range sent is the file's as it is now, or the
 * sub-operation fails with the cause.
 */
import { stat } from 'node:fs/promises';
import type { SendableInstance } from '../net/services/store-scu.js';
import type { ArchiveContext } from './context.js';
import { examineFile, record } from './indexer.js';

/** An instance to send, with the index row's identity of its file. */
export interface ServedInstance extends SendableInstance {
  /** Path relative to the archive folder. */
  rel: string;
  mtimeMs: number;
  size: number;
}

export type Freshness = { ok: true; instance: SendableInstance } | { ok: false; why: string };

export async function freshen(ctx: ArchiveContext, inst: ServedInstance): Promise<Freshness> {
  let s;
  try {
    s = await stat(inst.path);
  } catch {
    ctx.hierarchy.invalidate(ctx.index.remove(inst.rel));
    return { ok: false, why: `file of ${inst.sopInstanceUid} is gone` };
  }
  if (s.mtimeMs === inst.mtimeMs && s.size === inst.size) return { ok: true, instance: inst };
  const f = await examineFile(ctx.dir, inst.rel, s);
  ctx.hierarchy.invalidate(record(ctx.index, f));
  if (!f.ok)
    return { ok: false, why: `file of ${inst.sopInstanceUid} changed and cannot be read: ${f.problem.code}` };
  if (f.row.sopInstanceUid !== inst.sopInstanceUid)
    return { ok: false, why: `file of ${inst.sopInstanceUid} now holds another instance` };
  const r = f.row;
  return {
    ok: true,
    instance: {
      path: inst.path,
      sopClassUid: r.sopClassUid,
      sopInstanceUid: r.sopInstanceUid,
      transferSyntaxUid: r.transferSyntaxUid,
      datasetOffset: r.datasetOffset,
      datasetLength: r.datasetLength,
    },
  };
}
