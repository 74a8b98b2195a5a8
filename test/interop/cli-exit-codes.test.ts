/**
 * Every command driven into each exit class it can reach (src/cli/exit-codes.ts), through the real CLI
 * (a child process, from the sources) against real peers and real files: pacshift's built-in archive as
 * source and target (the target refuses Secondary Capture with 0122), a closed port, a port that does not
 * speak DICOM, a port already taken, a state folder that does not exist. Every run: the code of its class,
 * a message that names what went wrong, never a stack trace.
 */
import { copyFileSync, mkdirSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Archive, startArchive } from '../../src/archive/archive.js';
import { EXIT_CODES, type ExitName } from '../../src/cli/exit-codes.js';
import { pacshift, STACK_TRACE, type CliRun } from '../harness/cli.js';
import { startScriptedPeer } from '../harness/scripted-peer.js';
import { corpusRow, hasCorpus } from '../harness/corpus.js';
import { freePort } from '../harness/ports.js';
import { makeTempDir, removeTempDir } from '../harness/tmp.js';
import { writeFileSync } from 'node:fs';

const SECONDARY_CAPTURE = '1.2.840.10008.5.1.4.1.1.7';
const MR = [
  'dcm_qa/dcm_qa_nih/20180918Si/mr_0003/epi_pe_ap-00001.dcm',
  'dcm_qa/dcm_qa_nih/20180918Si/mr_0003/epi_pe_ap-00002.dcm',
];
/** Other studies than MR's: the target holds nothing of the plans' studies but what they sent. */
const MR_OTHER = 'dcm_qa/dcm_qa_philips/Magdeburg_2014/fmri/201_EPI_asc_CLEAR_0001_01.dcm';
const MR_MIXED = 'dcm_qa/dcm_qa_nih/20180918GE/mr_0004/axial_epi_fmri_interleaved_i_to_s-00001.dcm';
const SC = 'pydicom/debian_charset_files/chrFren.dcm';

interface Env {
  dir: string;
  local: number;
  target: Archive;
  /** Accepts implicit VR little endian only: the corpus files (explicit) get no presentation context. */
  strict: Archive;
  source: Archive;
  closed: number;
  nonDicom: net.Server;
  nonDicomPort: number;
  held: net.Server;
  heldPort: number;
  /** A DICOMweb root that answers every request 401 (credentials missing). */
  web401: http.Server;
  web401Port: number;
  plans: Record<string, string>;
}

function folderOf(dir: string, name: string, rows: readonly string[]): string {
  const d = join(dir, name);
  mkdirSync(d, { recursive: true });
  rows.forEach((r, i) => copyFileSync(corpusRow(r).absPath, join(d, `${i}.dcm`)));
  return d;
}

function listen(onSocket: (s: net.Socket) => void): Promise<{ server: net.Server; port: number }> {
  return new Promise((res) => {
    const server = net.createServer(onSocket);
    server.listen(0, '127.0.0.1', () => res({ server, port: (server.address() as net.AddressInfo).port }));
  });
}

function plan(
  e: Pick<Env, 'dir' | 'local'>,
  name: string,
  source: unknown,
  target: unknown,
  state?: string,
): string {
  const d = join(e.dir, name);
  mkdirSync(d, { recursive: true });
  const p = join(d, 'plan.yaml');
  writeFileSync(
    p,
    JSON.stringify({
      name,
      version: 1,
      local: { aeTitle: 'PACSHIFT', host: '127.0.0.1', port: e.local },
      source,
      target,
      state: { sqlite: state ?? join(d, 'state.sqlite') },
      spool: { dir: join(d, 'spool') },
      report: { dir: join(d, 'report') },
      transfer: { quietPeriod: '1s' },
      verify: { sample: { percent: 100, minStudies: 0, seed: 1 } },
    }),
  );
  return p;
}

interface Row {
  cmd: string;
  exit: ExitName;
  why: string;
  args: (e: Env) => string[];
  /** What the output must say (stdout + stderr). */
  says?: (e: Env) => (string | RegExp)[];
  /** What it must not say. */
  never?: (string | RegExp)[];
}

const dimse = (ae: string, port: number) => ({ type: 'dimse', host: '127.0.0.1', port, calledAe: ae });

/** In order: later rows use the state earlier ones left (inventory before scope, migrate before verify). */
const ROWS: Row[] = [
  // Peer tools.
  {
    cmd: 'echo',
    exit: 'ok',
    why: 'peer answers',
    args: (e) => ['echo', `NEWPACS@127.0.0.1:${e.target.port}`],
  },
  {
    cmd: 'echo',
    exit: 'peer',
    why: 'connection refused',
    args: (e) => ['echo', `NEWPACS@127.0.0.1:${e.closed}`],
  },
  {
    cmd: 'echo',
    exit: 'peer',
    why: 'association rejected (called AE)',
    args: (e) => ['echo', `WRONG@127.0.0.1:${e.target.port}`],
  },
  {
    cmd: 'echo',
    exit: 'peer',
    why: 'not DICOM',
    args: (e) => ['echo', `X@127.0.0.1:${e.nonDicomPort}`, '--timeout', '5'],
  },
  { cmd: 'echo', exit: 'usage', why: 'bad address', args: () => ['echo', 'nonsense'] },
  {
    cmd: 'find',
    exit: 'ok',
    why: 'peer answers',
    args: (e) => ['find', `NEWPACS@127.0.0.1:${e.target.port}`, '--level', 'study'],
  },
  {
    cmd: 'find',
    exit: 'peer',
    why: 'connection refused',
    args: (e) => ['find', `NEWPACS@127.0.0.1:${e.closed}`, '--level', 'study'],
  },
  { cmd: 'find', exit: 'usage', why: 'no address', args: () => ['find'] },
  {
    cmd: 'store',
    exit: 'ok',
    why: 'stored',
    args: (e) => ['store', `NEWPACS@127.0.0.1:${e.target.port}`, corpusRow(MR_OTHER).absPath],
  },
  {
    cmd: 'store',
    exit: 'partial',
    why: 'instance refused 0122',
    args: (e) => ['store', `NEWPACS@127.0.0.1:${e.target.port}`, corpusRow(SC).absPath],
    says: () => ['0122'],
  },
  {
    cmd: 'store',
    exit: 'peer',
    why: 'connection refused',
    args: (e) => ['store', `NEWPACS@127.0.0.1:${e.closed}`, corpusRow(MR_OTHER).absPath],
    says: (e) => [`127.0.0.1:${e.closed}`],
  },
  {
    cmd: 'store',
    exit: 'peer',
    why: 'association rejected',
    args: (e) => ['store', `WRONG@127.0.0.1:${e.target.port}`, corpusRow(MR_OTHER).absPath],
    says: () => ['rejected'],
  },
  {
    cmd: 'store',
    exit: 'usage',
    why: 'no files',
    args: (e) => ['store', `NEWPACS@127.0.0.1:${e.target.port}`],
  },
  {
    cmd: 'receive',
    exit: 'internal',
    why: 'port in use',
    args: (e) => ['receive', '--port', String(e.heldPort), '--out', join(e.dir, 'rx')],
    says: (e) => [`address already in use: port ${e.heldPort}`],
  },
  { cmd: 'receive', exit: 'usage', why: 'no --out', args: () => ['receive', '--port', '0'] },
  {
    cmd: 'serve',
    exit: 'internal',
    why: 'port in use',
    args: (e) => [
      'serve',
      '--dir',
      join(e.dir, 'good'),
      '--port',
      String(e.heldPort),
      '--ae',
      'X',
      '--db',
      join(e.dir, 'serve.sqlite'),
    ],
    says: (e) => [`address already in use: port ${e.heldPort}`],
  },
  { cmd: 'serve', exit: 'usage', why: 'no --dir', args: () => ['serve', '--port', '0', '--ae', 'X'] },
  { cmd: 'init', exit: 'ok', why: 'writes a plan', args: (e) => ['init', join(e.dir, 'init.yaml')] },
  { cmd: 'init', exit: 'partial', why: 'plan exists', args: (e) => ['init', join(e.dir, 'init.yaml')] },
  { cmd: 'init', exit: 'usage', why: 'no path', args: () => ['init'] },
  { cmd: 'demo', exit: 'usage', why: 'unknown option', args: () => ['demo', '--no-such-option'] },
  // A fresh state: commands that need an inventory say so.
  {
    cmd: 'analyze',
    exit: 'usage',
    why: 'no inventory yet',
    args: (e) => ['analyze', e.plans.fresh!, '--no-sample'],
    says: (e) => ['no inventory yet', `pacshift inventory ${e.plans.fresh}`],
  },
  {
    cmd: 'status',
    exit: 'ok',
    why: 'nothing yet: no ETA',
    args: (e) => ['status', e.plans.fresh!],
    says: () => ['no inventory yet'],
  },
  {
    cmd: 'prioritize',
    exit: 'partial',
    why: 'no such study',
    args: (e) => ['prioritize', e.plans.fresh!, '--study', '1.2.3.4'],
    says: () => ['not in the inventory'],
  },
  { cmd: 'inventory', exit: 'ok', why: 'folder read', args: (e) => ['inventory', e.plans.fresh!] },
  {
    cmd: 'status',
    exit: 'ok',
    why: 'inventoried, no job yet: no ETA',
    args: (e) => ['status', e.plans.fresh!],
    says: () => ['no jobs yet', '2 inventoried'],
    never: ['ETA', 'instances left'],
  },
  // The pipeline, folder → archive, everything accepted.
  { cmd: 'check', exit: 'ok', why: 'target answers', args: (e) => ['check', e.plans.ok!] },
  { cmd: 'inventory', exit: 'ok', why: 'folder read', args: (e) => ['inventory', e.plans.ok!] },
  {
    cmd: 'analyze',
    exit: 'ok',
    why: 'after the inventory',
    args: (e) => ['analyze', e.plans.ok!, '--no-sample'],
  },
  { cmd: 'scope', exit: 'ok', why: 'rules applied', args: (e) => ['scope', e.plans.ok!] },
  { cmd: 'preflight', exit: 'ok', why: 'nothing predicted refused', args: (e) => ['preflight', e.plans.ok!] },
  { cmd: 'sample', exit: 'ok', why: 'test set chosen', args: (e) => ['sample', e.plans.ok!] },
  {
    cmd: 'prioritize',
    exit: 'ok',
    why: 'a pending job moved',
    args: (e) => ['prioritize', e.plans.ok!, '--study', corpusRow(MR[0]!).studyInstanceUid],
    says: () => ['1 job(s) moved'],
  },
  {
    cmd: 'migrate',
    exit: 'ok',
    why: 'every instance verified',
    args: (e) => ['migrate', e.plans.ok!],
    says: () => ['DONE'],
  },
  { cmd: 'verify', exit: 'ok', why: 'all verified', args: (e) => ['verify', e.plans.ok!] },
  { cmd: 'status', exit: 'ok', why: 'done', args: (e) => ['status', e.plans.ok!], says: () => ['DONE'] },
  { cmd: 'report', exit: 'ok', why: 'done', args: (e) => ['report', e.plans.ok!, '--check'] },
  { cmd: 'audit', exit: 'ok', why: 'trail read', args: (e) => ['audit', e.plans.ok!] },
  {
    cmd: 'prioritize',
    exit: 'partial',
    why: 'already verified',
    args: (e) => ['prioritize', e.plans.ok!, '--study', corpusRow(MR[0]!).studyInstanceUid],
    says: () => ['already verified'],
  },
  // Folder → archive with a Secondary Capture the target refuses.
  {
    cmd: 'preflight',
    exit: 'partial',
    why: 'a refusal predicted (no context for explicit VR little endian)',
    args: (e) => ['preflight', e.plans.strict!],
    says: () => [/predicted to be refused: [1-9]/],
  },
  {
    cmd: 'migrate',
    exit: 'partial',
    why: 'DONE, with failures (quarantined)',
    args: (e) => ['migrate', e.plans.refused!],
    says: () => ['with failures'],
  },
  {
    cmd: 'report',
    exit: 'partial',
    why: 'failures: not clean',
    args: (e) => ['report', e.plans.refused!, '--check'],
  },
  // A state folder that does not exist.
  ...(
    [
      'migrate',
      'status',
      'report',
      'inventory',
      'verify',
      'scope',
      'analyze',
      'audit',
      'prioritize',
      'sample',
      'preflight',
    ] as const
  ).map((cmd): Row => ({
    cmd,
    exit: 'internal',
    why: 'state folder missing',
    args: (e) => [cmd, e.plans.nostate!, ...(cmd === 'prioritize' ? ['--study', '1.2.3'] : [])],
    says: (e) => [join(e.dir, 'no-such-folder')],
  })),
  // Sources that cannot be reached, or do not speak DICOM.
  {
    cmd: 'inventory',
    exit: 'peer',
    why: 'source refuses the connection',
    args: (e) => ['inventory', e.plans.deadSource!],
    says: (e) => [`source OLDPACS@127.0.0.1:${e.closed} could not be reached: connect-failed`],
  },
  {
    cmd: 'inventory',
    exit: 'peer',
    why: 'source is not DICOM',
    args: (e) => ['inventory', e.plans.nonDicomSource!],
    says: (e) => [`source X@127.0.0.1:${e.nonDicomPort} could not be reached`],
  },
  {
    cmd: 'migrate',
    exit: 'peer',
    why: 'source refuses the connection',
    args: (e) => ['migrate', e.plans.deadSourceMigrate!],
    says: (e) => [`source OLDPACS@127.0.0.1:${e.closed} could not be reached: connect-failed`],
  },
  {
    cmd: 'migrate',
    exit: 'peer',
    why: 'source is not DICOM',
    args: (e) => ['migrate', e.plans.nonDicomSourceMigrate!],
    says: (e) => [`source X@127.0.0.1:${e.nonDicomPort} could not be reached`],
  },
  {
    cmd: 'check',
    exit: 'peer',
    why: 'source refuses the connection',
    args: (e) => ['check', e.plans.deadSource!],
  },
  // A DICOMweb target that refuses us (401): the target and the HTTP status named.
  {
    cmd: 'migrate',
    exit: 'peer',
    why: 'DICOMweb target answers 401',
    args: (e) => ['migrate', e.plans.web401!],
    says: (e) => [`http://127.0.0.1:${e.web401Port}/dicom-web`, 'HTTP 401'],
  },
  {
    cmd: 'check',
    exit: 'partial',
    why: 'DICOMweb target answers 401',
    args: (e) => ['check', e.plans.web401!],
    says: (e) => [`http://127.0.0.1:${e.web401Port}/dicom-web: QIDO-RS HTTP 401`],
  },
  // Our C-MOVE destination port is taken.
  {
    cmd: 'migrate',
    exit: 'internal',
    why: 'local.port in use',
    args: (e) => ['migrate', e.plans.portHeld!],
    says: (e) => [`local.port ${e.heldPort}`, 'address already in use'],
  },
  {
    cmd: 'inventory',
    exit: 'ok',
    why: 'C-FIND needs no listener',
    args: (e) => ['inventory', e.plans.portHeld!],
  },
  {
    cmd: 'analyze',
    exit: 'internal',
    why: "the sample's C-MOVE listener: local.port in use",
    args: (e) => ['analyze', e.plans.portHeld!],
    says: (e) => [`local.port ${e.heldPort}`, 'address already in use'],
  },
  // Usage errors of the plan commands.
  ...(
    [
      'migrate',
      'verify',
      'status',
      'report',
      'prioritize',
      'check',
      'inventory',
      'scope',
      'preflight',
      'sample',
      'analyze',
      'audit',
    ] as const
  ).map((cmd): Row => ({
    cmd,
    exit: 'usage',
    why: 'plan file missing',
    args: (e) => [cmd, join(e.dir, 'no-plan.yaml')],
  })),
];

describe.skipIf(!hasCorpus())('exit codes of every command (src/cli/exit-codes.ts)', () => {
  const e = {} as Env;
  beforeAll(async () => {
    e.dir = makeTempDir('cli-exit');
    e.local = await freePort();
    e.closed = await freePort();
    ({ server: e.nonDicom, port: e.nonDicomPort } = await listen((s) => {
      s.on('error', () => undefined);
      s.end('HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n');
    }));
    ({ server: e.held, port: e.heldPort } = await listen((s) => s.destroy()));
    e.web401 = http.createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        res.writeHead(401, { 'WWW-Authenticate': 'Basic realm="dicom-web"', 'Content-Type': 'text/plain' });
        res.end('Unauthorized');
      });
    });
    await new Promise<void>((res) => e.web401.listen(0, '127.0.0.1', () => res()));
    e.web401Port = (e.web401.address() as net.AddressInfo).port;
    const good = folderOf(e.dir, 'good', MR);
    const mixed = folderOf(e.dir, 'mixed', [SC, MR_MIXED]);
    e.target = await startArchive({
      dir: join(e.dir, 'target'),
      port: 0,
      host: '127.0.0.1',
      aeTitle: 'NEWPACS',
      refuseSopClasses: [SECONDARY_CAPTURE],
      peers: { PACSHIFT: { host: '127.0.0.1', port: e.local } },
    });
    e.strict = await startArchive({
      dir: join(e.dir, 'strict'),
      port: 0,
      host: '127.0.0.1',
      aeTitle: 'STRICT',
      acceptTransferSyntaxes: ['1.2.840.10008.1.2'],
    });
    e.source = await startArchive({
      dir: folderOf(e.dir, 'dimse-source', MR),
      port: 0,
      host: '127.0.0.1',
      aeTitle: 'OLDPACS',
      dbPath: join(e.dir, 'source-index.sqlite'),
      peers: { PACSHIFT: { host: '127.0.0.1', port: e.heldPort } },
    });
    const target = dimse('NEWPACS', e.target.port);
    e.plans = {
      ok: plan(e, 'ok', { type: 'folder', path: good }, target),
      strict: plan(e, 'strict', { type: 'folder', path: good }, dimse('STRICT', e.strict.port)),
      fresh: plan(e, 'fresh', { type: 'folder', path: good }, target),
      refused: plan(e, 'refused', { type: 'folder', path: mixed }, target),
      nostate: plan(
        e,
        'nostate',
        { type: 'folder', path: good },
        target,
        join(e.dir, 'no-such-folder', 'state.sqlite'),
      ),
      web401: plan(
        e,
        'web401',
        { type: 'folder', path: good },
        {
          type: 'dicomweb',
          url: `http://127.0.0.1:${e.web401Port}/dicom-web`,
        },
      ),
      deadSource: plan(e, 'dead-source', dimse('OLDPACS', e.closed), target),
      nonDicomSource: plan(e, 'non-dicom-source', dimse('X', e.nonDicomPort), target),
      // migrate's own first inventory (on the states above, inventory has already run).
      deadSourceMigrate: plan(e, 'dead-source-migrate', dimse('OLDPACS', e.closed), target),
      nonDicomSourceMigrate: plan(e, 'non-dicom-source-migrate', dimse('X', e.nonDicomPort), target),
      portHeld: plan(
        { dir: e.dir, local: e.heldPort },
        'port-held',
        { ...dimse('OLDPACS', e.source.port), retrieve: 'c-move' },
        target,
      ),
    };
  }, 120_000);
  afterAll(async () => {
    await e.target?.close();
    await e.source?.close();
    await e.strict?.close();
    e.nonDicom?.close();
    e.held?.close();
    e.web401?.close();
    if (e.dir) removeTempDir(e.dir);
  });

  it('every command has a row', () => {
    const cmds = new Set(ROWS.map((r) => r.cmd));
    for (const c of [
      'echo',
      'find',
      'store',
      'receive',
      'verify',
      'status',
      'report',
      'serve',
      'migrate',
      'prioritize',
      'demo',
      'init',
      'check',
      'inventory',
      'scope',
      'preflight',
      'sample',
      'analyze',
      'audit',
    ])
      expect(cmds, c).toContain(c);
  });

  it('echo: --timeout is the whole deadline (a peer that accepts and never answers the C-ECHO)', async () => {
    const peer = await startScriptedPeer(
      [{ do: 'expect', pdu: 'associate-rq' }, { do: 'accept' }, { do: 'silent' }],
      {
        stepTimeoutMs: 120_000,
      },
    );
    try {
      const r = await pacshift(['echo', `X@127.0.0.1:${peer.port}`, '--timeout', '3']);
      const text = r.stdout + r.stderr;
      expect(r.code, text).toBe(EXIT_CODES.peer.code);
      expect(text).toContain('no answer within 3000 ms');
      // Before: 30 s for the C-ECHO and 30 s for the release, whatever --timeout said (60.3 s measured).
      expect(r.seconds).toBeLessThan(3 + 6);
    } finally {
      await peer.stop();
    }
  }, 120_000);

  it.each([
    ['SIGTERM', 'sigterm'],
    ['SIGINT', 'sigint'],
  ] as const)(
    'echo stopped by %s while the peer says nothing: exit %s',
    async (signal, exit) => {
      const peer = await startScriptedPeer(
        [{ do: 'expect', pdu: 'associate-rq' }, { do: 'accept' }, { do: 'silent' }],
        {
          stepTimeoutMs: 120_000,
        },
      );
      try {
        const r = await pacshift(['echo', `X@127.0.0.1:${peer.port}`, '--timeout', '60'], {
          signal: { signal, afterMs: 3000 },
        });
        expect(r.code, r.stdout + r.stderr).toBe(EXIT_CODES[exit].code);
        expect(r.seconds).toBeLessThan(3 + 10);
      } finally {
        await peer.stop();
      }
    },
    120_000,
  );

  it.each([
    ['receive', (e: Env) => ['receive', '--port', '0', '--out', join(e.dir, 'rx-signal')], 'receiving as'],
    [
      'serve',
      (e: Env) => [
        'serve',
        '--dir',
        join(e.dir, 'good'),
        '--port',
        '0',
        '--ae',
        'X',
        '--db',
        join(e.dir, 'serve2.sqlite'),
      ],
      'serving',
    ],
  ] as const)(
    '%s: SIGTERM is its normal end, exit 0 with its totals',
    async (_, args, ready) => {
      const r = await pacshift(args(e), { signal: { signal: 'SIGTERM', when: ready, afterMs: 60_000 } });
      expect(r.code, r.stdout + r.stderr).toBe(EXIT_CODES.ok.code);
      expect(r.stdout + r.stderr).toMatch(/stored|stopped/);
    },
    120_000,
  );

  it.each(ROWS.map((r) => [`${r.cmd} → ${r.exit} (${EXIT_CODES[r.exit].code}): ${r.why}`, r] as const))(
    '%s',
    async (_, row) => {
      const r: CliRun = await pacshift(row.args(e), { timeoutMs: 180_000 });
      const text = r.stdout + r.stderr;
      if (process.env.SHOWCLI) console.log(`$ ${row.args(e).join(' ')} → ${r.code}\n${text}`);
      expect(text).not.toMatch(STACK_TRACE);
      expect(r.code, text).toBe(EXIT_CODES[row.exit].code);
      for (const s of row.says?.(e) ?? []) expect(text).toMatch(s);
      for (const s of row.never ?? []) expect(text).not.toMatch(s);
    },
    200_000,
  );
});
