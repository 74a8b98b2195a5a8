import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The shared real-world corpus lives beside the checkout (../shared/corpus); PACSHIFT_CORPUS overrides. */
export function corpusDir(): string {
  if (process.env.PACSHIFT_CORPUS) return resolve(process.env.PACSHIFT_CORPUS);
  const here = dirname(fileURLToPath(import.meta.url));
  // src/util or dist/util -> project root
  const root = resolve(here, '..', '..');
  return join(root, '..', 'shared', 'corpus');
}

export const hasCorpus = (): boolean => existsSync(join(corpusDir(), 'MANIFEST.tsv'));
