/**
 * Paths named on a command line: each one that cannot be used becomes a typed problem with a clear
 * message ("no such file or directory: /x"), so that a command reports it and goes on with the others.
 */
import { constants } from 'node:fs';
import { access, mkdir, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';

export interface PathProblem {
  readonly path: string;
  /** The system's error code (ENOENT, EACCES…), or NOT_FILE for something that is neither file nor folder. */
  readonly code: string;
  /** "<what>: <path>", e.g. "no such file or directory: /x". */
  readonly message: string;
}

/** What system error codes mean, in the words of strerror. */
export const ERRNO_TEXT: Readonly<Record<string, string>> = {
  ENOENT: 'no such file or directory',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  ENOTDIR: 'not a directory',
  EISDIR: 'is a directory',
  ELOOP: 'too many levels of symbolic links',
  ENAMETOOLONG: 'file name too long',
  EROFS: 'read-only file system',
  ENOSPC: 'no space left on device',
  EEXIST: 'file exists',
  EIO: 'input/output error',
  EMFILE: 'too many open files',
  EADDRINUSE: 'address already in use',
  EADDRNOTAVAIL: 'address not available',
  NOT_FILE: 'not a regular file or directory',
};

/** A file system error about `path` as a PathProblem; anything else is a programmer error and thrown on. */
export function pathProblem(path: string, e: unknown): PathProblem {
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  if (typeof code !== 'string' || !(e instanceof Error)) throw e;
  return { path, code, message: `${ERRNO_TEXT[code] ?? code.toLowerCase()}: ${path}` };
}

/** Every regular file under the given files and folders (recursively, stable order, hidden files skipped). */
export async function listInputFiles(
  paths: readonly string[],
): Promise<{ files: string[]; problems: PathProblem[] }> {
  const files: string[] = [];
  const problems: PathProblem[] = [];
  const walk = async (p: string, named: boolean): Promise<void> => {
    let s;
    try {
      s = await stat(p);
    } catch (e) {
      problems.push(pathProblem(p, e));
      return;
    }
    if (s.isDirectory()) {
      let entries: string[];
      try {
        entries = (await readdir(p)).sort();
      } catch (e) {
        problems.push(pathProblem(p, e));
        return;
      }
      for (const e of entries) if (!e.startsWith('.')) await walk(join(p, e), false);
    } else if (s.isFile()) files.push(p);
    else if (named) problems.push({ path: p, code: 'NOT_FILE', message: `${ERRNO_TEXT.NOT_FILE}: ${p}` });
  };
  for (const p of paths) await walk(p, true);
  return { files, problems };
}

/** Creates `dir` when missing and checks that files can be written in it; undefined when usable. */
export async function writableDir(dir: string): Promise<PathProblem | undefined> {
  try {
    await mkdir(dir, { recursive: true });
    const s = await stat(dir);
    if (!s.isDirectory()) return { path: dir, code: 'ENOTDIR', message: `${ERRNO_TEXT.ENOTDIR}: ${dir}` };
    await access(dir, constants.W_OK | constants.X_OK);
    return undefined;
  } catch (e) {
    return pathProblem(dir, e);
  }
}
