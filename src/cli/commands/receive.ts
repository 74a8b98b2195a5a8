import { parseArgs } from 'node:util';
import { startScp, storageAcceptPolicy } from '../../net/services/scp.js';
import { FolderStoreTarget } from '../../net/services/store-target.js';
import { UsageError, listenError, tlsFrom } from '../common.js';
import { Exit } from '../exit-codes.js';
import { LISTEN_OPTIONS, LISTEN_USAGE, listenHelp, listenPolicy } from '../listen.js';
import { stopsGracefully } from '../signals.js';
import { writableDir } from '../paths.js';

export const usage = `pacshift receive --port N --ae AE --out DIR ${LISTEN_USAGE} [--idle-timeout S] [--tls --tls-ca F --tls-cert F --tls-key F] [--json]`;

export const details = listenHelp(
  'a Storage SCP (and Verification): it writes every instance a caller sends into --out.',
);

export async function run(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      port: { type: 'string' },
      ae: { type: 'string', default: 'PACSHIFT' },
      out: { type: 'string' },
      ...LISTEN_OPTIONS,
      json: { type: 'boolean', default: false },
      tls: { type: 'boolean', default: false },
      'tls-ca': { type: 'string' },
      'tls-cert': { type: 'string' },
      'tls-key': { type: 'string' },
      'max-pdu': { type: 'string' },
      'idle-timeout': { type: 'string' },
    },
  });
  if (!values.port || !values.out) throw new UsageError('--port and --out are required');
  const idleS = values['idle-timeout'] === undefined ? undefined : Number(values['idle-timeout']);
  if (idleS !== undefined && !(idleS >= 0))
    throw new UsageError('--idle-timeout is a number of seconds (0 = never)');
  const { host, allow } = listenPolicy(values);
  // Checked before listening: a sender must not see an association accepted and every object refused.
  const outProblem = await writableDir(values.out);
  if (outProblem) throw new UsageError(`--out: ${outProblem.message}`);
  let stored = 0;
  let refused = 0;
  let server;
  try {
    server = await startScp({
      aeTitle: values.ae!,
      port: Number(values.port),
      host,
      allow,
      tls: tlsFrom(values),
      maxPduLength: values['max-pdu'] ? Number(values['max-pdu']) : undefined,
      policy: storageAcceptPolicy(),
      idleTimeoutMs: idleS === undefined ? undefined : idleS * 1000,
      onEvent: (e) => console.error(values.json ? JSON.stringify({ event: e.kind, ...e }) : e.message),
      handlers: {
        store: new FolderStoreTarget(values.out),
        onStored: (r, assoc) => {
          if (r.ok) stored++;
          else refused++;
          if (values.json) {
            console.log(
              JSON.stringify(
                r.ok
                  ? {
                      stored: r.instance.sopInstanceUid,
                      path: r.instance.path,
                      from: assoc.info.callingAeTitle,
                    }
                  : { refused: true, status: r.status, comment: r.comment },
              ),
            );
          }
        },
      },
      onRefused: (why, remote) => console.error(`refused association from ${remote}: ${why}`),
    });
  } catch (e) {
    // EADDRINUSE, EACCES (a privileged port): the environment, exit 70 (src/cli/exit-codes.ts).
    throw listenError('--port', values.port, e);
  }
  console.error(
    `receiving as ${values.ae} on port ${server.port} of ${host} into ${values.out}; accepting ${allow.length > 0 ? allow.map((a) => a.aeTitle + (a.hosts ? `@${a.hosts.join(',')}` : '')).join(', ') : 'any calling AE'}`,
  );
  // Its normal end: a signal; it closes, prints its totals and exits 0 (src/cli/signals.ts).
  stopsGracefully({ ownExitCode: true });
  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  await server.close();
  console.error(`stored ${stored}, refused ${refused}`);
  return Exit.ok;
}
