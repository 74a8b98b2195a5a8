import { createConnection, createServer } from 'node:net';

/**
 * A TCP port that was free a moment ago on `host`: listen on port 0, read the port, close.
 * Another process may take it before the peer binds it; the peer starters retry on a bind failure.
 */
export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen({ host, port: 0, exclusive: true }, () => {
      const address = server.address();
      if (address === null || typeof address === 'string') {
        server.close();
        reject(new Error(`freePort: unexpected address ${String(address)}`));
        return;
      }
      const { port } = address;
      server.close((error) => (error ? reject(error) : resolve(port)));
    });
  });
}

export interface WaitForPortOptions {
  host?: string;
  /** Polling interval between connection attempts. */
  intervalMs?: number;
  /** Give up early (e.g. the peer process exited): return a reason to stop waiting. */
  abortIf?: () => string | undefined;
}

function tryConnect(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host, port });
    const done = (ok: boolean): void => {
      socket.removeAllListeners();
      socket.on('error', () => undefined);
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1000, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/** Resolves once a TCP connection to host:port succeeds; rejects after `timeoutMs` or when `abortIf` says so. */
export async function waitForPort(
  port: number,
  timeoutMs = 10_000,
  options: WaitForPortOptions = {},
): Promise<void> {
  const host = options.host ?? '127.0.0.1';
  const intervalMs = options.intervalMs ?? 25;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const reason = options.abortIf?.();
    if (reason !== undefined) throw new Error(`waitForPort ${host}:${port}: ${reason}`);
    if (await tryConnect(host, port)) return;
    if (Date.now() >= deadline)
      throw new Error(`waitForPort ${host}:${port}: nothing listening after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** Thrown by a peer starter when its peer could not bind the port it was given. */
export class PortClashError extends Error {}

/**
 * Runs `attempt` with fresh free ports, again (up to `tries` times) when it throws a PortClashError:
 * between freePort() and the peer's bind another process may have taken the port.
 */
export async function withFreePorts<T>(
  count: number,
  attempt: (ports: number[]) => Promise<T>,
  tries = 3,
): Promise<T> {
  for (let i = 1; ; i++) {
    const ports: number[] = [];
    while (ports.length < count) {
      const port = await freePort();
      if (!ports.includes(port)) ports.push(port);
    }
    try {
      return await attempt(ports);
    } catch (error) {
      if (!(error instanceof PortClashError) || i >= tries) throw error;
    }
  }
}
