/**
 * `pacshift serve` and `pacshift receive` (the CLI, child processes) expose patient data to whoever can reach
 * them. Before: both listened on every interface and accepted any calling AE by default; `serve` answered a
 * patient-level C-FIND from an AE nobody named. Now: they listen on the loopback interface unless --host says
 * otherwise; listening elsewhere needs --allow (or an explicit --allow-any); with --allow, any other calling AE is
 * rejected at association. Checked with DCMTK's echoscu and findscu, and by connecting to this machine's
 * non-loopback address.
 */
import { connect } from 'node:net';
import { networkInterfaces } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { corpusDir, hasCorpus } from '../harness/corpus.js';
import { freePort } from '../harness/ports.js';
import { awaitListening, peers, runTool, spawnPeer, type PeerProcess } from '../harness/process.js';
import { echoscu, findscu } from '../harness/scu.js';
import { makeTempDir, removeTempDir } from '../harness/tmp.js';

const ROOT = resolve(import.meta.dirname, '..', '..');
const BIN = join(ROOT, 'src', 'cli', 'bin.ts');

/** An IPv4 address of this machine that is not loopback (the tests need one to show what the bind exposes). */
const external = Object.values(networkInterfaces())
  .flat()
  .find((a) => a && a.family === 'IPv4' && !a.internal)?.address;

/** Whether a TCP connection to host:port is accepted. */
const reachable = (host: string, port: number): Promise<boolean> =>
  new Promise((done) => {
    const s = connect({ host, port });
    s.once('connect', () => {
      s.destroy();
      done(true);
    });
    s.once('error', () => done(false));
  });

const cli = (args: string[]) =>
  runTool(process.execPath, ['--import', 'tsx', BIN, ...args], { cwd: ROOT, timeoutMs: 60_000 });

async function start(name: string, args: string[], port: number, tmp: string): Promise<PeerProcess> {
  const proc = spawnPeer(process.execPath, ['--import', 'tsx', BIN, ...args], {
    name,
    cwd: ROOT,
    logFile: join(tmp, `${name}.log`),
  });
  await awaitListening(proc, [port], 60_000);
  return proc;
}

describe.skipIf(!peers.dcmtk || !hasCorpus())('what pacshift serve and receive expose', () => {
  let tmp: string;
  const procs: PeerProcess[] = [];
  beforeAll(() => {
    tmp = makeTempDir('listen-exposure');
  });
  afterAll(async () => {
    for (const p of procs) await p.stop();
    removeTempDir(tmp);
  });

  it.skipIf(!external)(
    'by default both listen on the loopback interface only',
    async () => {
      const [sp, rp] = [await freePort(), await freePort()];
      procs.push(
        await start(
          'serve-default',
          [
            'serve',
            '--dir',
            corpusDir(),
            '--port',
            String(sp),
            '--ae',
            'ARCH',
            '--db',
            join(tmp, 'i1.sqlite'),
          ],
          sp,
          tmp,
        ),
        await start(
          'receive-default',
          ['receive', '--port', String(rp), '--ae', 'RECV', '--out', join(tmp, 'out1')],
          rp,
          tmp,
        ),
      );
      for (const port of [sp, rp]) {
        expect(await reachable('127.0.0.1', port)).toBe(true);
        expect({ port, fromNetwork: await reachable(external!, port) }).toEqual({ port, fromNetwork: false });
      }
      expect(
        (await echoscu({ host: '127.0.0.1', port: rp, aeTitle: 'RECV' }, { callingAe: 'ANYONE' })).ok,
      ).toBe(true);
    },
    120_000,
  );

  it('listening beyond loopback without --allow or --allow-any is a usage error (exit 2) naming the fix', async () => {
    for (const args of [
      [
        'serve',
        '--dir',
        corpusDir(),
        '--port',
        String(await freePort()),
        '--ae',
        'ARCH',
        '--host',
        '0.0.0.0',
      ],
      [
        'receive',
        '--port',
        String(await freePort()),
        '--ae',
        'RECV',
        '--out',
        join(tmp, 'out2'),
        '--host',
        '0.0.0.0',
      ],
    ]) {
      const r = await cli(args);
      expect({ cmd: args[0], code: r.code }).toEqual({ cmd: args[0], code: 2 });
      expect(r.stderr).toMatch(
        /--host 0\.0\.0\.0 makes the listener reachable from the network.*--allow AE\[@host\]/,
      );
    }
  }, 120_000);

  it('with --allow, serve rejects a patient-level C-FIND and a C-ECHO from an unknown AE; the allowed AE is served', async () => {
    const port = await freePort();
    procs.push(
      await start(
        'serve-allow',
        [
          'serve',
          '--dir',
          corpusDir(),
          '--port',
          String(port),
          '--ae',
          'ARCH',
          '--db',
          join(tmp, 'i2.sqlite'),
          '--host',
          '0.0.0.0',
          '--allow',
          'VIEWER@127.0.0.1',
        ],
        port,
        tmp,
      ),
    );
    const target = { host: '127.0.0.1', port, aeTitle: 'ARCH' };
    const query = {
      level: 'PATIENT' as const,
      model: 'patient' as const,
      keys: { PatientID: '*', PatientName: '' },
    };
    const stranger = await findscu(target, query, { callingAe: 'STRANGER' });
    expect(stranger.ok).toBe(false);
    expect(stranger.matches).toEqual([]);
    expect(stranger.stderr).toMatch(/Association Rejected/i);
    expect((await echoscu(target, { callingAe: 'STRANGER' })).ok).toBe(false);
    const viewer = await findscu(target, query, { callingAe: 'VIEWER' });
    expect(viewer.ok).toBe(true);
    expect(viewer.matches.length).toBeGreaterThan(0);
    if (external) {
      // Reachable from the network now, and still only for VIEWER, and only from 127.0.0.1.
      const fromNetwork = await echoscu({ ...target, host: external }, { callingAe: 'VIEWER' });
      expect(fromNetwork.ok).toBe(false);
      expect(fromNetwork.stderr).toMatch(/Association Rejected/i);
    }
  }, 120_000);

  it('with --allow, receive rejects an unknown AE (echoscu) and accepts the allowed one', async () => {
    const port = await freePort();
    procs.push(
      await start(
        'receive-allow',
        [
          'receive',
          '--port',
          String(port),
          '--ae',
          'RECV',
          '--out',
          join(tmp, 'out3'),
          '--allow',
          'MODALITY',
        ],
        port,
        tmp,
      ),
    );
    const target = { host: '127.0.0.1', port, aeTitle: 'RECV' };
    const stranger = await echoscu(target, { callingAe: 'STRANGER' });
    expect(stranger.ok).toBe(false);
    expect(stranger.stderr).toMatch(/Association Rejected/i);
    expect((await echoscu(target, { callingAe: 'MODALITY' })).ok).toBe(true);
  }, 120_000);

  it('--help says what each exposes and to whom', async () => {
    for (const cmd of ['serve', 'receive']) {
      const r = await cli([cmd, '--help']);
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/Exposure: /);
      expect(r.stdout).toMatch(/default 127\.0\.0\.1 \(this machine only\)/);
      expect(r.stdout).toMatch(/--allow AE\[@host\]/);
    }
    expect((await cli(['serve', '--help'])).stdout).toMatch(/patient names, IDs, birth dates/);
  }, 60_000);
});
