/**
 * `node --import tsx scripts/check-layers.ts [--write-baseline]`: fails (exit 1) when a top-level folder of
 * `src/` imports one that imports it back, and prints the edge with the import that makes it.
 *
 * scripts/layers-baseline.txt lists the cycle edges that existed when this check came in (the renovation
 * of issue 8 removes them). A new cycle edge fails; so does a listed edge that is gone, so the list only
 * shrinks: `--write-baseline` rewrites it from the code after an edge was removed.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cycleEdges, judgeLayers, readLayers } from './layers.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const baselinePath = join(root, 'scripts', 'layers-baseline.txt');
const graph = readLayers(join(root, 'src'));

if (process.argv.includes('--write-baseline')) {
  const lines = cycleEdges(graph).map((e) => `${e.from} -> ${e.to}`);
  const head = '# cycle edges between top-level folders of src/ still to remove (scripts/check-layers.ts)\n';
  writeFileSync(baselinePath, head + lines.map((l) => `${l}\n`).join(''));
  console.log(`wrote ${lines.length} edges to scripts/layers-baseline.txt`);
  process.exit(0);
}

const baseline = existsSync(baselinePath) ? readFileSync(baselinePath, 'utf8').split('\n') : [];
const verdict = judgeLayers(graph, baseline);
for (const l of verdict.lines) console.log(l);
console.log(verdict.ok ? 'layers: ok' : 'layers: FAILED');
process.exit(verdict.ok ? 0 : 1);
