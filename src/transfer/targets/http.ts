/**
 * The little HTTP client DICOMweb needs (node:http/https, no dependency): one request at a time per call,
 * keep-alive agents, basic or bearer authentication, bounded waits, and every failure as a typed value
 * (NetFailure, as the DIMSE layer reports them) instead of a throw. Bodies can be streamed (STOW-RS).
 */
import http from 'node:http';
import https from 'node:https';
import type { NetFailure } from '../../net/errors.js';
import { err, ok, type Result } from '../../util/result.js';

export type HttpAuth =
  { type: 'basic'; username: string; password: string } | { type: 'bearer'; token: string };

export interface HttpEndpoint {
  /** Base URL without a trailing slash, e.g. http://pacs:8042/dicom-web */
  readonly url: string;
  readonly auth?: HttpAuth | undefined;
  /** PEM CA bundle for https with an internal CA. */
  readonly ca?: Buffer | undefined;
  /** Time to connect (default 10 s). */
  readonly connectTimeoutMs?: number;
  /** Longest silence while waiting for (or reading) a response (default 5 min). */
  readonly responseTimeoutMs?: number;
  /** Sockets kept per endpoint (default 8). */
  readonly maxSockets?: number;
  /** Credentials may go over plain http:// (the plan's target.allowPlainHttpCredentials; default false). */
  readonly allowPlainHttpCredentials?: boolean;
}

export interface HttpResponse {
  readonly status: number;
  readonly statusText: string;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: Buffer;
}

export interface HttpRequest {
  readonly method: 'GET' | 'POST';
  /** Appended to the endpoint URL; starts with '/'. */
  readonly path: string;
  readonly headers?: Record<string, string>;
  /** A buffer, or chunks produced while sending (written with back-pressure). */
  readonly body?: Buffer | (() => AsyncIterable<Buffer>);
  readonly contentLength?: number;
  /** Largest response body kept (default 64 MiB); beyond it the request fails. */
  readonly maxResponseBytes?: number;
}

/** The endpoint's base URL with any user:password removed (for messages). */
export const publicUrl = (url: string): string => {
  try {
    const u = new URL(url);
    u.username = '';
    u.password = '';
    return u.toString().replace(/\/$/, '');
  } catch {
    return '(invalid URL)';
  }
};

const TLS_CODES = /^(ERR_TLS|ERR_SSL|CERT_|UNABLE_TO_|DEPTH_ZERO|SELF_SIGNED|HOSTNAME_MISMATCH|ERR_OSSL)/;

/** A socket or TLS error as a NetFailure. */
export function httpFailure(e: NodeJS.ErrnoException, what: string, sent: boolean): NetFailure {
  const code = e.code ?? 'error';
  if (TLS_CODES.test(code)) return { kind: 'tls', code, message: `${what}: ${code}` };
  if (
    ['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'EADDRNOTAVAIL'].includes(code)
  )
    return { kind: 'connect-failed', code, message: `${what}: ${code}` };
  if (sent) return { kind: 'no-response', message: `${what}: ${code} before the response was complete` };
  return { kind: 'closed', message: `${what}: ${code}` };
}

export class HttpClient {
  private readonly agent: http.Agent;
  private readonly base: URL;
  readonly name: string;

  constructor(readonly endpoint: HttpEndpoint) {
    this.base = new URL(endpoint.url.replace(/\/+$/, ''));
    this.name = publicUrl(endpoint.url);
    const opts = { keepAlive: true, maxSockets: endpoint.maxSockets ?? 8 };
    this.agent =
      this.base.protocol === 'https:' ? new https.Agent({ ...opts, ca: endpoint.ca }) : new http.Agent(opts);
  }

  private authHeader(): Record<string, string> {
    const a = this.endpoint.auth;
    const fromUrl = this.base.username
      ? {
          type: 'basic' as const,
          username: decodeURIComponent(this.base.username),
          password: decodeURIComponent(this.base.password),
        }
      : undefined;
    const auth = a ?? fromUrl;
    if (!auth) return {};
    // The plan refuses this (src/plan/schema.ts plainHttpCredentials); an endpoint built otherwise is a bug.
    if (this.base.protocol === 'http:' && !this.endpoint.allowPlainHttpCredentials)
      throw new Error(`${this.name}: credentials over plain http:// without allowPlainHttpCredentials`);
    if (auth.type === 'bearer') return { Authorization: `Bearer ${auth.token}` };
    return { Authorization: `Basic ${Buffer.from(`${auth.username}:${auth.password}`).toString('base64')}` };
  }

  /** Send a request; the response body is buffered (bounded). Peer failures are values. */
  request(req: HttpRequest): Promise<Result<HttpResponse, NetFailure>> {
    const url = new URL(this.base.pathname.replace(/\/$/, '') + req.path, this.base);
    url.username = '';
    url.password = '';
    const what = `${req.method} ${publicUrl(this.base.toString())}${req.path.split('?')[0]}`;
    const mod = url.protocol === 'https:' ? https : http;
    const limit = req.maxResponseBytes ?? 64 << 20;
    return new Promise((resolve) => {
      let settled = false;
      let sent = false;
      const finish = (r: Result<HttpResponse, NetFailure>) => {
        if (settled) return;
        settled = true;
        clearTimeout(connectTimer);
        resolve(r);
      };
      const headers: Record<string, string> = { ...this.authHeader(), ...(req.headers ?? {}) };
      if (Buffer.isBuffer(req.body)) headers['Content-Length'] = String(req.body.length);
      else if (req.contentLength !== undefined) headers['Content-Length'] = String(req.contentLength);
      const r = mod.request(url, { method: req.method, headers, agent: this.agent });
      const connectTimer = setTimeout(() => {
        if (!r.socket || r.socket.connecting) {
          finish(
            err({
              kind: 'timeout',
              phase: 'connect',
              message: `${what}: no connection within ${this.endpoint.connectTimeoutMs ?? 10_000} ms`,
            }),
          );
          r.destroy();
        }
      }, this.endpoint.connectTimeoutMs ?? 10_000);
      r.setTimeout(this.endpoint.responseTimeoutMs ?? 300_000, () => {
        finish(
          err({
            kind: 'timeout',
            phase: 'dimse',
            message: `${what}: no answer within ${this.endpoint.responseTimeoutMs ?? 300_000} ms`,
          }),
        );
        r.destroy();
      });
      r.on('error', (e) => finish(err(httpFailure(e, what, sent))));
      r.on('response', (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          size += c.length;
          if (size > limit) {
            finish(err({ kind: 'protocol-error', message: `${what}: response larger than ${limit} bytes` }));
            res.destroy();
            return;
          }
          chunks.push(c);
        });
        res.on('error', (e) => finish(err(httpFailure(e, what, true))));
        res.on('end', () =>
          finish(
            ok({
              status: res.statusCode ?? 0,
              statusText: res.statusMessage ?? '',
              headers: res.headers,
              body: Buffer.concat(chunks),
            }),
          ),
        );
      });
      const body = req.body;
      if (body === undefined) {
        sent = true;
        r.end();
      } else if (Buffer.isBuffer(body)) {
        sent = true;
        r.end(body);
      } else {
        void (async () => {
          try {
            for await (const chunk of body()) {
              if (settled || r.destroyed) return; // the server answered (or failed) before the body ended
              if (!r.write(chunk))
                await new Promise<void>((w) => {
                  r.once('drain', w);
                  r.once('close', w);
                });
            }
            sent = true;
            r.end();
          } catch (e) {
            // Reading our own file failed: nothing was stored by this request's end.
            finish(
              err({
                kind: 'local',
                message: `${what}: reading the body failed: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
              }),
            );
            r.destroy();
          }
        })();
      }
    });
  }

  close(): void {
    this.agent.destroy();
  }
}
