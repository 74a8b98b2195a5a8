import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';

/** Every regular file under the given files and directories (recursively), in a stable order; hidden files skipped. */
export async function listFiles(paths: string[]): Promise<string[]> {
  const out: string[] = [];
  const walk = async (p: string): Promise<void> => {
    const s = await stat(p);
    if (s.isDirectory()) {
      const entries = (await readdir(p)).sort();
      for (const e of entries) if (!e.startsWith('.')) await walk(join(p, e));
    } else if (s.isFile()) out.push(p);
  };
  for (const p of paths) await walk(p);
  return out;
}
