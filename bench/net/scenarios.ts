/**
 * One timed transfer: a receiver started and listening, then the sender(s) timed from spawn to exit.
 * Three paths: storescu → storescp (the DCMTK baseline), pacshift store → storescp, and
 * storescu → pacshift receive. Every run checks that every instance arrived.
 */
import { mkdir, readFile, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { readInstanceInfo } from '../../src/dicom/part10.js';
import { safeName } from '../../src/net/services/store-target.js';
import type { GeneratedSet } from './data.js';
import { MemorySampler, type Proc, freePort, start, stop, waitForPort } from './procs.js';

export type PathKind = 'dcmtk' | 'pacshift-send' | 'pacshift-receive';

export const PATH_LABEL: Record<PathKind, string> = {
  dcmtk: 'storescu → storescp',
  'pacshift-send': 'pacshift store → storescp',
  'pacshift-receive': 'storescu → pacshift receive',
};

export interface RunConfig {
  set: GeneratedSet;
  associations: number;
  /** Max PDU of the receiving side (storescp -pdu / pacshift receive --max-pdu); storescu's -pdu too. */
  pdu: number;
  path: PathKind;
  /** How pacshift runs: `node <dist>/cli/bin.js` or `node --import tsx src/cli/bin.ts`. */
  pacshift: { cmd: string; args: string[] };
  workDir: string;
  /** Extra node flags for the pacshift process (e.g. --cpu-prof). */
  nodeFlags?: string[];
}

export interface RunResult {
  seconds: number;
  senderPeakKb: number;
  receiverPeakKb: number;
  /** User + system CPU seconds of the sender process(es) and of the receiver (with its forked children). */
  senderCpuS: number;
  receiverCpuS: number;
}

/** Debian's DCMTK leaves Nagle on: every C-STORE would wait for a delayed ACK. */
const dcmtkEnv = (): NodeJS.ProcessEnv => ({ ...process.env, TCP_NODELAY: '1' });

function split<T>(xs: readonly T[], n: number): T[][] {
  const out: T[][] = Array.from({ length: n }, () => []);
  xs.forEach((x, i) => out[i % n]!.push(x));
  return out.filter((s) => s.length > 0);
}

const pacshiftArgs = (c: RunConfig, rest: string[]): [string, string[]] => [
  c.pacshift.cmd,
  [...(c.nodeFlags ?? []), ...c.pacshift.args, ...rest],
];

async function logTail(file: string, n = 15): Promise<string> {
  const t = await readFile(file, 'utf8').catch(() => '');
  return t.split('\n').slice(-n).join('\n');
}

/**
 * Checks that a few received files are whole, readable Part 10 files of the instances sent. (Not
 * byte equality: storescu re-encodes what it sends, e.g. undefined-length items get explicit lengths.)
 */
async function checkReceived(sources: readonly string[], outDir: string): Promise<void> {
  const picks = [sources[0]!, sources[Math.floor(sources.length / 2)]!, sources[sources.length - 1]!];
  for (const src of picks) {
    const si = await readInstanceInfo(src);
    if (!si.ok) throw new Error(`${src}: ${si.error.message}`);
    const got = join(outDir, `${safeName(si.value.sopInstanceUid)}.dcm`);
    const gi = await readInstanceInfo(got);
    if (!gi.ok) throw new Error(`received ${got}: ${gi.error.message}`);
    if (
      gi.value.sopInstanceUid !== si.value.sopInstanceUid ||
      gi.value.sopClassUid !== si.value.sopClassUid
    ) {
      throw new Error(`received ${got} is not ${si.value.sopInstanceUid}`);
    }
    if (Math.abs(gi.value.datasetLength - si.value.datasetLength) > 4096) {
      throw new Error(
        `received data set of ${si.value.sopInstanceUid}: ${gi.value.datasetLength} bytes, sent ${si.value.datasetLength}`,
      );
    }
  }
}

export async function runOnce(c: RunConfig, tag: string): Promise<RunResult> {
  const outDir = join(c.workDir, `recv-${tag}`);
  await rm(outDir, { recursive: true, force: true });
  await mkdir(outDir, { recursive: true });
  const log = (who: string) => join(c.workDir, `${tag}.${who}.log`);
  const port = await freePort();
  const pacshiftReceives = c.path === 'pacshift-receive';

  const receiver: Proc = pacshiftReceives
    ? start(
        'pacshift receive',
        ...pacshiftArgs(c, [
          'receive',
          '--port',
          String(port),
          '--host',
          '127.0.0.1',
          '--ae',
          'PACSHIFT',
          '--out',
          outDir,
          '--max-pdu',
          String(c.pdu),
        ]),
        {
          logFile: log('receiver'),
        },
      )
    : start(
        'storescp',
        'storescp',
        ['--fork', '-dhl', '-aet', 'STORESCP', '-od', outDir, '-pdu', String(c.pdu), String(port)],
        {
          logFile: log('receiver'),
          env: dcmtkEnv(),
        },
      );
  const recvMem = new MemorySampler();
  recvMem.add(receiver.pid);
  const sendMem = new MemorySampler();
  try {
    await waitForPort(port, receiver);
    const called = pacshiftReceives ? 'PACSHIFT' : 'STORESCP';
    const t0 = performance.now();
    const senders: Proc[] =
      c.path === 'pacshift-send'
        ? [
            start(
              'pacshift store',
              ...pacshiftArgs(c, [
                'store',
                `${called}@127.0.0.1:${port}`,
                c.set.dir,
                '--associations',
                String(c.associations),
              ]),
              { logFile: log('sender') },
            ),
          ]
        : split(c.set.files, c.associations).map((files, i) =>
            start(
              'storescu',
              'storescu',
              [
                '-aet',
                'STORESCU',
                '-aec',
                called,
                '-pdu',
                String(c.pdu),
                '127.0.0.1',
                String(port),
                ...files,
              ],
              {
                logFile: log(`sender${i}`),
                env: dcmtkEnv(),
              },
            ),
          );
    for (const s of senders) sendMem.add(s.pid);
    const exits = await Promise.all(senders.map((s) => s.exited));
    const seconds = (performance.now() - t0) / 1000;
    sendMem.stop();
    recvMem.stop();
    for (const [i, e] of exits.entries()) {
      if (e.code !== 0)
        throw new Error(
          `${senders[i]!.name} exited ${e.code ?? e.signal}:\n${await logTail(senders[i]!.logFile)}`,
        );
    }
    const received = (await readdir(outDir)).filter((n) => !n.startsWith('.'));
    if (received.length !== c.set.files.length) {
      throw new Error(
        `${c.path}: ${received.length} of ${c.set.files.length} instances arrived; logs in ${c.workDir}`,
      );
    }
    if (pacshiftReceives) await checkReceived(c.set.files, outDir);
    await stop(receiver);
    const su = senders.map((s) => s.usage());
    const ru = receiver.usage();
    return {
      seconds,
      // N storescu processes run side by side: their peaks add up.
      senderPeakKb: Math.max(
        sendMem.peakKb,
        su.reduce((n, u) => n + u.maxRssKb, 0),
      ),
      receiverPeakKb: Math.max(recvMem.peakKb, ru.maxRssKb),
      senderCpuS: su.reduce((n, u) => n + u.cpuSeconds, 0),
      receiverCpuS: ru.cpuSeconds,
    };
  } finally {
    sendMem.stop();
    recvMem.stop();
    await stop(receiver);
    await rm(outDir, { recursive: true, force: true });
    // Write back what this run left dirty, so the next run does not pay for it.
    execFileSync('sync');
  }
}
