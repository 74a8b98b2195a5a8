import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const leftovers = new Set<string>();
let exitHookInstalled = false;

/**
 * A fresh directory under os.tmpdir(), e.g. /tmp/pacshift-storescp-Ab12Cd. Short on purpose: DCMTK keeps paths in
 * fixed-size fields. Removed at process exit if nobody removed it before.
 */
export function makeTempDir(name: string): string {
  const dir = mkdtempSync(join(tmpdir(), `pacshift-${name}-`));
  leftovers.add(dir);
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.on('exit', removeLeftoverTempDirs);
  }
  return dir;
}

/** Removes a directory tree made by makeTempDir; never throws (a test's cleanup must not mask its failure). */
export function removeTempDir(dir: string): void {
  leftovers.delete(dir);
  try {
    rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
  } catch {
    // best effort
  }
}

/** Removes every temp dir still there (exit and signal hooks; peers are killed first). */
export function removeLeftoverTempDirs(): void {
  for (const dir of [...leftovers]) removeTempDir(dir);
}

/** Bytes of the files in a folder (not below it), 0 when it does not exist (yet); a file removed meanwhile counts 0. */
export function folderBytes(dir: string): number {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return 0;
  }
  let n = 0;
  for (const f of names) {
    try {
      n += statSync(join(dir, f)).size;
    } catch {
      // removed between the listing and the stat
    }
  }
  return n;
}
