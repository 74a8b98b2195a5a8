/**
 * The folder layers of `src/`: which top-level folder imports which, and the cycles among them.
 *
 * A top-level folder of `src/` must not import one that imports it back, directly or through others
 * (the brief: shared helpers live low, the pipeline stages above them, the CLI and the service on top).
 * The graph is read from the sources themselves: every relative `import … from`, `export … from`,
 * `import '…'` and `import(…)` whose target lies in another top-level folder is an edge. Type-only imports count too:
 * they tie the folders together as much as a value does.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';

/** One folder-level edge, with the first import that makes it (file and specifier) as its evidence. */
export interface LayerEdge {
  from: string;
  to: string;
  file: string;
  specifier: string;
}

export interface LayerGraph {
  folders: string[];
  edges: LayerEdge[];
}

const IMPORT =
  /(?:^|[\s;])(?:import|export)\s[^'";]*?from\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)|(?:^|[\s;])import\s*['"]([^'"]+)['"]/gm;

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...sourceFiles(p));
    else if (/\.(ts|mts|js|mjs)$/.test(name) && !name.endsWith('.d.ts')) out.push(p);
  }
  return out;
}

/** The top-level unit of a path under `root`: its first folder, or the file itself when it lies at the top. */
function unitOf(root: string, path: string): string | undefined {
  const rel = relative(root, path);
  if (rel.startsWith('..') || rel === '') return undefined;
  const parts = rel.split(sep);
  return parts.length === 1 ? parts[0]!.replace(/\.(ts|mts|js|mjs)$/, '') : parts[0]!;
}

/** Reads the folder graph of `root` (normally `src/`). */
export function readLayers(root: string): LayerGraph {
  const absRoot = resolve(root);
  const folders = new Set<string>();
  const edges = new Map<string, LayerEdge>();
  for (const file of sourceFiles(absRoot)) {
    const from = unitOf(absRoot, file);
    if (from === undefined) continue;
    folders.add(from);
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(IMPORT)) {
      const specifier = m[1] ?? m[2] ?? m[3];
      if (specifier === undefined || !specifier.startsWith('.')) continue;
      const to = unitOf(absRoot, resolve(dirname(file), specifier));
      if (to === undefined || to === from) continue;
      const key = `${from}\u0000${to}`;
      if (!edges.has(key)) edges.set(key, { from, to, file: relative(absRoot, file), specifier });
    }
  }
  return { folders: [...folders].sort(), edges: [...edges.values()].sort(byEdge) };
}

function byEdge(a: LayerEdge, b: LayerEdge): number {
  return a.from === b.from ? a.to.localeCompare(b.to) : a.from.localeCompare(b.from);
}

/** The strongly connected components with more than one folder (Tarjan), each sorted, in a stable order. */
export function cycles(graph: LayerGraph): string[][] {
  const out = new Map<string, string[]>();
  for (const f of graph.folders) out.set(f, []);
  for (const e of graph.edges) out.get(e.from)?.push(e.to);
  let index = 0;
  const idx = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (v: string): void => {
    idx.set(v, index);
    low.set(v, index);
    index++;
    stack.push(v);
    onStack.add(v);
    for (const w of out.get(v) ?? []) {
      if (!idx.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, idx.get(w)!));
    }
    if (low.get(v) === idx.get(v)) {
      const comp: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        comp.push(w);
      } while (w !== v);
      if (comp.length > 1) found.push(comp.sort());
    }
  };
  for (const f of graph.folders) if (!idx.has(f)) visit(f);
  return found.sort((a, b) => a[0]!.localeCompare(b[0]!));
}

/** The edges that lie inside a cycle: each is one of the imports that would have to go. */
export function cycleEdges(graph: LayerGraph): LayerEdge[] {
  const comp = new Map<string, number>();
  cycles(graph).forEach((c, i) => c.forEach((f) => comp.set(f, i)));
  return graph.edges.filter((e) => comp.has(e.from) && comp.get(e.from) === comp.get(e.to));
}

export interface LayerVerdict {
  ok: boolean;
  /** Cycle edges not in the baseline: what this change added. */
  added: LayerEdge[];
  /** Baseline edges no longer in a cycle: the baseline can shrink. */
  gone: string[];
  lines: string[];
}

/**
 * Judges the graph. Without a baseline every cycle edge fails. With one (lines `from -> to`, the cycle
 * edges that existed when the check was introduced), a new cycle edge fails, and so does a baseline edge
 * that is gone (the baseline must shrink with the code, so a removed edge cannot quietly come back).
 */
export function judgeLayers(graph: LayerGraph, baseline?: string[]): LayerVerdict {
  const inCycle = cycleEdges(graph);
  const known = new Set((baseline ?? []).map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#')));
  const name = (e: LayerEdge): string => `${e.from} -> ${e.to}`;
  const added = inCycle.filter((e) => !known.has(name(e)));
  const now = new Set(inCycle.map(name));
  const gone = [...known].filter((k) => !now.has(k)).sort();
  const lines: string[] = [];
  for (const c of cycles(graph)) lines.push(`cycle: ${c.join(', ')}`);
  for (const e of added) lines.push(`NEW cycle edge ${name(e)}  (${e.file} imports '${e.specifier}')`);
  for (const g of gone) lines.push(`no longer in a cycle: ${g} (remove it from the baseline)`);
  if (inCycle.length === 0) lines.push('no cycles between the top-level folders of src/');
  return { ok: added.length === 0 && gone.length === 0, added, gone, lines };
}
