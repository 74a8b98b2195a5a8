import { parseArgs } from 'node:util';
import { openChannel, describePeer } from '../../net/peer.js';
import { cEcho } from '../../net/services/echo.js';
import { VERIFICATION } from '../../net/services/sop-classes.js';
import { PEER_OPTIONS, peerFrom } from '../common.js';
import { Exit } from '../exit-codes.js';

export const usage =
  'pacshift echo AE@host:port [--calling-ae AE] [--tls --tls-ca F --tls-cert F --tls-key F] [--json]';

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, options: PEER_OPTIONS, allowPositionals: true });
  const peer = peerFrom(positionals[0], values);
  const t0 = performance.now();
  const ch = await openChannel(peer, [
    { abstractSyntax: VERIFICATION, transferSyntaxes: ['1.2.840.10008.1.2.1', '1.2.840.10008.1.2'] },
  ]);
  if (!ch.ok) {
    out(
      values.json,
      { ok: false, peer: describePeer(peer), failure: ch.error },
      `echo ${describePeer(peer)}: ${ch.error.kind}: ${ch.error.message}`,
    );
    return Exit.peer;
  }
  const r = await cEcho(ch.value);
  await ch.value.assoc.release();
  const ms = Math.round(performance.now() - t0);
  if (!r.ok) {
    out(
      values.json,
      { ok: false, peer: describePeer(peer), failure: r.error },
      `echo ${describePeer(peer)}: ${r.error.kind}: ${r.error.message}`,
    );
    return Exit.peer;
  }
  const good = r.value.status === 0;
  out(
    values.json,
    { ok: good, peer: describePeer(peer), status: r.value.status, ms },
    `echo ${describePeer(peer)}: status 0x${r.value.status.toString(16).padStart(4, '0')} in ${ms} ms`,
  );
  return good ? Exit.ok : Exit.partial;
}

function out(json: boolean | undefined, obj: unknown, text: string) {
  console.log(json ? JSON.stringify(obj) : text);
}
