import { spawn } from 'node:child_process';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseMovePeer } from '../../../src/cli/commands/serve.js';
import { UsageError } from '../../../src/cli/common.js';
import { main } from '../../../src/cli/main.js';
import { cFindAll } from '../../../src/net/services/find-scu.js';
import { buildIdentifier } from '../../../src/net/services/identifier.js';
import { openChannel } from '../../../src/net/peer.js';
import { QR, UNCOMPRESSED_LE } from '../../../src/net/services/sop-classes.js';
import { corpusDir, hasCorpus } from '../../harness/corpus.js';
import { makeTempDir, removeTempDir } from '../../harness/tmp.js';

const ROOT = resolve(import.meta.dirname, '..', '..', '..');

describe('pacshift serve arguments', () => {
  it('parses move destinations', () => {
    expect(parseMovePeer('STORESCP=127.0.0.1:11112')).toEqual({
      aeTitle: 'STORESCP',
      host: '127.0.0.1',
      port: 11112,
    });
    expect(parseMovePeer('DEST@[::1]:104')).toEqual({ aeTitle: 'DEST', host: '::1', port: 104 });
    expect(() => parseMovePeer('DEST=host')).toThrow(UsageError);
    expect(() => parseMovePeer('DEST=host:70000')).toThrow(UsageError);
  });

  it('refuses a bad command line with the usage exit code', async () => {
    const err = console.error;
    console.error = () => undefined;
    try {
      expect(await main(['serve', '--port', '104'])).toBe(2);
      expect(await main(['serve', '--dir', '/tmp', '--port', 'x', '--ae', 'A'])).toBe(2);
      expect(
        await main(['serve', '--dir', '/tmp', '--port', '1', '--ae', 'A', '--on-duplicate', 'merge']),
      ).toBe(2);
    } finally {
      console.error = err;
    }
  });
});

describe.skipIf(!hasCorpus())('pacshift serve as a process', () => {
  it('serves the corpus, answers a C-FIND, reports on SIGTERM', async () => {
    const tmp = makeTempDir('serve-cli');
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        'src/cli/bin.ts',
        'serve',
        '--dir',
        corpusDir(),
        '--port',
        '0',
        '--ae',
        'CLIARCH',
        '--host',
        '127.0.0.1',
        '--json',
        '--db',
        join(tmp, 'i.sqlite'),
        '--store-dir',
        join(tmp, 'r'),
      ],
      { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    try {
      const lines: Record<string, unknown>[] = [];
      let buf = '';
      const serving = await new Promise<Record<string, unknown>>((res, rej) => {
        const timer = setTimeout(() => rej(new Error('no startup line within 60 s')), 60_000);
        child.stdout.on('data', (d: Buffer) => {
          buf += d.toString('utf8');
          let i;
          while ((i = buf.indexOf('\n')) >= 0) {
            const l = JSON.parse(buf.slice(0, i)) as Record<string, unknown>;
            buf = buf.slice(i + 1);
            lines.push(l);
            if (l.event === 'serving') {
              clearTimeout(timer);
              res(l);
            }
          }
        });
        child.once('exit', (code) => rej(new Error(`serve exited with ${code}`)));
      });
      expect(serving.studies).toBeGreaterThan(100);
      expect(lines.filter((l) => l.event === 'unreadable').length).toBe(serving.unreadable);
      const ch = await openChannel(
        { host: '127.0.0.1', port: serving.port as number, aeTitle: 'CLIARCH', callingAeTitle: 'T' },
        [{ abstractSyntax: QR.study.find, transferSyntaxes: UNCOMPRESSED_LE }],
      );
      expect(ch.ok).toBe(true);
      if (!ch.ok) return;
      const r = await cFindAll(ch.value, buildIdentifier('STUDY', { StudyInstanceUID: '' }));
      expect(r.ok && r.value.identifiers.length).toBe(serving.studies);
      await ch.value.assoc.release();
      // SIGHUP re-indexes: nothing changed, nothing read.
      const reindexed = new Promise<void>((res) => {
        const check = setInterval(() => {
          if (lines.some((l) => l.event === 'reindexed')) {
            clearInterval(check);
            res();
          }
        }, 20);
      });
      child.kill('SIGHUP');
      await reindexed;
      expect(lines.find((l) => l.event === 'reindexed')).toMatchObject({
        read: 0,
        removed: 0,
        instances: serving.instances,
      });
      const exited = new Promise<number | null>((res) => child.once('close', res)); // after stdout is drained
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
      const find = lines.find((l) => l.event === 'find');
      expect(find).toMatchObject({
        callingAe: 'T',
        model: 'study',
        level: 'STUDY',
        matches: serving.studies,
        status: '0000',
      });
      expect(lines.at(-1)).toMatchObject({ event: 'stopped', finds: 1 });
    } finally {
      child.kill('SIGKILL');
      removeTempDir(tmp);
    }
  });
});
