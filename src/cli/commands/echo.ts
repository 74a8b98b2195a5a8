import { parseArgs } from 'node:util';
import type { NetFailure } from '../../net/errors.js';
import { openChannel, describePeer } from '../../net/peer.js';
import { cEcho } from '../../net/services/echo.js';
import { VERIFICATION } from '../../net/services/sop-classes.js';
import { PEER_OPTIONS, peerFrom } from '../common.js';
import { Exit } from '../exit-codes.js';

export const usage =
  'pacshift echo AE@host:port [--timeout S (overall, default 60)] [--calling-ae AE] [--tls --tls-ca F --tls-cert F --tls-key F] [--json]';

/**
 * `--timeout` is one deadline for the whole echo: connect, association, C-ECHO and release each get
 * what is left of it, and a release the peer does not answer in time is cut by an abort. (Each phase used
 * to have its own full timeout: 30 s for the C-ECHO plus 30 s for the release, whatever --timeout said.)
 */
export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, options: PEER_OPTIONS, allowPositionals: true });
  const base = peerFrom(positionals[0], values);
  const timeoutMs = Number(values.timeout) * 1000;
  const t0 = performance.now();
  const left = () => Math.max(1, Math.round(t0 + timeoutMs - performance.now()));
  const peer = {
    ...base,
    timeouts: { connectMs: left(), associationMs: left(), artimMs: left(), releaseMs: left() },
  };
  const fail = (f: NetFailure) => {
    const why =
      f.kind === 'timeout'
        ? `timeout: no answer within ${timeoutMs} ms (${f.message})`
        : `${f.kind}: ${f.message}`;
    out(
      values.json,
      { ok: false, peer: describePeer(peer), timeoutMs, failure: f },
      `echo ${describePeer(peer)}: ${why}`,
    );
    return Exit.peer;
  };
  const ch = await openChannel(peer, [
    { abstractSyntax: VERIFICATION, transferSyntaxes: ['1.2.840.10008.1.2.1', '1.2.840.10008.1.2'] },
  ]);
  if (!ch.ok) return fail(ch.error);
  const r = await cEcho(ch.value, left());
  if (!r.ok) {
    ch.value.assoc.abort();
    return fail(r.error);
  }
  await releaseWithin(ch.value.assoc, left());
  const ms = Math.round(performance.now() - t0);
  const good = r.value.status === 0;
  out(
    values.json,
    { ok: good, peer: describePeer(peer), status: r.value.status, ms },
    `echo ${describePeer(peer)}: status 0x${r.value.status.toString(16).padStart(4, '0')} in ${ms} ms`,
  );
  return good ? Exit.ok : Exit.partial;
}

/** A-RELEASE within `ms`, else A-ABORT: the answer is already in, the deadline holds. */
async function releaseWithin(
  assoc: { release(): Promise<unknown>; abort(): void },
  ms: number,
): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<'expired'>((res) => (timer = setTimeout(() => res('expired'), ms)));
  const r = await Promise.race([assoc.release(), expired]);
  clearTimeout(timer);
  if (r === 'expired') assoc.abort();
}

function out(json: boolean | undefined, obj: unknown, text: string) {
  console.log(json ? JSON.stringify(obj) : text);
}
