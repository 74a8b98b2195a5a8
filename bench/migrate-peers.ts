/**
 * Peers of `npm run bench:migrate`: Orthanc (source and targets) and the DCMTK chain the migration is
 * compared with — movescu from the source into a storescp, then storescu of the received files into a
 * target Orthanc. Everything runs with TCP_NODELAY=1 (the test harness's peers set it).
 */
import { mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Orthanc } from '../test/harness/orthanc.js';
import { runTool } from '../test/harness/process.js';
import { startStorescp } from '../test/harness/storescp.js';

/** Instances an Orthanc holds (GET /statistics). */
export async function countInstances(o: Orthanc): Promise<number> {
  const s = await o.rest.get<{ CountInstances: number }>('/statistics');
  return s.CountInstances;
}

/** Loads files into an Orthanc with storescu (one association, TCP_NODELAY=1). */
export async function loadWithStorescu(o: Orthanc, files: readonly string[]): Promise<void> {
  const r = await runTool('storescu', ['-aec', o.aeTitle, '127.0.0.1', String(o.dicomPort), ...files], {
    timeoutMs: 1_800_000,
  });
  if (r.code !== 0)
    throw new Error(`storescu into ${o.aeTitle} failed (${String(r.code)}): ${r.stderr.slice(-1000)}`);
}

export interface ChainResult {
  seconds: number;
  moveSeconds: number;
  storeSeconds: number;
  received: number;
}

/**
 * The DCMTK chain: movescu of each study from `source` into a storescp (AE CHAIN, known to the source
 * as a modality), then storescu of everything received into `target`. Timed from the first movescu to
 * the end of storescu.
 */
export async function dcmtkChain(
  source: Orthanc,
  studies: readonly string[],
  target: Orthanc,
  workDir: string,
): Promise<ChainResult> {
  const outDir = join(workDir, 'chain-received');
  mkdirSync(outDir, { recursive: true });
  const scp = await startStorescp({ aeTitle: 'CHAIN', outDir, notify: false });
  try {
    await source.rest.put('/modalities/chain', { AET: 'CHAIN', Host: '127.0.0.1', Port: scp.port });
    const t0 = process.hrtime.bigint();
    for (const study of studies) {
      const r = await runTool(
        'movescu',
        [
          '-S',
          '-aec',
          source.aeTitle,
          '-aem',
          'CHAIN',
          '-k',
          'QueryRetrieveLevel=STUDY',
          '-k',
          `StudyInstanceUID=${study}`,
          '127.0.0.1',
          String(source.dicomPort),
        ],
        { timeoutMs: 1_800_000 },
      );
      if (r.code !== 0)
        throw new Error(`movescu of ${study} failed (${String(r.code)}): ${r.stderr.slice(-1000)}`);
    }
    const t1 = process.hrtime.bigint();
    const files = readdirSync(outDir).map((f) => join(outDir, f));
    await loadWithStorescu(target, files);
    const t2 = process.hrtime.bigint();
    return {
      seconds: Number(t2 - t0) / 1e9,
      moveSeconds: Number(t1 - t0) / 1e9,
      storeSeconds: Number(t2 - t1) / 1e9,
      received: files.length,
    };
  } finally {
    await scp.stop();
  }
}
