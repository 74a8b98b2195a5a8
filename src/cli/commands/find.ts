import { parseArgs } from 'node:util';
import { keywordOf } from '../../dicom/keyword.js';
import type { SmallDataset } from '../../dicom/small-dataset.js';
import { describePeer, openChannel } from '../../net/peer.js';
import { cFind } from '../../net/services/find-scu.js';
import { IdentifierError, buildIdentifier, parseKeyArgs } from '../../net/services/identifier.js';
import { QR, type QueryLevel, type QueryModel, UNCOMPRESSED_LE } from '../../net/services/sop-classes.js';
import { hex } from '../../net/dimse/status.js';
import { PEER_OPTIONS, UsageError, peerFrom } from '../common.js';
import { Exit } from '../exit-codes.js';

export const usage =
  'pacshift find AE@host:port --level patient|study|series|image [-k Key=Value …] [--model study|patient] [--json]';

const LEVELS: Record<string, QueryLevel> = {
  patient: 'PATIENT',
  study: 'STUDY',
  series: 'SERIES',
  image: 'IMAGE',
};

/** A match as keyword → value (strings and numbers; sequences as item lists). */
export function toPlain(ds: SmallDataset): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  for (const [tag, { value }] of ds) {
    if (Buffer.isBuffer(value)) o[keywordOf(tag)] = `<${value.length} bytes>`;
    else if (Array.isArray(value) && value.length > 0 && value[0] instanceof Map)
      o[keywordOf(tag)] = (value as SmallDataset[]).map(toPlain);
    else o[keywordOf(tag)] = value;
  }
  return o;
}

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: {
      ...PEER_OPTIONS,
      level: { type: 'string', default: 'study' },
      key: { type: 'string', short: 'k', multiple: true },
      model: { type: 'string', default: 'study' },
    },
    allowPositionals: true,
  });
  const peer = peerFrom(positionals[0], values);
  const level = LEVELS[String(values.level).toLowerCase()];
  if (!level) throw new UsageError(`--level must be patient, study, series or image`);
  const model = (values.model === 'patient' ? 'patient' : 'study') as QueryModel;
  let identifier: SmallDataset;
  try {
    identifier = buildIdentifier(level, parseKeyArgs(values.key ?? []));
  } catch (e) {
    if (e instanceof IdentifierError) throw new UsageError(`-k: ${e.message}`);
    throw e;
  }
  const ch = await openChannel(peer, [{ abstractSyntax: QR[model].find, transferSyntaxes: UNCOMPRESSED_LE }]);
  if (!ch.ok) {
    console.error(`find ${describePeer(peer)}: ${ch.error.kind}: ${ch.error.message}`);
    return Exit.peer;
  }
  const q = cFind(ch.value, identifier, { model, timeoutMs: peer.dimseTimeoutMs });
  const matches: Record<string, unknown>[] = [];
  for await (const m of q.matches) {
    const p = toPlain(m);
    if (values.json) matches.push(p);
    else
      console.log(
        Object.entries(p)
          .map(([k, v]) => `${k}=${typeof v === 'object' ? JSON.stringify(v) : String(v)}`)
          .join('  '),
      );
  }
  const r = await q.done;
  await ch.value.assoc.release();
  if (!r.ok) {
    if (values.json) console.log(JSON.stringify({ ok: false, matches, failure: r.error }));
    else console.error(`find: ${r.error.kind}: ${r.error.message}`);
    return Exit.peer;
  }
  const summary = {
    ok: r.value.complete,
    status: `0x${hex(r.value.status)}`,
    meaning: r.value.entry.meaning,
    count: r.value.matches,
    complete: r.value.complete,
  };
  if (values.json) console.log(JSON.stringify({ ...summary, matches }));
  else
    console.error(
      `${r.value.matches} match(es); final status ${summary.status} (${summary.meaning})${r.value.complete ? '' : ' — INCOMPLETE'}`,
    );
  return r.value.complete ? Exit.ok : Exit.partial;
}
