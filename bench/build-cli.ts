/**
 * The CLI built for a benchmark into a folder of its own (another engineer's `npm run build` may be
 * rewriting dist/), once: with `reuse`, an existing build is taken as it is.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '..');

/** Builds the CLI into `out` (unless `reuse` and it is there) and returns the command that runs it. */
export function builtCli(
  out: string,
  reuse: boolean,
  log: (s: string) => void,
): { cmd: string; args: string[] } {
  if (!reuse || !existsSync(join(out, 'cli/bin.js'))) {
    log(`building pacshift into ${out} …`);
    try {
      execFileSync(
        process.execPath,
        [
          join(ROOT, 'node_modules/typescript/bin/tsc'),
          '-p',
          join(ROOT, 'tsconfig.build.json'),
          '--outDir',
          out,
        ],
        { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
      );
    } catch (e) {
      // tsc still emits on type errors; a build that produced the CLI is usable, but say so.
      const text = String((e as { stdout?: Buffer }).stdout ?? '');
      if (!existsSync(join(out, 'cli/bin.js'))) throw new Error(`build failed:\n${text}`);
      log(`warning: tsc reported errors (the CLI was emitted):\n${text.split('\n').slice(0, 10).join('\n')}`);
    }
  }
  return { cmd: process.execPath, args: [join(out, 'cli/bin.js')] };
}
