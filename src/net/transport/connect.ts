import net from 'node:net';
import tls from 'node:tls';
import { type Result, err, ok } from '../../util/result.js';
import type { NetFailure } from '../errors.js';
import type { TlsSettings } from './tls-options.js';

export interface ConnectOptions {
  host: string;
  port: number;
  tls?: TlsSettings;
  timeoutMs?: number;
}

/** Open a TCP (or TLS) transport connection with no-delay set. The outcome is a value. */
export function connectTransport(opts: ConnectOptions): Promise<Result<net.Socket, NetFailure>> {
  const timeoutMs = opts.timeoutMs ?? 10_000;
  return new Promise((resolve) => {
    let settled = false;
    let socket: net.Socket;
    const done = (r: Result<net.Socket, NetFailure>) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.removeAllListeners('error');
      if (!r.ok) socket.destroy();
      resolve(r);
    };
    const where = `${opts.host}:${opts.port}`;
    if (opts.tls) {
      const t = opts.tls;
      socket = tls.connect({
        host: opts.host,
        port: opts.port,
        ca: t.ca,
        cert: t.cert,
        key: t.key,
        servername: t.servername ?? (net.isIP(opts.host) ? undefined : opts.host),
        rejectUnauthorized: !t.insecureSkipVerify,
        minVersion: t.minVersion ?? 'TLSv1.2',
        // When the server name is an IP address Node checks it against the certificate's IP SANs.
        checkServerIdentity: (host, cert) => tls.checkServerIdentity(t.servername ?? host, cert),
      });
      socket.once('secureConnect', () => {
        socket.setNoDelay(true);
        done(ok(socket));
      });
    } else {
      socket = net.connect({ host: opts.host, port: opts.port });
      socket.once('connect', () => {
        socket.setNoDelay(true);
        done(ok(socket));
      });
    }
    socket.on('error', (e: NodeJS.ErrnoException) => {
      const code = e.code ?? 'ERR';
      const isTls =
        opts.tls &&
        (code.startsWith('ERR_TLS') || /certificate|SSL|TLS|self.signed|altnames/i.test(e.message + code));
      done(
        err(
          isTls
            ? { kind: 'tls', code, message: `TLS to ${where} failed: ${e.message}` }
            : { kind: 'connect-failed', code, message: `connect to ${where} failed: ${code}` },
        ),
      );
    });
    socket.once('close', () =>
      done(err({ kind: 'connect-failed', code: 'ECLOSED', message: `${where} closed the connection` })),
    );
    const timer = setTimeout(
      () =>
        done(
          err({
            kind: 'timeout',
            phase: 'connect',
            message: `no connection to ${where} within ${timeoutMs} ms`,
          }),
        ),
      timeoutMs,
    );
  });
}
