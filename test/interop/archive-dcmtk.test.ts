import { readInstanceInfo } from '../../src/dicom/part10.js';
import { readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startArchive } from '../../src/archive/archive.js';
import {
  corpusDir,
  hasCorpus,
  manifest,
  wellFormedUncompressed,
  type ManifestRow,
} from '../harness/corpus.js';
import { getscu } from '../harness/getscu.js';
import { PortClashError, withFreePorts } from '../harness/ports.js';
import { awaitListening, peers, spawnPeer, type PeerProcess } from '../harness/process.js';
import { findscu, movescu, storescu } from '../harness/scu.js';
import { startStorescp, type Storescp } from '../harness/storescp.js';
import { makeTempDir, removeTempDir } from '../harness/tmp.js';
import { datasetDigest, distinct, sentDigest } from '../unit/archive/fixtures.js';

// `pacshift serve` (the CLI, as a child process) against DCMTK's findscu, movescu (into storescp), getscu and storescu.

const ROOT = resolve(import.meta.dirname, '..', '..');
const AE = 'PACSHIFT_AR';

/** Starts `pacshift serve` over the corpus (index and store folder in `tmp`), with `extra` arguments. */
async function startServe(tmp: string, extra: string[]): Promise<{ port: number; proc: PeerProcess }> {
  return withFreePorts(1, async ([port]) => {
    const proc = spawnPeer(
      process.execPath,
      [
        '--import',
        'tsx',
        'src/cli/bin.ts',
        'serve',
        '--dir',
        corpusDir(),
        '--port',
        String(port),
        '--ae',
        AE,
        '--host',
        '127.0.0.1',
        '--db',
        join(tmp, 'index.sqlite'),
        '--store-dir',
        join(tmp, 'received'),
        '--json',
        ...extra,
      ],
      { name: 'pacshift serve', cwd: ROOT, logFile: join(tmp, 'serve.log') },
    );
    try {
      await awaitListening(proc, [port!], 60_000);
      // It listens before it prints its startup line: wait for the line too.
      for (
        const deadline = Date.now() + 10_000;
        !readLog(proc).some((l) => l.includes('"event":"serving"'));
      ) {
        if (Date.now() > deadline) throw new Error(`no startup line\n${proc.logTail(20)}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    } catch (e) {
      if (/EADDRINUSE/.test(String(e))) throw new PortClashError(String(e));
      throw e;
    }
    return { port: port!, proc };
  });
}

/** A study of well-formed, explicit VR little endian instances with valid UIDs (what DCMTK's SCUs take as they are). */
function explicitStudy(minInstances: number): ManifestRow[] {
  const ok = wellFormedUncompressed().filter(
    (r) => r.transferSyntax === 'Explicit VR Little Endian' && /^[0-9.]{1,64}$/.test(r.sopInstanceUid),
  );
  const byStudy = new Map<string, ManifestRow[]>();
  for (const r of ok) byStudy.set(r.studyInstanceUid, [...(byStudy.get(r.studyInstanceUid) ?? []), r]);
  const all = manifest();
  const study = [...byStudy.entries()].find(
    ([uid, rows]) =>
      rows.length >= minInstances && all.filter((r) => r.studyInstanceUid === uid).length === rows.length,
  );
  if (!study) throw new Error(`no explicit VR little endian study with ${minInstances} instances`);
  return study[1];
}

describe.skipIf(!peers.dcmtk || !hasCorpus())('pacshift serve with DCMTK SCUs', () => {
  let tmp: string;
  let serve: { port: number; proc: PeerProcess };
  let storescp: Storescp;
  const target = () => ({ host: '127.0.0.1', port: serve.port, aeTitle: AE });

  beforeAll(async () => {
    tmp = makeTempDir('serve-dcmtk');
    storescp = await startStorescp({ aeTitle: 'STORESCP' });
    serve = await startServe(tmp, ['--peer', `STORESCP=127.0.0.1:${storescp.port}`]);
  }, 120_000);
  afterAll(async () => {
    await serve?.proc.stop();
    await storescp?.stop();
    if (tmp) removeTempDir(tmp);
  });

  it('prints a startup line with what it serves, and the unreadable files', () => {
    const lines = readLog(serve.proc).map((l) => JSON.parse(l) as Record<string, unknown>);
    const serving = lines.find((l) => l.event === 'serving')!;
    expect(serving).toMatchObject({ aeTitle: AE, port: serve.port });
    const unreadable = lines.filter((l) => l.event === 'unreadable');
    expect(unreadable.length).toBe(serving.unreadable);
    expect(unreadable.map((u) => u.path)).toContain('dcm4che/3gb-bulk-data-truncated');
    expect((serving.studies as number) + unreadable.length).toBeGreaterThan(100);
  });

  it('findscu: STUDY level over the whole corpus, SERIES under a study, a refused identifier', async () => {
    const lines = readLog(serve.proc).map((l) => JSON.parse(l) as Record<string, unknown>);
    const studies = lines.find((l) => l.event === 'serving')!.studies as number;
    const r = await findscu(target(), {
      level: 'STUDY',
      keys: { StudyInstanceUID: '', PatientID: '', ModalitiesInStudy: '' },
    });
    expect(r.ok, r.stderr).toBe(true);
    expect(r.finalStatus).toBe('Success');
    expect(r.matches.length).toBe(studies);
    const study = explicitStudy(2);
    const s = await findscu(target(), {
      level: 'SERIES',
      keys: { StudyInstanceUID: study[0]!.studyInstanceUid, SeriesInstanceUID: '', Modality: '' },
    });
    expect(s.matches.map((m) => m.SeriesInstanceUID).sort()).toEqual(
      [...new Set(study.map((x) => x.seriesInstanceUid))].sort(),
    );
    const bad = await findscu(target(), {
      level: 'STUDY',
      keys: { StudyInstanceUID: '', SOPInstanceUID: '' },
    });
    expect(bad.matches).toEqual([]);
    expect(bad.finalStatus).toBe('Error: DataSetDoesNotMatchSOPClass'); // DCMTK's name for A900
    // An attribute the archive does not support: FF01 pending ("optional keys not supported"), returned empty.
    const opt = await findscu(target(), {
      level: 'STUDY',
      keys: { StudyInstanceUID: study[0]!.studyInstanceUid, '0010,1030': '' },
    }); // PatientWeight
    expect(opt.matches.length).toBe(1);
    expect(opt.stderr + opt.stdout).toMatch(/Find Response: 1 \(Pending: WarningUnsupportedOptionalKeys\)/);
  });

  it('movescu into storescp: every instance of the study, byte-identical', async () => {
    const study = explicitStudy(2);
    const r = await movescu(target(), {
      level: 'STUDY',
      keys: { StudyInstanceUID: study[0]!.studyInstanceUid },
      destination: 'STORESCP',
    });
    expect(r.ok, r.stderr).toBe(true);
    const files = await storescp.waitForFiles(study.length);
    expect(files.length).toBe(study.length);
    const expected = new Set(study.map((x) => sentDigest(x.absPath)));
    for (const f of files) expect(expected.has(datasetDigest(f)), f).toBe(true);
    const uids: string[] = [];
    for (const f of files) {
      const i = await readInstanceInfo(f);
      if (i.ok) uids.push(i.value.sopInstanceUid);
    }
    expect(uids.sort()).toEqual(study.map((x) => x.sopInstanceUid).sort());
    const unknown = await movescu(target(), {
      level: 'STUDY',
      keys: { StudyInstanceUID: study[0]!.studyInstanceUid },
      destination: 'NOWHERE',
    });
    expect(unknown.stderr + unknown.stdout).toMatch(/a801|MoveDestinationUnknown/i);
  });

  it('getscu: the study comes back on the same association, byte-identical', async () => {
    const study = explicitStudy(2);
    const out = join(tmp, 'get');
    const { mkdirSync } = await import('node:fs');
    mkdirSync(out, { recursive: true });
    const r = await getscu(
      target(),
      { level: 'STUDY', keys: { StudyInstanceUID: study[0]!.studyInstanceUid } },
      out,
    );
    expect(r.ok, r.stderr).toBe(true);
    expect(r.files.length).toBe(study.length);
    const expected = new Set(study.map((x) => sentDigest(x.absPath)));
    for (const f of r.files) expect(expected.has(datasetDigest(f)), f).toBe(true);
  });

  it('storescu into pacshift serve: stored under the store folder and found by findscu at once', async () => {
    const study = explicitStudy(2);
    // storescu re-sends the study under the same UIDs: the archive serves the new copies (replace), counts unchanged.
    // (storescu re-encodes what it sends, so the stored bytes are compared with nothing but their UIDs.)
    const r = await storescu(
      target(),
      study.map((x) => x.absPath),
    );
    expect(r.ok, r.stderr).toBe(true);
    const stored = readdirSync(join(tmp, 'received')).filter((f) => f.endsWith('.dcm'));
    expect(stored.sort()).toEqual(study.map((x) => `${x.sopInstanceUid}.dcm`).sort());
    for (const x of study) {
      const i = await readInstanceInfo(join(tmp, 'received', `${x.sopInstanceUid}.dcm`));
      expect(i.ok && [i.value.sopInstanceUid, i.value.studyInstanceUid]).toEqual([
        x.sopInstanceUid,
        x.studyInstanceUid,
      ]);
    }
    const series = study[0]!;
    const f = await findscu(target(), {
      level: 'IMAGE',
      keys: {
        StudyInstanceUID: series.studyInstanceUid,
        SeriesInstanceUID: series.seriesInstanceUid,
        SOPInstanceUID: '',
      },
    });
    expect(f.matches.map((m) => m.SOPInstanceUID).sort()).toEqual(
      study
        .filter((x) => x.seriesInstanceUid === series.seriesInstanceUid)
        .map((x) => x.sopInstanceUid)
        .sort(),
    );
  });
});

describe.skipIf(!peers.dcmtk || !hasCorpus())('a capped archive seen by findscu', () => {
  it('--find-limit: N matches, then Cancel', async () => {
    const tmp = makeTempDir('serve-cap');
    const a = await startArchive({
      dir: corpusDir(),
      port: 0,
      host: '127.0.0.1',
      aeTitle: AE,
      dbPath: join(tmp, 'i.sqlite'),
      storeDir: join(tmp, 'r'),
      findLimit: 5,
    });
    try {
      const r = await findscu(
        { host: '127.0.0.1', port: a.port, aeTitle: AE },
        { level: 'STUDY', keys: { StudyInstanceUID: '' } },
      );
      expect(r.matches.length).toBe(5);
      expect(r.finalStatus).toMatch(/Cancel/);
      expect(distinct(r.matches.map((m) => m.StudyInstanceUID))).toBe(5);
    } finally {
      await a.close();
      removeTempDir(tmp);
    }
  });
});

function readLog(proc: PeerProcess): string[] {
  return proc
    .logTail(10_000)
    .split('\n')
    .filter((l) => l.startsWith('{'));
}
