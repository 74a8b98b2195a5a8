import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { withFreePorts } from './ports.js';
import { awaitListening, runTool, spawnPeer, type PeerProcess } from './process.js';
import { makeTempDir, removeTempDir } from './tmp.js';

/**
 * DCMTK dcmqrscp as a Query/Retrieve source on a free loopback port, its database loaded with dcmqridx.
 *
 * The files are indexed through symbolic links in the peer's temp dir, never by their own path: dcmqrscp
 * unlinks the file of an indexed instance when it receives another one with the same SOP Instance UID (or
 * when a study quota is exceeded), and tests run as root, so a read-only corpus would not protect itself.
 * With links, only the link goes. Links also keep paths short (the index keeps a fixed-size file name).
 *
 * Known DCMTK 3.6.7 behaviour (not harness bugs):
 * - dcmqrscp -s (single process) crashes (SIGSEGV) when its first association ends: we use the default fork mode.
 * - It answers no SOPClassUID at IMAGE level, uses only uncompressed contexts for C-MOVE/C-GET sub-operations
 *   and cannot decompress (compressed files fail to move), and refuses C-GET sub-operations without SCP/SCU role
 *   selection.
 * - dcmqridx crashes on some files (e.g. the deeply nested sequence): such a file is refused and indexing goes on.
 * - The database holds at most 500 studies and 1 GiB per study.
 * - Of several files with one SOP Instance UID, the last one indexed wins; the others are refused.
 */

export interface MovePeer {
  aeTitle: string;
  host: string;
  port: number;
}

export interface DcmqrscpOptions {
  aeTitle?: string;
  /** Files to load into the database (read in place, through links). */
  files?: readonly string[];
  /** Known destinations for C-MOVE (HostTable). */
  peers?: readonly MovePeer[];
  extraArgs?: readonly string[];
}

export interface RefusedFile {
  file: string;
  reason: string;
}

export interface Dcmqrscp {
  readonly host: string;
  readonly port: number;
  readonly aeTitle: string;
  /** Input files that are in the database, in input order. */
  readonly indexed: readonly string[];
  /** Input files that are not, each with dcmqridx's reason. */
  readonly refused: readonly RefusedFile[];
  /** The storage area (index.dat and files received by C-STORE). */
  readonly storageArea: string;
  readonly dir: string;
  readonly process: PeerProcess;
  stop(): Promise<void>;
  logTail(lines?: number): string;
}

/** Matches the AE title syntax DCMTK accepts in its config (no spaces, 1..16 chars). */
function checkAeTitle(ae: string): void {
  if (!/^[A-Za-z0-9_.-]{1,16}$/.test(ae))
    throw new Error(`dcmqrscp: unusable AE title ${JSON.stringify(ae)}`);
}

export function dcmqrscpConfig(options: {
  port: number;
  aeTitle: string;
  storageArea: string;
  peers: readonly MovePeer[];
}): string {
  checkAeTitle(options.aeTitle);
  const hostLines = options.peers.map((p, i) => {
    checkAeTitle(p.aeTitle);
    return `peer${i + 1} = (${p.aeTitle}, ${p.host}, ${p.port})`;
  });
  return [
    `NetworkTCPPort  = ${options.port}`,
    'MaxPDUSize      = 16384',
    'MaxAssociations = 32',
    '',
    'HostTable BEGIN',
    ...hostLines,
    'HostTable END',
    '',
    'VendorTable BEGIN',
    'VendorTable END',
    '',
    'AETable BEGIN',
    // read-write so tests may also C-STORE into it; quota at DCMTK's upper limits; any calling AE
    `${options.aeTitle}  ${options.storageArea}  RW  (500, 1024mb)  ANY`,
    'AETable END',
    '',
  ].join('\n');
}

interface IndexOutcome {
  indexed: string[];
  refused: RefusedFile[];
}

/**
 * Registers `links` (absolute paths) in `storageArea` with dcmqridx, in batches. dcmqridx logs
 * "registering: <file>" before each file; when it crashes, the last such file is refused and the rest are retried.
 * What is indexed in the end is read back from `dcmqridx -p`.
 */
async function indexFiles(
  storageArea: string,
  links: readonly string[],
): Promise<{ inIndex: Set<string>; reasons: Map<string, string> }> {
  const reasons = new Map<string, string>();
  const BATCH = 200;
  let pending = [...links];
  while (pending.length > 0) {
    const batch = pending.slice(0, BATCH);
    const result = await runTool('dcmqridx', ['-v', storageArea, ...batch], { timeoutMs: 120_000 });
    let current: string | undefined;
    let messages: string[] = [];
    const flush = (): void => {
      if (current !== undefined && messages.length > 0) reasons.set(current, messages.join(' | '));
    };
    for (const line of result.stderr.split('\n')) {
      const registering = /^I: registering: (.*)$/.exec(line);
      if (registering) {
        flush();
        current = registering[1]!;
        messages = [];
        continue;
      }
      const keeping = /keeping file: (.*) despite duplicate SOP Instance UID/.exec(line);
      if (keeping) {
        reasons.set(
          keeping[1]!,
          `duplicate SOP Instance UID: replaced in the index by ${current ?? 'a later file'}`,
        );
        continue;
      }
      if (/^[EF]: /.test(line)) messages.push(line.slice(3));
    }
    flush();
    if (result.signal !== null || result.timedOut) {
      const crashedOn = current;
      const why = result.timedOut ? 'dcmqridx timed out' : `dcmqridx crashed (${result.signal})`;
      if (crashedOn === undefined)
        throw new Error(`${why} before registering any file\n${result.stderr.slice(-2000)}`);
      reasons.set(crashedOn, messages.length > 0 ? `${why}: ${messages.join(' | ')}` : why);
      pending = pending.slice(pending.indexOf(crashedOn) + 1);
    } else {
      if (result.code !== 0)
        throw new Error(`dcmqridx exit code ${String(result.code)}\n${result.stderr.slice(-2000)}`);
      pending = pending.slice(batch.length);
    }
  }
  const listing = await runTool('dcmqridx', ['-p', storageArea], { timeoutMs: 60_000 });
  const inIndex = new Set<string>();
  for (const m of listing.stdout.matchAll(/^ {2}Filename: (.*)$/gm)) inIndex.add(m[1]!);
  return { inIndex, reasons };
}

async function loadDatabase(
  dir: string,
  storageArea: string,
  files: readonly string[],
): Promise<IndexOutcome> {
  const linkDir = join(dir, 'links');
  mkdirSync(linkDir);
  const links = files.map((file, i) => {
    const link = join(linkDir, `${String(i + 1).padStart(5, '0')}.dcm`);
    symlinkSync(resolve(file), link);
    return link;
  });
  if (links.length === 0) return { indexed: [], refused: [] };
  const { inIndex, reasons } = await indexFiles(storageArea, links);
  // reasons name links: name the input files instead
  const linkName = new RegExp(`${linkDir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/(\\d{5})\\.dcm`, 'g');
  const unlink = (text: string): string =>
    text.replace(linkName, (_, n: string) => files[Number(n) - 1] ?? _);
  const outcome: IndexOutcome = { indexed: [], refused: [] };
  links.forEach((link, i) => {
    const file = files[i]!;
    if (inIndex.has(link)) outcome.indexed.push(file);
    else
      outcome.refused.push({ file, reason: unlink(reasons.get(link) ?? 'not in the index after loading') });
  });
  return outcome;
}

export async function startDcmqrscp(options: DcmqrscpOptions = {}): Promise<Dcmqrscp> {
  const aeTitle = options.aeTitle ?? 'DCMQRSCP';
  checkAeTitle(aeTitle);
  const dir = makeTempDir('dcmqrscp');
  const storageArea = join(dir, 'db');
  mkdirSync(storageArea);
  try {
    const { indexed, refused } = await loadDatabase(dir, storageArea, options.files ?? []);
    return await withFreePorts(1, async ([port]) => {
      const configFile = join(dir, 'dcmqrscp.cfg');
      writeFileSync(
        configFile,
        dcmqrscpConfig({ port: port!, aeTitle, storageArea, peers: options.peers ?? [] }),
      );
      const proc = spawnPeer(
        'dcmqrscp',
        ['-c', configFile, '-dhl', ...(options.extraArgs ?? []), String(port)],
        {
          name: `dcmqrscp ${aeTitle}`,
          cwd: dir,
          logFile: join(dir, 'dcmqrscp.log'),
        },
      );
      await awaitListening(proc, [port!]);
      return {
        host: '127.0.0.1',
        port: port!,
        aeTitle,
        indexed,
        refused,
        storageArea,
        dir,
        process: proc,
        async stop(): Promise<void> {
          await proc.stop();
          removeTempDir(dir);
        },
        logTail: (lines?: number) => proc.logTail(lines),
      };
    });
  } catch (error) {
    removeTempDir(dir);
    throw error;
  }
}
