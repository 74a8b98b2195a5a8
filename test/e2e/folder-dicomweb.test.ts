/**
 * pacshift migrate + verify across kinds of source and target, through the real CLI:
 * - a folder (a temp tree of symlinks to ~40 corpus files) → Orthanc over DICOMweb (STOW-RS, verified with
 *   QIDO-RS and WADO-RS): every inventoried instance ends verified, or reported with its cause;
 * - Orthanc over DIMSE (C-GET) → a folder: every instance verified in the folder, byte for byte.
 */
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readInstanceInfo } from '../../src/dicom/part10.js';
import { openSqliteStore, type Store } from '../../src/state/index.js';
import { folderPathOf } from '../../src/transfer/targets/index.js';
import { hasCorpus, manifest, wellFormedUncompressed, type ManifestRow } from '../harness/corpus.js';
import { datasetBytes } from '../harness/dicom-file.js';
import { e2eDir, runMigrate } from '../harness/migration.js';
import { startOrthanc, type Orthanc } from '../harness/orthanc.js';
import { freePort } from '../harness/ports.js';
import { peers } from '../harness/process.js';

/** ~40 files: uncompressed ones of many SOP classes, a few compressed, and one HTJ2K Orthanc cannot parse. */
function pickFiles(): ManifestRow[] {
  const seen = new Set<string>();
  const rows: ManifestRow[] = [];
  for (const r of wellFormedUncompressed()) {
    if (rows.length >= 34 || seen.has(r.sopInstanceUid) || !r.studyInstanceUid) continue;
    seen.add(r.sopInstanceUid);
    rows.push(r);
  }
  const compressed = [...manifest()].sort(
    (a, b) =>
      Number(/High-Throughput/.test(b.transferSyntax)) - Number(/High-Throughput/.test(a.transferSyntax)),
  );
  for (const r of compressed) {
    if (rows.length >= 40) break;
    if (/JPEG Lossless|RLE|High-Throughput/.test(r.transferSyntax) && !seen.has(r.sopInstanceUid)) {
      seen.add(r.sopInstanceUid);
      rows.push(r);
    }
  }
  return rows;
}

function basePlan(dir: string, port: number, source: unknown, target: unknown): string {
  const plan = {
    name: 'e2e-kinds',
    version: 1,
    local: { aeTitle: 'PACSHIFT', host: '127.0.0.1', port },
    source,
    target,
    state: { sqlite: join(dir, 'state.sqlite') },
    spool: { dir: join(dir, 'spool') },
    report: { dir: join(dir, 'report') },
    transfer: { quietPeriod: '1s' },
    verify: { sample: { percent: 100 } },
  };
  const p = join(dir, 'plan.yaml');
  writeFileSync(p, JSON.stringify(plan, null, 2));
  return p;
}

/** Every inventoried instance: verified, or with a recorded outcome (cause) of a failure. */
async function accounting(store: Store) {
  const verified: string[] = [];
  const reported = new Map<string, string>();
  const silent: string[] = [];
  const outcomes = await store.listInstanceOutcomes();
  const quarantine = await store.listQuarantine();
  for (const st of await store.pageStudies({ limit: 10_000 })) {
    for (const i of await store.listInstances(st.studyUid, 'all')) {
      if (i.verifyOutcome === 'verified') verified.push(i.sopInstanceUid);
      else {
        const o = outcomes.find((x) => x.sopInstanceUid === i.sopInstanceUid && x.cause);
        const q = quarantine.find((x) => x.sopInstanceUid === i.sopInstanceUid);
        const why = q ? `${q.category}: ${q.cause}` : o ? `${o.category}: ${o.cause}` : undefined;
        if (why) reported.set(i.sopInstanceUid, why);
        else silent.push(i.sopInstanceUid);
      }
    }
  }
  return { verified, reported, silent };
}

describe.skipIf(!peers.dicomweb || !hasCorpus())('e2e: folder → DICOMweb (Orthanc STOW-RS)', () => {
  let orthanc: Orthanc;
  const tmp = e2eDir('folder-dicomweb');
  beforeAll(async () => {
    orthanc = await startOrthanc({ aeTitle: 'WEBTARGET', dicomWeb: true });
  }, 120_000);
  afterAll(async () => {
    await orthanc?.stop();
    tmp.remove();
  }, 60_000);

  it('every instance of the folder is verified at the target or reported with its cause', async () => {
    const src = join(tmp.dir, 'source');
    const rows = pickFiles();
    rows.forEach((r, k) => {
      const d = join(src, `d${k % 5}`);
      mkdirSync(d, { recursive: true });
      symlinkSync(r.absPath, join(d, `f${k}.dcm`));
    });
    const plan = basePlan(
      tmp.dir,
      await freePort(),
      { type: 'folder', path: src },
      { type: 'dicomweb', url: `${orthanc.baseUrl}/dicom-web`, batchInstances: 10 },
    );
    const run = await runMigrate(plan, ['--json', '--until-idle'], {
      logFile: join(tmp.dir, 'migrate.log'),
      timeoutMs: 400_000,
    });
    expect(run.signal, run.log).toBeNull();
    const store = await openSqliteStore({ path: join(tmp.dir, 'state.sqlite') });
    try {
      const a = await accounting(store);
      const inventoried = a.verified.length + a.reported.size + a.silent.length;
      console.log(
        `folder → DICOMweb: ${rows.length} files, ${inventoried} inventoried, ${a.verified.length} verified, ${a.reported.size} reported:\n` +
          [...a.reported].map(([u, c]) => `  ${u}: ${c}`).join('\n'),
      );
      expect(a.silent, run.log).toEqual([]);
      expect(inventoried).toBeGreaterThanOrEqual(30);
      expect(a.verified.length).toBeGreaterThanOrEqual(30);
      // Files the inventory did not list are files it cannot read (inventory findings), none silently left out.
      const listed = new Set([...a.verified, ...a.reported.keys()]);
      const unlisted = rows.filter((r) => !listed.has(r.sopInstanceUid));
      for (const r of unlisted) {
        const info = await readInstanceInfo(r.absPath);
        const why = !info.ok
          ? info.error.code
          : !info.value.studyInstanceUid
            ? 'no StudyInstanceUID'
            : !info.value.seriesInstanceUid
              ? 'no SeriesInstanceUID'
              : undefined;
        console.log(`  not inventoried: ${r.path} (${why ?? 'no reason found'})`);
        expect(why, r.path).toBeDefined();
      }
      // Every verified instance is at Orthanc once.
      const stats = await orthanc.rest.get<{ CountInstances: number }>('/statistics');
      expect(stats.CountInstances).toBeGreaterThanOrEqual(a.verified.length);
    } finally {
      await store.close();
    }
  }, 600_000);
});

describe.skipIf(!peers.orthanc || !hasCorpus())('e2e: DIMSE (Orthanc, C-GET) → folder', () => {
  let orthanc: Orthanc;
  const tmp = e2eDir('dimse-folder');
  let rows: ManifestRow[];
  beforeAll(async () => {
    orthanc = await startOrthanc({ aeTitle: 'OLDPACS' });
    rows = wellFormedUncompressed()
      .filter((r) => r.studyInstanceUid)
      .slice(0, 20);
    for (const r of rows) await orthanc.upload(r.absPath);
  }, 120_000);
  afterAll(async () => {
    await orthanc?.stop();
    tmp.remove();
  }, 60_000);

  it('every instance the source holds is verified in the folder, byte for byte', async () => {
    const out = join(tmp.dir, 'target');
    const plan = basePlan(
      tmp.dir,
      await freePort(),
      {
        type: 'dimse',
        host: '127.0.0.1',
        port: orthanc.dicomPort,
        calledAe: 'OLDPACS',
        retrieve: 'c-get',
      },
      { type: 'folder', path: out },
    );
    const run = await runMigrate(plan, ['--json', '--until-idle'], {
      logFile: join(tmp.dir, 'migrate.log'),
      timeoutMs: 400_000,
    });
    expect(run.signal, run.log).toBeNull();
    const store = await openSqliteStore({ path: join(tmp.dir, 'state.sqlite') });
    try {
      const a = await accounting(store);
      console.log(
        `DIMSE → folder: ${a.verified.length} verified, ${a.reported.size} reported:\n` +
          [...a.reported].map(([u, c]) => `  ${u}: ${c}`).join('\n'),
      );
      expect(a.silent, run.log).toEqual([]);
      expect(a.verified.length, run.log).toBeGreaterThanOrEqual(rows.length - 2);
      // What is in the folder is what Orthanc sent: the data set of each verified file equals the corpus file's.
      let same = 0;
      for (const r of rows) {
        if (!a.verified.includes(r.sopInstanceUid)) continue;
        const p = folderPathOf(out, {
          path: '',
          sopClassUid: '',
          sopInstanceUid: r.sopInstanceUid,
          transferSyntaxUid: '',
          datasetOffset: 0,
          datasetLength: 0,
          studyUid: r.studyInstanceUid,
          seriesUid: r.seriesInstanceUid,
        });
        if (datasetBytes(p).equals(datasetBytes(r.absPath))) same++;
      }
      console.log(
        `DIMSE → folder: ${same} of ${a.verified.length} data sets byte-identical to the corpus files`,
      );
      expect(same).toBeGreaterThan(0);
    } finally {
      await store.close();
    }
  }, 600_000);
});
