import { runTool, type RunResult } from './process.js';

/**
 * DCMTK command-line SCUs (echoscu, storescu, findscu) against a harness peer, with TCP_NODELAY=1 and short
 * timeouts so that a broken connection fails a test quickly instead of hanging it.
 */

export interface ScuTarget {
  host: string;
  port: number;
  aeTitle: string;
}

export interface ScuTls {
  /** Client key and certificate; without them the connection is anonymous TLS (+tla). */
  key?: string;
  cert?: string;
  /** CA that must have signed the server certificate. Without it the server certificate is not verified (-ic). */
  ca?: string;
}

export interface ScuOptions {
  callingAe?: string;
  tls?: ScuTls;
  /** Seconds for connect, ACSE and DIMSE timeouts (default 10). */
  networkTimeoutS?: number;
  /** Process timeout (default 60 s). */
  timeoutMs?: number;
  extraArgs?: readonly string[];
}

export interface ScuResult extends RunResult {
  /** Exit code 0. */
  ok: boolean;
}

function commonArgs(target: ScuTarget, options: ScuOptions): string[] {
  const t = String(options.networkTimeoutS ?? 10);
  const args = [
    '-aet',
    options.callingAe ?? 'PACSHIFT',
    '-aec',
    target.aeTitle,
    '-to',
    t,
    '-ta',
    t,
    '-td',
    t,
  ];
  const tls = options.tls;
  if (tls) {
    if (tls.key && tls.cert) args.push('+tls', tls.key, tls.cert);
    else args.push('+tla');
    if (tls.ca) args.push('+cf', tls.ca, '-rc');
    else args.push('-ic');
  }
  args.push(...(options.extraArgs ?? []));
  return args;
}

async function run(tool: string, args: string[], options: ScuOptions): Promise<ScuResult> {
  const result = await runTool(tool, args, { timeoutMs: options.timeoutMs ?? 60_000 });
  return { ...result, ok: result.code === 0 };
}

export function echoscu(target: ScuTarget, options: ScuOptions = {}): Promise<ScuResult> {
  return run('echoscu', [...commonArgs(target, options), target.host, String(target.port)], options);
}

/**
 * storescu proposes each file's SOP class with uncompressed syntaxes (-R: only the classes needed) and converts
 * to them; DCMTK 3.6.7's storescu cannot send a compressed file as it is without a config: use uncompressed files.
 */
export function storescu(
  target: ScuTarget,
  files: readonly string[],
  options: ScuOptions = {},
): Promise<ScuResult> {
  return run(
    'storescu',
    [...commonArgs(target, options), '-R', '-nh', target.host, String(target.port), ...files],
    options,
  );
}

export type QueryLevel = 'PATIENT' | 'STUDY' | 'SERIES' | 'IMAGE';

export interface FindQuery {
  level: QueryLevel;
  /** Keyword → value; '' asks for the attribute to be returned. QueryRetrieveLevel is set from `level`. */
  keys?: Record<string, string>;
  /** Information model: study root (default) or patient root. */
  model?: 'study' | 'patient';
}

export interface FindResult extends ScuResult {
  /** One record per pending response: keyword → value (trailing padding removed). */
  matches: Record<string, string>[];
  /** Final status as findscu prints it, e.g. "Success" or "Cancel: MatchingTerminatedDueToCancelRequest". */
  finalStatus: string | undefined;
}

const ELEMENT = /^\((\w{4}),(\w{4})\) (\w\w) (.*?)\s+#\s*\d+,\s*\d+\s+(\S+)\s*$/;

/** Parses findscu -v log output into the data sets of its pending responses and its final status. */
export function parseFindscuOutput(text: string): {
  matches: Record<string, string>[];
  finalStatus: string | undefined;
} {
  const matches: Record<string, string>[] = [];
  let current: Record<string, string> | undefined;
  let finalStatus: string | undefined;
  for (const raw of text.split('\n')) {
    const line = raw.replace(/^[IWEDF]: /, '');
    if (/^Find Response: \d+/.test(line)) {
      current = {};
      matches.push(current);
      continue;
    }
    const final = /^Received Final Find Response \((.*)\)\s*$/.exec(line);
    if (final) {
      finalStatus = final[1];
      current = undefined;
      continue;
    }
    if (!current) continue;
    const element = ELEMENT.exec(line);
    if (!element) continue;
    const shown = element[4]!;
    const bracketed = /^\[(.*)\]$/.exec(shown);
    current[element[5]!] = bracketed ? bracketed[1]!.replace(/[\s\0]+$/, '') : '';
  }
  return { matches, finalStatus };
}

export async function findscu(
  target: ScuTarget,
  query: FindQuery,
  options: ScuOptions = {},
): Promise<FindResult> {
  const keyArgs = ['-k', `QueryRetrieveLevel=${query.level}`];
  for (const [keyword, value] of Object.entries(query.keys ?? {}))
    keyArgs.push('-k', value === '' ? keyword : `${keyword}=${value}`);
  const model = query.model === 'patient' ? '-P' : '-S';
  const result = await run(
    'findscu',
    ['-v', model, ...commonArgs(target, options), target.host, String(target.port), ...keyArgs],
    options,
  );
  return { ...result, ...parseFindscuOutput(result.stderr + '\n' + result.stdout) };
}

export interface MoveQuery {
  level: QueryLevel;
  keys: Record<string, string>;
  /** AE title the SCP sends the instances to (must be known to the SCP). */
  destination: string;
  model?: 'study' | 'patient';
}

/** movescu: asks the SCP to C-MOVE the matching instances to `destination` (a storescp of the harness, say). */
export function movescu(target: ScuTarget, query: MoveQuery, options: ScuOptions = {}): Promise<ScuResult> {
  const keyArgs = ['-k', `QueryRetrieveLevel=${query.level}`];
  for (const [keyword, value] of Object.entries(query.keys)) keyArgs.push('-k', `${keyword}=${value}`);
  const model = query.model === 'patient' ? '-P' : '-S';
  return run(
    'movescu',
    [
      '-v',
      model,
      ...commonArgs(target, options),
      '-aem',
      query.destination,
      target.host,
      String(target.port),
      ...keyArgs,
    ],
    options,
  );
}
