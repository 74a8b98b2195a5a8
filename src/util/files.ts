import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';

/** A path the walk could not look into: a dangling symlink (ENOENT), no permission (EACCES)… */
export interface UnlistablePath {
  readonly path: string;
  /** The system error code (ENOENT, EACCES, ELOOP…), or `unreadable` without one. */
  readonly code: string;
  readonly message: string;
}

/**
 * Every regular file under the given files and directories (recursively), in a stable order; hidden
 * files skipped. A path that cannot be looked at throws, unless `onUnlistable` is given: then it is
 * handed to it (with its system error code) and the walk goes on.
 */
export async function listFiles(
  paths: string[],
  onUnlistable?: (u: UnlistablePath) => void,
): Promise<string[]> {
  const out: string[] = [];
  const walk = async (p: string): Promise<void> => {
    let s;
    let entries: string[] | undefined;
    try {
      s = await stat(p);
      if (s.isDirectory()) entries = (await readdir(p)).sort();
    } catch (e) {
      if (!onUnlistable) throw e;
      const code = (e as NodeJS.ErrnoException).code ?? 'unreadable';
      onUnlistable({ path: p, code, message: `${code}: ${(e as Error).message}` });
      return;
    }
    if (entries) {
      for (const e of entries) if (!e.startsWith('.')) await walk(join(p, e));
    } else if (s.isFile()) out.push(p);
  };
  for (const p of paths) await walk(p);
  return out;
}
