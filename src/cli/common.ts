import { readFileSync } from 'node:fs';
import { type Peer, parsePeerAddress } from '../net/peer.js';
import type { TlsSettings } from '../net/transport/tls-options.js';
import { LocalSetupError } from '../run/errors.js';
import { pathProblem } from './paths.js';

export class UsageError extends Error {}

/**
 * A port we cannot listen on (EADDRINUSE, EACCES for a privileged port) as a LocalSetupError naming it,
 * e.g. "local.port 11112: cannot listen: address already in use: port 11112" (exit 70); anything else is
 * returned as it is, to be thrown on.
 */
export function listenError(what: string, port: number | string, e: unknown): unknown {
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  if (code === undefined || !LISTEN_CODES.has(code) || (e as { syscall?: string }).syscall !== 'listen')
    return e;
  return new LocalSetupError(`${what} ${port}: cannot listen: ${pathProblem(`port ${port}`, e).message}`);
}

const LISTEN_CODES: ReadonlySet<string> = new Set(['EADDRINUSE', 'EACCES', 'EADDRNOTAVAIL', 'EPERM']);

export const PEER_OPTIONS = {
  'calling-ae': { type: 'string', default: 'PACSHIFT' },
  json: { type: 'boolean', default: false },
  tls: { type: 'boolean', default: false },
  'tls-ca': { type: 'string' },
  'tls-cert': { type: 'string' },
  'tls-key': { type: 'string' },
  'tls-servername': { type: 'string' },
  timeout: { type: 'string', default: '60' },
  'max-pdu': { type: 'string' },
} as const;

export function tlsFrom(v: Record<string, unknown>): TlsSettings | undefined {
  if (!v.tls && !v['tls-ca'] && !v['tls-cert']) return undefined;
  const read = (k: string) => {
    if (typeof v[k] !== 'string') return undefined;
    try {
      return readFileSync(v[k] as string);
    } catch (e) {
      throw new UsageError(`--${k}: ${pathProblem(v[k] as string, e).message}`);
    }
  };
  return {
    ca: read('tls-ca'),
    cert: read('tls-cert'),
    key: read('tls-key'),
    servername: v['tls-servername'] as string | undefined,
  };
}

export function peerFrom(address: string | undefined, v: Record<string, unknown>): Peer {
  if (!address) throw new UsageError('missing peer address AE@host:port');
  const a = parsePeerAddress(address);
  if (!a)
    throw new UsageError(
      `not a peer address: ${address} (expected AE@host:port, e.g. ORTHANC@127.0.0.1:4242)`,
    );
  const timeoutS = Number(v.timeout ?? 60);
  if (!(timeoutS > 0)) throw new UsageError(`--timeout: not a number of seconds: ${String(v.timeout)}`);
  return {
    ...a,
    callingAeTitle: String(v['calling-ae'] ?? 'PACSHIFT'),
    tls: tlsFrom(v),
    dimseTimeoutMs: timeoutS * 1000,
    // No phase waits longer than --timeout (the release and ARTIM defaults are 30 s, whatever it said).
    timeouts: {
      connectMs: Math.min(timeoutS * 1000, 30_000),
      associationMs: timeoutS * 1000,
      releaseMs: Math.min(timeoutS * 1000, 30_000),
      artimMs: Math.min(timeoutS * 1000, 30_000),
    },
    maxPduLength: v['max-pdu'] ? Number(v['max-pdu']) : undefined,
  };
}

/** Progress on a terminal (stderr), silent otherwise. */
export function progress(enabled: boolean) {
  const tty = enabled && process.stderr.isTTY;
  let last = 0;
  return {
    update(text: string) {
      if (!tty) return;
      const now = Date.now();
      if (now - last < 100) return;
      last = now;
      process.stderr.write(`\r\x1b[K${text}`);
    },
    done() {
      if (tty) process.stderr.write('\r\x1b[K');
    },
  };
}
