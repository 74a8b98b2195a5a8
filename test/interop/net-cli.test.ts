import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasCorpus, manifest, type ManifestRow } from '../harness/corpus.js';
import { startDcmqrscp, type Dcmqrscp } from '../harness/dcmqrscp.js';
import { datasetBytes } from '../harness/dicom-file.js';
import { freePort } from '../harness/ports.js';
import { peers } from '../harness/process.js';
import { echoscu } from '../harness/scu.js';
import { makeTempDir, removeTempDir } from '../harness/tmp.js';

// The real `pacshift` command line, as child processes: `receive` listens, `store` sends the corpus files to it,
// `echo` checks it, `find --json` queries dcmqrscp. Exit codes (src/cli/exit-codes.ts) and JSON output are checked.

const ROOT = resolve(import.meta.dirname, '..', '..');
const BIN = join(ROOT, 'src', 'cli', 'bin.ts');

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function pacshift(args: string[], timeoutMs = 60_000): Promise<Run> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, ['--import', 'tsx', BIN, ...args], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => err.push(c));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('error', fail);
    child.once('close', (code) => {
      clearTimeout(timer);
      done({
        code,
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
      });
    });
  });
}

const jsonLines = (s: string): Record<string, unknown>[] =>
  s
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);

/** The Siemens 4-series study: 8 well-formed explicit VR files. */
const isStudyFile = (r: ManifestRow) => r.path.startsWith('dcm_qa/dcm_qa_nih/20180918Si/');

describe.skipIf(!peers.dcmtk || !hasCorpus())('pacshift CLI: receive, store, echo, find --json', () => {
  let receiver: ChildProcess;
  let receiverOut = '';
  let receiverErr = '';
  let receiverExit: Promise<number | null>;
  let port: number;
  let outDir: string;
  let qr: Dcmqrscp;
  let rows: ManifestRow[];

  beforeAll(async () => {
    rows = manifest().filter(isStudyFile);
    outDir = makeTempDir('cli-receive');
    port = await freePort();
    receiver = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        BIN,
        'receive',
        '--port',
        String(port),
        '--host',
        '127.0.0.1',
        '--ae',
        'CLI_RECV',
        '--out',
        outDir,
        '--allow',
        'CLI_SEND@127.0.0.1',
        '--allow',
        'ECHOSCU',
        '--json',
      ],
      {
        cwd: ROOT,
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    receiver.stdout!.on('data', (c: Buffer) => (receiverOut += c.toString('utf8')));
    receiver.stderr!.on('data', (c: Buffer) => (receiverErr += c.toString('utf8')));
    receiverExit = new Promise((r) => receiver.once('close', (code) => r(code)));
    [qr] = await Promise.all([
      startDcmqrscp({ aeTitle: 'CLI_QR', files: rows.map((r) => r.absPath) }),
      (async () => {
        const deadline = Date.now() + 30_000;
        while (!receiverErr.includes(`on port ${port}`)) {
          if (Date.now() > deadline || receiver.exitCode !== null)
            throw new Error(`pacshift receive did not start:\n${receiverErr}`);
          await new Promise((r) => setTimeout(r, 50));
        }
      })(),
    ]);
  }, 120_000);
  afterAll(async () => {
    if (receiver && receiver.exitCode === null) receiver.kill('SIGKILL');
    await qr?.stop();
    removeTempDir(outDir);
  });

  it('echo: exit 0 and {ok, status 0}; to a closed port exit 3 with a typed connect failure', async () => {
    const good = await pacshift(['echo', `CLI_RECV@127.0.0.1:${port}`, '--calling-ae', 'CLI_SEND', '--json']);
    expect(good.code, good.stderr).toBe(0);
    expect(jsonLines(good.stdout)).toMatchObject([
      { ok: true, status: 0, peer: `CLI_RECV@127.0.0.1:${port}` },
    ]);

    const closed = await pacshift(['echo', `NOBODY@127.0.0.1:${await freePort()}`, '--json']);
    expect(closed.code).toBe(3);
    expect(jsonLines(closed.stdout)).toMatchObject([{ ok: false, failure: { kind: 'connect-failed' } }]);
  });

  it('echo from a calling AE receive does not allow: exit 3, A-ASSOCIATE-RJ calling-AE-not-recognized', async () => {
    const r = await pacshift(['echo', `CLI_RECV@127.0.0.1:${port}`, '--calling-ae', 'STRANGER', '--json']);
    expect(r.code).toBe(3);
    expect(jsonLines(r.stdout)).toMatchObject([
      { ok: false, failure: { kind: 'rejected', result: 1, source: 1, reason: 3 } },
    ]);
    expect(receiverErr).toMatch(/calling AE STRANGER is not configured/);
    // A DCMTK SCU from an allowed AE gets through.
    expect(
      (await echoscu({ host: '127.0.0.1', port, aeTitle: 'CLI_RECV' }, { callingAe: 'ECHOSCU' })).ok,
    ).toBe(true);
  });

  it('store → receive: exit 0, one JSON line per file and a summary; receive writes each data set unchanged', async () => {
    const r = await pacshift([
      'store',
      `CLI_RECV@127.0.0.1:${port}`,
      ...rows.map((x) => x.absPath),
      '--calling-ae',
      'CLI_SEND',
      '--json',
      '--associations',
      '2',
    ]);
    expect(r.code, r.stderr).toBe(0);
    const lines = jsonLines(r.stdout);
    const perFile = lines.filter((l) => 'path' in l);
    expect(perFile.map((l) => [l.sopInstanceUid, l.ok, l.status]).sort()).toEqual(
      rows.map((x) => [x.sopInstanceUid, true, '0000']).sort(),
    );
    expect(lines.at(-1)).toMatchObject({
      summary: { files: rows.length, stored: rows.length, failed: 0, unreadable: 0 },
    });

    // receive printed one JSON line per stored instance, with the calling AE.
    const deadline = Date.now() + 10_000;
    while (jsonLines(receiverOut).length < rows.length && Date.now() < deadline)
      await new Promise((res) => setTimeout(res, 50));
    const stored = jsonLines(receiverOut);
    expect(new Set(stored.map((s) => s.stored))).toEqual(new Set(rows.map((x) => x.sopInstanceUid)));
    expect(stored.every((s) => s.from === 'CLI_SEND')).toBe(true);
    for (const s of stored) {
      const row = rows.find((x) => x.sopInstanceUid === s.stored)!;
      expect(datasetBytes(String(s.path)).equals(datasetBytes(row.absPath)), row.path).toBe(true);
    }
    expect(readdirSync(outDir).filter((f) => f.endsWith('.dcm'))).toHaveLength(rows.length);
  });

  it('store with a file that cannot be sent: exit 1, its typed cause in the JSON, the others stored', async () => {
    const bad = manifest().find((x) => x.path === 'pydicom/debian_test_files/no_meta.dcm')!;
    const r = await pacshift([
      'store',
      `CLI_RECV@127.0.0.1:${port}`,
      rows[0]!.absPath,
      bad.absPath,
      '--calling-ae',
      'CLI_SEND',
      '--json',
    ]);
    expect(r.code).toBe(1);
    const lines = jsonLines(r.stdout);
    expect(lines.find((l) => l.path === bad.absPath)).toMatchObject({
      ok: false,
      failure: expect.stringMatching(/^no-meta: /),
    });
    expect(lines.at(-1)).toMatchObject({ summary: { files: 2, stored: 1, unreadable: 1 } });
  });

  it('find --json at study and image level against dcmqrscp: exit 0, complete, matches as loaded', async () => {
    const study = rows[0]!.studyInstanceUid;
    const s = await pacshift([
      'find',
      `${qr.aeTitle}@127.0.0.1:${qr.port}`,
      '--level',
      'study',
      '-k',
      'StudyInstanceUID',
      '-k',
      'PatientID',
      '--json',
    ]);
    expect(s.code, s.stderr).toBe(0);
    const studies = jsonLines(s.stdout)[0]!;
    expect(studies).toMatchObject({ ok: true, complete: true, status: '0x0000', count: 1 });
    expect((studies.matches as Record<string, unknown>[]).map((m) => m.StudyInstanceUID)).toEqual([study]);

    const series = rows.filter((x) => x.seriesInstanceUid === rows[0]!.seriesInstanceUid);
    const i = await pacshift([
      'find',
      `${qr.aeTitle}@127.0.0.1:${qr.port}`,
      '--level',
      'image',
      '-k',
      `StudyInstanceUID=${study}`,
      '-k',
      `SeriesInstanceUID=${series[0]!.seriesInstanceUid}`,
      '-k',
      'SOPInstanceUID',
      '--json',
    ]);
    expect(i.code, i.stderr).toBe(0);
    const images = jsonLines(i.stdout)[0]!;
    expect(images).toMatchObject({ ok: true, complete: true, count: series.length });
    expect(new Set((images.matches as Record<string, unknown>[]).map((m) => m.SOPInstanceUID))).toEqual(
      new Set(series.map((x) => x.sopInstanceUid)),
    );

    // dcmqrscp wants the unique keys of every level above (hierarchical query): without the series it answers
    // C000. The CLI says the answer is not complete and exits 1.
    const flat = await pacshift([
      'find',
      `${qr.aeTitle}@127.0.0.1:${qr.port}`,
      '--level',
      'image',
      '-k',
      `StudyInstanceUID=${study}`,
      '-k',
      'SOPInstanceUID',
      '--json',
    ]);
    expect(flat.code).toBe(1);
    expect(jsonLines(flat.stdout)[0]).toMatchObject({ ok: false, complete: false, status: '0xC000' });

    const bad = await pacshift(['find', `${qr.aeTitle}@127.0.0.1:${qr.port}`, '--level', 'nonsense']);
    expect(bad.code).toBe(2);
  });

  it('receive stops on SIGTERM with exit 0 and its totals', async () => {
    receiver.kill('SIGTERM');
    expect(await receiverExit).toBe(0);
    expect(receiverErr).toMatch(new RegExp(`stored ${rows.length + 1}, refused 0`));
  });
});
