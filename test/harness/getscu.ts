import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { runTool } from './process.js';
import type { ScuOptions, ScuResult, ScuTarget } from './scu.js';

/**
 * DCMTK getscu: C-GET with the received instances written (bit-preserving, +B) into `outDir`. getscu proposes the
 * storage classes it knows with uncompressed transfer syntaxes and the SCP role; instances in other syntaxes cannot come.
 */
export interface GetQuery {
  level: 'PATIENT' | 'STUDY' | 'SERIES' | 'IMAGE';
  keys: Record<string, string>;
  model?: 'study' | 'patient';
}

export interface GetResult extends ScuResult {
  /** Absolute paths of the files getscu wrote. */
  files: string[];
}

export async function getscu(
  target: ScuTarget,
  query: GetQuery,
  outDir: string,
  options: ScuOptions = {},
): Promise<GetResult> {
  const t = String(options.networkTimeoutS ?? 10);
  const args = [
    '-v',
    query.model === 'patient' ? '-P' : '-S',
    '-aet',
    options.callingAe ?? 'GETSCU',
    '-aec',
    target.aeTitle,
    '-to',
    t,
    '-ta',
    t,
    '-td',
    t,
  ];
  args.push(
    '+B',
    '-od',
    outDir,
    ...(options.extraArgs ?? []),
    target.host,
    String(target.port),
    '-k',
    `QueryRetrieveLevel=${query.level}`,
  );
  for (const [k, v] of Object.entries(query.keys)) args.push('-k', `${k}=${v}`);
  const r = await runTool('getscu', args, { timeoutMs: options.timeoutMs ?? 60_000 });
  const files = readdirSync(outDir).map((f) => join(outDir, f));
  return { ...r, ok: r.code === 0, files };
}
