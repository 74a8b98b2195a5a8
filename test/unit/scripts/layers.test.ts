import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { cycles, judgeLayers, readLayers } from '../../../scripts/layers.js';
import { makeTempDir, removeTempDir } from '../../harness/tmp.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '../../..');

function tree(files: Record<string, string>): string {
  const dir = makeTempDir('layers');
  dirs.push(dir);
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  return dir;
}
const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) removeTempDir(d);
});

describe('folder layers of src/', () => {
  it('a folder that imports one importing it back, through a third, fails and names each edge with its import', () => {
    const dir = tree({
      'low/a.ts': 'export const a = 1;\n',
      'mid/b.ts':
        "import { a } from '../low/a.js';\nimport type { T } from '../top/t.js';\nexport const b = a;\n",
      'top/t.ts': "export type T = number;\nexport { b } from '../mid/b.js';\n",
      'stage/s.ts': "const m = await import('../cli/c.js');\nexport default m;\n",
      'cli/c.ts':
        "import '../stage/s.js';\nimport { readFileSync } from 'node:fs';\nexport const c = readFileSync;\n",
    });
    const graph = readLayers(dir);
    expect(cycles(graph)).toEqual([
      ['cli', 'stage'],
      ['mid', 'top'],
    ]);
    const v = judgeLayers(graph);
    expect(v.ok).toBe(false);
    expect(v.added.map((e) => `${e.from} -> ${e.to}`)).toEqual([
      'cli -> stage',
      'mid -> top',
      'stage -> cli',
      'top -> mid',
    ]);
    expect(v.lines).toContain("NEW cycle edge mid -> top  (mid/b.ts imports '../top/t.js')");
  });

  it('layers that only point down pass; imports within a folder and of packages are not edges', () => {
    const dir = tree({
      'util/u.ts': 'export const u = 1;\n',
      'net/n.ts': "import { u } from '../util/u.js';\nimport { x } from './x.js';\nexport const n = u + x;\n",
      'net/x.ts': 'export const x = 2;\n',
      'cli/c.ts': "import { n } from '../net/n.js';\nimport pino from 'pino';\nexport const c = [n, pino];\n",
    });
    const v = judgeLayers(readLayers(dir));
    expect(v.ok).toBe(true);
    expect(v.lines).toEqual(['no cycles between the top-level folders of src/']);
  });

  it('with a baseline, a known cycle edge passes, a new one fails, and a listed edge that is gone fails', () => {
    const dir = tree({
      'a/a.ts': "import '../b/b.js';\n",
      'b/b.ts': "import '../a/a.js';\n",
    });
    const graph = readLayers(dir);
    expect(judgeLayers(graph, ['# known', 'a -> b', 'b -> a']).ok).toBe(true);
    expect(judgeLayers(graph, ['a -> b']).added.map((e) => e.to)).toEqual(['a']);
    const stale = judgeLayers(graph, ['a -> b', 'b -> a', 'a -> c']);
    expect(stale.ok).toBe(false);
    expect(stale.gone).toEqual(['a -> c']);
  });

  it('the repository: src/ adds no cycle edge beyond scripts/layers-baseline.txt and the baseline is current', () => {
    const baseline = readFileSync(join(ROOT, 'scripts/layers-baseline.txt'), 'utf8').split('\n');
    const v = judgeLayers(readLayers(join(ROOT, 'src')), baseline);
    expect(v.lines.filter((l) => !l.startsWith('cycle:'))).toEqual([]);
    expect(v.ok).toBe(true);
  });
});
