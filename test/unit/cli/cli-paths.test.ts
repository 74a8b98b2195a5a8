import { spawn } from 'node:child_process';
import { readdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AssociationServer } from '../../../src/net/association/server.js';
import { startScp, storageAcceptPolicy } from '../../../src/net/services/scp.js';
import { FolderStoreTarget } from '../../../src/net/services/store-target.js';
import { hasCorpus, manifest } from '../../harness/corpus.js';
import { makeTempDir, removeTempDir } from '../../harness/tmp.js';

// Paths a command line names that do not exist or cannot be used: a clear message per path, the other
// paths still handled, the exit code from src/cli/exit-codes.ts, never a stack trace.

const ROOT = resolve(import.meta.dirname, '..', '..', '..');
const BIN = join(ROOT, 'src', 'cli', 'bin.ts');

function pacshift(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, ['--import', 'tsx', BIN, ...args], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => err.push(c));
    const timer = setTimeout(() => child.kill('SIGKILL'), 90_000);
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

const STACK = /\n\s+at .+\(.+:\d+:\d+\)/;

describe('CLI paths that cannot be used', () => {
  let dir: string;
  let server: AssociationServer;
  beforeAll(async () => {
    dir = makeTempDir('cli-paths');
    server = await startScp({
      aeTitle: 'RX',
      port: 0,
      host: '127.0.0.1',
      policy: storageAcceptPolicy(),
      handlers: { store: new FolderStoreTarget(join(dir, 'rx')) },
    });
  });
  afterAll(async () => {
    await server?.close();
    removeTempDir(dir);
  });

  it.skipIf(!hasCorpus())(
    'store: each missing path is reported, the other files are sent, exit 1',
    async () => {
      const file = manifest().find((r) => r.path.startsWith('dcm_qa/dcm_qa_nih/20180918Si/'))!;
      const r = await pacshift([
        'store',
        `RX@127.0.0.1:${server.port}`,
        '/nonexistent',
        file.absPath,
        join(dir, 'also-missing.dcm'),
      ]);
      expect(r.stderr + r.stdout).not.toMatch(STACK);
      expect(r.stdout).toContain('no such file or directory: /nonexistent');
      expect(r.stdout).toContain(`no such file or directory: ${join(dir, 'also-missing.dcm')}`);
      expect(r.stdout).toMatch(new RegExp(`OK .*${file.sopInstanceUid.replace(/\./g, '\\.')}`));
      expect(readdirSync(join(dir, 'rx')).length).toBe(1);
      expect(r.code).toBe(1);
    },
  );

  it('store --json: a missing path is a JSON line with its cause', async () => {
    const r = await pacshift(['store', `RX@127.0.0.1:${server.port}`, '/nonexistent', '--json']);
    expect(r.stderr + r.stdout).not.toMatch(STACK);
    const lines = r.stdout
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines).toContainEqual(
      expect.objectContaining({
        path: '/nonexistent',
        ok: false,
        failure: 'ENOENT: no such file or directory: /nonexistent',
      }),
    );
    expect(r.code).toBe(1);
  });

  it('receive --out on a path that cannot be a folder: a clear error, exit 2, nothing listens', async () => {
    const blocker = join(dir, 'a-file');
    writeFileSync(blocker, 'not a folder');
    const r = await pacshift(['receive', '--port', '0', '--out', join(blocker, 'sub')]);
    expect(r.stderr + r.stdout).not.toMatch(STACK);
    expect(r.stderr).toContain(`--out: not a directory: ${join(blocker, 'sub')}`);
    expect(r.stderr).not.toContain('receiving as');
    expect(r.code).toBe(2);
  });

  it('find with a malformed -k: a usage error, exit 2', async () => {
    const r = await pacshift(['find', `RX@127.0.0.1:${server.port}`, '-k', 'NoSuchKeyword=1']);
    expect(r.stderr + r.stdout).not.toMatch(STACK);
    expect(r.stderr).toContain('unknown attribute keyword or tag: NoSuchKeyword');
    expect(r.code).toBe(2);
  });

  it('store --tls-ca naming a missing file: a usage error, exit 2', async () => {
    const r = await pacshift([
      'store',
      `RX@127.0.0.1:${server.port}`,
      '/nonexistent',
      '--tls-ca',
      '/no/ca.pem',
    ]);
    expect(r.stderr + r.stdout).not.toMatch(STACK);
    expect(r.stderr).toContain('--tls-ca: no such file or directory: /no/ca.pem');
    expect(r.code).toBe(2);
  });
});
