import { parseArgs } from 'node:util';
import { type ArchiveOptions, startArchive } from '../../archive/archive.js';
import type { ArchiveEvent, MoveDestination } from '../../archive/context.js';
import { hex } from '../../net/dimse/status.js';
import { UsageError, listenError, progress, tlsFrom } from '../common.js';
import { Exit } from '../exit-codes.js';
import { LISTEN_OPTIONS, LISTEN_USAGE, listenHelp, listenPolicy } from '../listen.js';
import { stopsGracefully } from '../signals.js';

export const usage =
  `pacshift serve --dir DIR --port N --ae AE [--peer AE=host:port …] ${LISTEN_USAGE} [--find-limit N [--find-limit-status cancel|warning]] ` +
  '[--refuse-sop-class UID …] [--accept-ts UID …] [--on-duplicate replace|keep-first|refuse] [--relational] [--db FILE] [--store-dir DIR] [--json]';

export const details = listenHelp(
  'a Query/Retrieve SCP over --dir (C-FIND at patient, study, series and image level: patient names, IDs, birth dates), C-MOVE to the --peer destinations, C-GET, and a Storage SCP into the archive.',
);

/** `AE=host:port` (or `AE@host:port`) → a C-MOVE destination. */
export function parseMovePeer(s: string): MoveDestination {
  const m = /^([^=@]{1,16})[=@](\[[^\]]+\]|[^:]+):(\d{1,5})$/.exec(s.trim());
  const port = m ? Number(m[3]) : 0;
  if (!m || port < 1 || port > 65535)
    throw new UsageError(`--peer ${s}: expected AE=host:port, e.g. STORESCP=127.0.0.1:11112`);
  return { aeTitle: m[1]!, host: m[2]!.replace(/^\[|\]$/g, ''), port };
}

const integer = (name: string, v: string | undefined, min: number): number | undefined => {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new UsageError(`${name} must be an integer ≥ ${min}, got ${v}`);
  return n;
};

function eventLine(e: ArchiveEvent): string {
  switch (e.type) {
    case 'find':
      return `C-FIND from ${e.callingAe} (${e.model} root, ${e.level ?? '?'}): ${e.matches} matches, status ${hex(e.status)}${e.comment ? ` (${e.comment})` : ''}`;
    case 'move':
    case 'get':
      return (
        `C-${e.type.toUpperCase()} from ${e.callingAe}${e.destination ? ` to ${e.destination}` : ''}: ${e.instances} instances, ` +
        `${e.completed} completed, ${e.failed} failed, ${e.warning} warning, status ${hex(e.status)}${e.comment ? ` (${e.comment})` : ''}`
      );
    case 'error':
      return `error: ${e.message}`;
  }
}

export async function run(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      dir: { type: 'string' },
      port: { type: 'string' },
      ae: { type: 'string' },
      ...LISTEN_OPTIONS,
      peer: { type: 'string', multiple: true },
      'find-limit': { type: 'string' },
      'find-limit-status': { type: 'string', default: 'cancel' },
      'refuse-sop-class': { type: 'string', multiple: true },
      'accept-ts': { type: 'string', multiple: true },
      'on-duplicate': { type: 'string', default: 'replace' },
      'pending-every': { type: 'string' },
      relational: { type: 'boolean', default: false },
      db: { type: 'string' },
      'store-dir': { type: 'string' },
      json: { type: 'boolean', default: false },
      tls: { type: 'boolean', default: false },
      'tls-ca': { type: 'string' },
      'tls-cert': { type: 'string' },
      'tls-key': { type: 'string' },
      'max-pdu': { type: 'string' },
    },
  });
  if (!values.dir || values.port === undefined || !values.ae)
    throw new UsageError('--dir, --port and --ae are required');
  const findLimitStatus = values['find-limit-status'];
  if (findLimitStatus !== 'cancel' && findLimitStatus !== 'warning')
    throw new UsageError('--find-limit-status is cancel (FE00) or warning (B001)');
  const onDuplicate = values['on-duplicate'];
  if (onDuplicate !== 'replace' && onDuplicate !== 'keep-first' && onDuplicate !== 'refuse') {
    throw new UsageError('--on-duplicate is replace, keep-first or refuse');
  }
  if (values.ae.length > 16) throw new UsageError('--ae: an AE title has at most 16 characters');
  const listen = listenPolicy(values);
  const json = values.json!;
  const out = (o: Record<string, unknown>, text: string) =>
    json ? console.log(JSON.stringify(o)) : console.error(text);
  const opts: ArchiveOptions = {
    dir: values.dir,
    port: integer('--port', values.port, 0)!,
    host: listen.host,
    aeTitle: values.ae,
    peers: (values.peer ?? []).map(parseMovePeer),
    allow: listen.allow,
    dbPath: values.db,
    storeDir: values['store-dir'],
    findLimit: integer('--find-limit', values['find-limit'], 0),
    findLimitStatus,
    refuseSopClasses: values['refuse-sop-class'],
    acceptTransferSyntaxes: values['accept-ts'],
    onDuplicate,
    relational: values.relational,
    pendingEvery: integer('--pending-every', values['pending-every'], 1),
    tls: tlsFrom(values),
    maxPduLength: integer('--max-pdu', values['max-pdu'], 1024),
    log: (e) =>
      out({ event: e.type, ...e, ...('status' in e ? { status: hex(e.status) } : {}) }, eventLine(e)),
    onRefused: (why, remote) =>
      out({ event: 'refused', remote, why }, `refused association from ${remote}: ${why}`),
  };
  const bar = progress(!json);
  opts.onIndexProgress = (done, total) => bar.update(`indexing ${done}/${total} files`);
  const archive = await startArchive(opts).catch((e: unknown) => {
    throw listenError('--port', opts.port, e);
  });
  bar.done();
  const s = archive.stats;
  for (const p of archive.problems())
    out(
      { event: 'unreadable', path: p.path, code: p.code, message: p.message },
      `unreadable: ${p.path}: ${p.code}`,
    );
  out(
    {
      event: 'serving',
      aeTitle: archive.aeTitle,
      port: archive.port,
      dir: archive.dir,
      storeDir: archive.storeDir,
      ...s,
      index: {
        read: archive.indexReport.read,
        unchanged: archive.indexReport.unchanged,
        removed: archive.indexReport.removed,
      },
    },
    `serving ${archive.dir} as ${archive.aeTitle} on port ${archive.port} of ${listen.host} to ${listen.allow.length > 0 ? listen.allow.map((a) => a.aeTitle).join(', ') : 'any calling AE'}: ${s.instances} instances in ${s.studies} studies ` +
      `(${s.series} series, ${s.patients} patients); ${s.unreadable} files unreadable; ${s.duplicateCopies} duplicate copies`,
  );
  // SIGHUP: re-index the folder (files added, changed or removed behind the archive's back).
  const onHup = () => {
    void archive.reindex().then((r) => {
      bar.done();
      out(
        {
          event: 'reindexed',
          read: r.read,
          unchanged: r.unchanged,
          removed: r.removed,
          problems: r.problems,
          ...archive.stats,
        },
        `re-indexed: ${r.read} files read, ${r.removed} removed, ${r.problems} unreadable among those read; ${archive.stats.instances} instances served`,
      );
    });
  };
  // Its normal end: a signal; it closes, prints its totals and exits 0 (src/cli/signals.ts).
  stopsGracefully({ ownExitCode: true });
  process.on('SIGHUP', onHup);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  process.off('SIGHUP', onHup);
  const end = archive.stats;
  await archive.close();
  out(
    { event: 'stopped', ...end },
    `stopped: ${end.finds} C-FIND, ${end.moves} C-MOVE, ${end.gets} C-GET; stored ${end.stored}, refused ${end.storeRefused}`,
  );
  return Exit.ok;
}
