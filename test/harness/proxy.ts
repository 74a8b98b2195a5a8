import { connect, createServer, type Server, type Socket } from 'node:net';

/**
 * A TCP proxy on a free loopback port, between a client and a real peer, for fault injection.
 * Faults are triggered by byte counts, never by timers, so a test is deterministic:
 *
 *   const proxy = await startProxy({ targetHost: scp.host, targetPort: scp.port });
 *   proxy.cutAfterBytes(100, 'upstream');   // every connection: forward 100 client bytes, then reset both sides
 *
 * Directions: 'upstream' is client → target, 'downstream' is target → client.
 * Byte counts are per connection, from its first byte. Injected bytes are not counted.
 * Connections are numbered from 1 in accept order (onData's `connection`).
 */

export type Direction = 'upstream' | 'downstream';

/**
 * reset: both sockets are destroyed with a TCP RST (a crash or a firewall drop).
 * close: both sockets are ended with a FIN (an orderly close nobody asked for).
 * blackhole: nothing more is forwarded in either direction and nothing is closed (a half-open connection).
 */
export type CutMode = 'reset' | 'close' | 'blackhole';

export interface CutOptions {
  mode?: CutMode;
  /** Fire on the first connection that crosses the count only (e.g. the first attempt fails, the retry passes). */
  once?: boolean;
}

export interface ProxyStats {
  /** Connections accepted so far. */
  connections: number;
  /** Connections currently open. */
  open: number;
  /** Bytes forwarded so far, all connections. */
  bytes: Record<Direction, number>;
  /** Faults fired so far. */
  cuts: number;
}

export interface Proxy {
  readonly host: string;
  readonly port: number;
  /** Arm a fault: on a connection, forward exactly `n` bytes in `direction`, then cut it (default mode 'reset'). */
  cutAfterBytes(n: number, direction: Direction, options?: CutOptions): void;
  /** Disarm every fault (connections already cut stay cut). */
  clearFaults(): void;
  /** Stop forwarding in both directions on every connection, new ones included; the sockets stay open. */
  pause(): void;
  resume(): void;
  /** Reset every open connection; keep listening. */
  closeAll(): void;
  /** Write raw bytes into every open connection, towards the target (upstream) or the client (downstream). Returns how many. */
  inject(direction: Direction, data: Buffer): number;
  stats(): ProxyStats;
  stop(): Promise<void>;
}

export interface ProxyOptions {
  targetHost: string;
  targetPort: number;
  /** Listen address; default 127.0.0.1. */
  host?: string;
  /** Sees every forwarded chunk (after faults: exactly the bytes that reach the other side), e.g. to capture PDUs. */
  onData?: (direction: Direction, chunk: Buffer, connection: number) => void;
}

interface Fault {
  n: number;
  direction: Direction;
  mode: CutMode;
  once: boolean;
  fired: boolean;
}

interface Link {
  id: number;
  client: Socket;
  target: Socket;
  targetConnected: boolean;
  bytes: Record<Direction, number>;
  blackholed: boolean;
  cut: boolean;
}

function destroyWithReset(socket: Socket): void {
  if (socket.destroyed) return;
  // resetAndDestroy needs a connected socket; destroy otherwise
  if (socket.readyState === 'open' || socket.readyState === 'readOnly' || socket.readyState === 'writeOnly')
    socket.resetAndDestroy();
  else socket.destroy();
}

export function startProxy(options: ProxyOptions): Promise<Proxy> {
  const host = options.host ?? '127.0.0.1';
  const links = new Set<Link>();
  let faults: Fault[] = [];
  let paused = false;
  const stats: ProxyStats = { connections: 0, open: 0, bytes: { upstream: 0, downstream: 0 }, cuts: 0 };

  const source = (link: Link, direction: Direction): Socket =>
    direction === 'upstream' ? link.client : link.target;
  const sink = (link: Link, direction: Direction): Socket =>
    direction === 'upstream' ? link.target : link.client;

  const flowIfAllowed = (link: Link): void => {
    if (paused || link.blackholed || link.cut) return;
    if (!link.targetConnected) return;
    link.client.resume();
    link.target.resume();
  };

  const cut = (link: Link, mode: CutMode): void => {
    stats.cuts++;
    if (mode === 'blackhole') {
      link.blackholed = true;
      return;
    }
    link.cut = true;
    link.client.pause();
    link.target.pause();
    if (mode === 'close') {
      link.client.end();
      link.target.end();
    } else {
      destroyWithReset(link.client);
      destroyWithReset(link.target);
    }
  };

  const activeFault = (direction: Direction): Fault | undefined =>
    faults.find((f) => f.direction === direction && !(f.once && f.fired));

  const forward = (link: Link, direction: Direction, chunk: Buffer): void => {
    if (link.blackholed || link.cut) return;
    const fault = activeFault(direction);
    let pass = chunk;
    let fire = false;
    if (fault && link.bytes[direction] + chunk.length > fault.n) {
      pass = chunk.subarray(0, Math.max(0, fault.n - link.bytes[direction]));
      fire = true;
      fault.fired = true;
    }
    link.bytes[direction] += pass.length;
    stats.bytes[direction] += pass.length;
    if (pass.length > 0) options.onData?.(direction, pass, link.id);
    const to = sink(link, direction);
    if (fire) {
      const mode = fault!.mode;
      // cut only once the last allowed byte has left for the kernel
      source(link, direction).pause();
      if (pass.length > 0) to.write(pass, () => cut(link, mode));
      else cut(link, mode);
      return;
    }
    if (pass.length > 0 && !to.write(pass)) {
      const from = source(link, direction);
      from.pause();
      to.once('drain', () => flowIfAllowed(link));
    }
  };

  const server: Server = createServer({ allowHalfOpen: true, pauseOnConnect: true }, (client) => {
    stats.connections++;
    stats.open++;
    const id = stats.connections;
    const target = connect({ host: options.targetHost, port: options.targetPort, allowHalfOpen: true });
    target.pause();
    const link: Link = {
      id,
      client,
      target,
      targetConnected: false,
      bytes: { upstream: 0, downstream: 0 },
      blackholed: false,
      cut: false,
    };
    links.add(link);
    client.setNoDelay(true);
    target.setNoDelay(true);

    client.on('data', (chunk: Buffer) => forward(link, 'upstream', chunk));
    target.on('data', (chunk: Buffer) => forward(link, 'downstream', chunk));
    client.pause();
    target.pause();

    target.once('connect', () => {
      link.targetConnected = true;
      flowIfAllowed(link);
    });
    // FIN travels through unless the link is blackholed
    client.on('end', () => {
      if (!link.blackholed && !link.cut) target.end();
    });
    target.on('end', () => {
      if (!link.blackholed && !link.cut) client.end();
    });
    // an error or close on one side resets the other (a blackholed link keeps its other side open)
    client.on('error', () => undefined);
    target.on('error', () => undefined);
    const onClose = (other: Socket) => (hadError: boolean) => {
      if (link.blackholed) return;
      if (hadError) destroyWithReset(other);
      else if (!other.destroyed && other.writableEnded && other.readableEnded) other.destroy();
    };
    client.on('close', onClose(target));
    target.on('close', onClose(client));
    let closed = 0;
    const both = (): void => {
      closed++;
      if (closed === 2) {
        links.delete(link);
        stats.open--;
      }
    };
    client.once('close', both);
    target.once('close', both);
  });

  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host, port: 0 }, () => {
      const address = server.address();
      if (address === null || typeof address === 'string') {
        reject(new Error('proxy: no address'));
        return;
      }
      resolve({
        host,
        port: address.port,
        cutAfterBytes(n: number, direction: Direction, cutOptions: CutOptions = {}): void {
          if (!Number.isInteger(n) || n < 0) throw new Error(`cutAfterBytes: bad byte count ${n}`);
          faults.push({
            n,
            direction,
            mode: cutOptions.mode ?? 'reset',
            once: cutOptions.once ?? false,
            fired: false,
          });
        },
        clearFaults(): void {
          faults = [];
        },
        pause(): void {
          paused = true;
          for (const link of links) {
            link.client.pause();
            link.target.pause();
          }
        },
        resume(): void {
          paused = false;
          for (const link of links) flowIfAllowed(link);
        },
        closeAll(): void {
          for (const link of links) {
            link.cut = true;
            destroyWithReset(link.client);
            destroyWithReset(link.target);
          }
        },
        inject(direction: Direction, data: Buffer): number {
          let count = 0;
          for (const link of links) {
            const to = sink(link, direction);
            if (to.destroyed || to.writableEnded || link.cut) continue;
            if (direction === 'upstream' && !link.targetConnected) continue;
            to.write(data);
            count++;
          }
          return count;
        },
        stats: () => ({ ...stats, bytes: { ...stats.bytes } }),
        stop(): Promise<void> {
          return new Promise((done) => {
            for (const link of links) {
              link.cut = true;
              link.client.destroy();
              link.target.destroy();
            }
            server.close(() => done());
          });
        },
      });
    });
  });
}
