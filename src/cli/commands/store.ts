import { parseArgs } from 'node:util';
import { readInstanceInfo } from '../../dicom/part10.js';
import { hex } from '../../net/dimse/status.js';
import { describePeer } from '../../net/peer.js';
import { type SendableInstance, type StoreOutcome, storeInstances } from '../../net/services/store-scu.js';
import { PEER_OPTIONS, UsageError, peerFrom, progress } from '../common.js';
import { Exit } from '../exit-codes.js';
import { listInputFiles } from '../paths.js';

export const usage =
  'pacshift store AE@host:port FILES_OR_DIRS… [--associations N] [--calling-ae AE] [--json]';

export interface FileRefusal {
  path: string;
  code: string;
  message: string;
}

/** Read the identifiers of files; those that cannot be sent get a typed cause. */
export async function prepareFiles(
  paths: string[],
): Promise<{ sendable: SendableInstance[]; unreadable: FileRefusal[] }> {
  const sendable: SendableInstance[] = [];
  const unreadable: FileRefusal[] = [];
  for (const path of paths) {
    const r = await readInstanceInfo(path);
    if (!r.ok) {
      unreadable.push({ path, code: r.error.code, message: r.error.message });
      continue;
    }
    const i = r.value;
    sendable.push({
      path,
      sopClassUid: i.sopClassUid,
      sopInstanceUid: i.sopInstanceUid,
      transferSyntaxUid: i.transferSyntaxUid,
      datasetOffset: i.metaEnd,
      datasetLength: i.datasetLength,
    });
  }
  return { sendable, unreadable };
}

export const outcomeLine = (o: StoreOutcome): Record<string, unknown> => ({
  path: o.instance.path,
  sopInstanceUid: o.instance.sopInstanceUid,
  ok: o.ok,
  status: o.status !== undefined ? hex(o.status) : undefined,
  meaning: o.entry?.meaning,
  action: o.entry?.action,
  failure: o.ok ? undefined : o.failure ? `${o.failure.kind}: ${o.failure.message}` : undefined,
  errorComment: o.errorComment,
  adjusted: o.ok ? o.adjusted : undefined,
});

/**
 * The peer never took part: nothing was stored and no file got a DIMSE answer, every failure being one of
 * reaching it (refused connection, rejected association, TLS, a port that does not speak DICOM). That is
 * exit 3, not a per-file failure.
 */
export function peerNeverAnswered(outcomes: readonly StoreOutcome[]): boolean {
  return (
    outcomes.length > 0 &&
    outcomes.every((o) => !o.ok && o.status === undefined && o.failure?.kind !== 'no-presentation-context')
  );
}

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: { ...PEER_OPTIONS, associations: { type: 'string', default: '1' } },
    allowPositionals: true,
  });
  const peer = peerFrom(positionals[0], values);
  if (positionals.length < 2) throw new UsageError('no files or directories to send');
  // A path that does not exist (or cannot be read) is reported like an unreadable file; the others are sent.
  const { files, problems } = await listInputFiles(positionals.slice(1));
  const prepared = await prepareFiles(files);
  const { sendable } = prepared;
  const unreadable: FileRefusal[] = [...problems, ...prepared.unreadable];
  for (const u of unreadable) {
    if (values.json)
      console.log(JSON.stringify({ path: u.path, ok: false, failure: `${u.code}: ${u.message}` }));
    else console.log(`FAIL  ${u.code}  ${u.path}  ${u.message}`);
  }
  const bar = progress(!values.json);
  let done = 0;
  let bytes = 0;
  const t0 = performance.now();
  const outcomes = await storeInstances(peer, sendable, {
    associations: Math.max(1, Number(values.associations)),
    onOutcome: (o) => {
      done++;
      if (o.ok) bytes += o.instance.datasetLength;
      bar.update(`${done}/${sendable.length} sent`);
      const l = outcomeLine(o);
      if (values.json) console.log(JSON.stringify(l));
      else
        console.log(
          `${o.ok ? (o.status === 0 ? 'OK  ' : 'WARN') : 'FAIL'}  ${l.status ?? (o.ok ? '' : o.failure?.kind) ?? ''}  ${o.instance.path}  ${o.instance.sopInstanceUid}${l.failure ? `  ${l.failure}` : ''}${o.errorComment ? `  (${o.errorComment})` : ''}${l.adjusted ? `  (${String(l.adjusted)})` : ''}`,
        );
    },
  });
  bar.done();
  const s = (performance.now() - t0) / 1000;
  const okCount = outcomes.filter((o) => o.ok).length;
  const summary = {
    peer: describePeer(peer),
    files: files.length + problems.length,
    stored: okCount,
    warnings: outcomes.filter((o) => o.ok && o.status !== 0).length,
    failed: outcomes.length - okCount,
    unreadable: unreadable.length,
    seconds: Number(s.toFixed(3)),
    instancesPerSecond: Number((okCount / s).toFixed(1)),
    megabytesPerSecond: Number((bytes / 1e6 / s).toFixed(1)),
  };
  if (values.json) console.log(JSON.stringify({ summary }));
  else
    console.error(
      `stored ${summary.stored}/${summary.files} (${summary.warnings} with warnings), failed ${summary.failed}, unreadable ${summary.unreadable}; ${summary.seconds} s, ${summary.instancesPerSecond} inst/s, ${summary.megabytesPerSecond} MB/s`,
    );
  if (peerNeverAnswered(outcomes)) return Exit.peer;
  return summary.failed + summary.unreadable === 0 ? Exit.ok : Exit.partial;
}
