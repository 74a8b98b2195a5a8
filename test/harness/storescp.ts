import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { withFreePorts } from './ports.js';
import { awaitListening, spawnPeer, type PeerProcess } from './process.js';
import { makeTempDir, removeTempDir } from './tmp.js';

/**
 * DCMTK storescp as a storage target on a free loopback port.
 *
 * Default acceptance: `+xa -pm`, i.e. every storage SOP class DCMTK knows plus unknown (private) ones, in every
 * transfer syntax DCMTK 3.6.7 knows. Files are written bit-preserving (`+B`: the data set bytes as received, the
 * transfer syntax of the association, no re-encoding) under unique names (`+uf`), so a test can compare bytes.
 *
 * Limits of DCMTK 3.6.7 (not the harness): it cannot accept transfer syntaxes newer than it (HTJ2K .201-.203,
 * JPEG XL .110-.112, Deflated Image Frame Compression .8.1): even when a config accepts the context, the DIMSE
 * layer refuses the data set (0006:0212). `-pm` does not take Hanging Protocol Storage (a class DCMTK knows but
 * does not list as storage): use `accept` for that.
 * DCMTK listens on all interfaces (0.0.0.0), not only loopback; the port is still chosen free on 127.0.0.1.
 */

export interface TlsServerOptions {
  key: string;
  cert: string;
  /** Trusted CA certificate(s) used to verify the peer. */
  ca?: string;
  /** Reject peers without a valid certificate (-rc). Otherwise verify one if presented (-vc, or -ic without ca). */
  requirePeerCert?: boolean;
}

export interface StorescpOptions {
  aeTitle?: string;
  /** Where received files go (created if missing; not removed by stop() when given). Default: <tempdir>/out. */
  outDir?: string;
  tls?: TlsServerOptions;
  /**
   * Accept only these SOP classes (at most 127; DCMTK's limit is 128 contexts with Verification) in these transfer
   * syntaxes (UIDs), through a generated association config file: to play a target that refuses a class or a syntax.
   */
  accept?: { sopClasses: readonly string[]; transferSyntaxes: readonly string[] };
  /** Record each received file (storescp --exec-on-reception) for received()/waitForFiles(). Default true. */
  notify?: boolean;
  extraArgs?: readonly string[];
}

export interface Storescp {
  readonly host: string;
  readonly port: number;
  readonly aeTitle: string;
  readonly outDir: string;
  /** The peer's temp dir (log, config). */
  readonly dir: string;
  readonly process: PeerProcess;
  /** Absolute paths of completely received files, in the order storescp reported them (needs notify). */
  received(): string[];
  /** Absolute paths of all files currently in outDir (a file may still be being written). */
  files(): string[];
  /** Resolves with received() once it holds at least `count` files. */
  waitForFiles(count: number, timeoutMs?: number): Promise<string[]>;
  stop(): Promise<void>;
  logTail(lines?: number): string;
}

const VERIFICATION = '1.2.840.10008.1.1';
const IMPLICIT_LE = '1.2.840.10008.1.2';

/** DCMTK association negotiation config: one profile "Harness" accepting `sopClasses` × `transferSyntaxes`. */
export function storescpAcceptConfig(
  sopClasses: readonly string[],
  transferSyntaxes: readonly string[],
): string {
  if (sopClasses.length === 0 || sopClasses.length > 127) {
    throw new Error(`storescp accept: 1..127 SOP classes, got ${sopClasses.length}`);
  }
  if (transferSyntaxes.length === 0) throw new Error('storescp accept: at least one transfer syntax');
  const lines = ['[[TransferSyntaxes]]', '[Verification]', `TransferSyntax1 = ${IMPLICIT_LE}`, '[Accepted]'];
  transferSyntaxes.forEach((ts, i) => lines.push(`TransferSyntax${i + 1} = ${ts}`));
  lines.push('[[PresentationContexts]]', '[Harness]', `PresentationContext1 = ${VERIFICATION}\\Verification`);
  sopClasses.forEach((sop, i) => lines.push(`PresentationContext${i + 2} = ${sop}\\Accepted`));
  lines.push('[[Profiles]]', '[Harness]', 'PresentationContexts = Harness', '');
  return lines.join('\n');
}

function tlsArgs(tls: TlsServerOptions): string[] {
  const args = ['+tls', tls.key, tls.cert];
  if (tls.ca) args.push('+cf', tls.ca);
  if (tls.requirePeerCert) args.push('-rc');
  else args.push(tls.ca ? '-vc' : '-ic');
  return args;
}

export async function startStorescp(options: StorescpOptions = {}): Promise<Storescp> {
  const aeTitle = options.aeTitle ?? 'STORESCP';
  const dir = makeTempDir('storescp');
  const outDir = options.outDir ?? join(dir, 'out');
  mkdirSync(outDir, { recursive: true });
  const receivedList = join(dir, 'received.txt');
  const notify = options.notify ?? true;

  const args = ['--aetitle', aeTitle, '-od', outDir, '+B', '+uf', '-dhl'];
  if (options.accept) {
    const config = join(dir, 'storescp.cfg');
    writeFileSync(config, storescpAcceptConfig(options.accept.sopClasses, options.accept.transferSyntaxes));
    args.push('-xf', config, 'Harness');
  } else {
    args.push('+xa', '-pm');
  }
  // Run after the file is complete; #f is the file name. Our temp paths contain no shell metacharacters.
  if (notify) args.push('-xcr', `echo #f >> ${receivedList}`);
  if (options.tls) args.push(...tlsArgs(options.tls));
  args.push(...(options.extraArgs ?? []));

  try {
    return await withFreePorts(1, async ([port]) => {
      const proc = spawnPeer('storescp', [...args, String(port)], {
        name: `storescp ${aeTitle}`,
        cwd: dir,
        logFile: join(dir, 'storescp.log'),
      });
      await awaitListening(proc, [port!]);

      const received = (): string[] => {
        if (!existsSync(receivedList)) return [];
        return readFileSync(receivedList, 'utf8')
          .split('\n')
          .map((l) => l.trim())
          .filter((l) => l !== '')
          .map((f) => join(outDir, f));
      };
      return {
        host: '127.0.0.1',
        port: port!,
        aeTitle,
        outDir,
        dir,
        process: proc,
        received,
        files: () =>
          readdirSync(outDir)
            .sort()
            .map((f) => join(outDir, f)),
        async waitForFiles(count: number, timeoutMs = 10_000): Promise<string[]> {
          if (!notify) throw new Error('storescp waitForFiles needs notify: true');
          const deadline = Date.now() + timeoutMs;
          for (;;) {
            const got = received();
            if (got.length >= count) return got;
            if (Date.now() > deadline) {
              throw new Error(
                `storescp ${aeTitle}: ${got.length}/${count} files after ${timeoutMs} ms\n${proc.logTail(20)}`,
              );
            }
            await new Promise((r) => setTimeout(r, 20));
          }
        },
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
