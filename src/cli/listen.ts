/**
 * Who may reach a listening command (`pacshift serve`, `pacshift receive`): where it listens and which calling
 * AE titles it accepts. By default it listens on the loopback interface only (this machine); listening elsewhere
 * (`--host 0.0.0.0`, an interface address) needs `--allow` (the AE titles, optionally pinned to a host, it
 * serves) or an explicit `--allow-any`. AE titles are not secrets: an open listener stores what anyone sends
 * and (serve) answers any patient-level query.
 */
import { isIP } from 'node:net';
import type { AllowedPeer } from '../net/association/server.js';
import { UsageError } from './common.js';

export const LISTEN_OPTIONS = {
  host: { type: 'string', default: '127.0.0.1' },
  allow: { type: 'string', multiple: true },
  'allow-any': { type: 'boolean', default: false },
} as const;

export const LISTEN_USAGE = '[--host ADDRESS] [--allow AE[@host] …] [--allow-any]';

/** The paragraph `--help` prints: what the command exposes, and to whom. */
export const listenHelp = (what: string): string =>
  [
    `Exposure: ${what}`,
    '  --host ADDRESS     where to listen; default 127.0.0.1 (this machine only). 0.0.0.0 or an interface',
    '                     address makes it reachable from the network: then --allow or --allow-any is required.',
    '  --allow AE[@host]  accept only these calling AE titles (from that host or IP, if given); repeatable.',
    '                     Everyone else is rejected at association (A-ASSOCIATE-RJ, calling AE not recognised).',
    '  --allow-any        accept any calling AE title (without --allow, the default on 127.0.0.1).',
  ].join('\n');

/** Loopback: 127.0.0.0/8, ::1, localhost. */
export const isLoopback = (host: string): boolean =>
  host === 'localhost' || host === '::1' || (isIP(host) === 4 && host.startsWith('127.'));

export function parseAllow(entries: readonly string[]): AllowedPeer[] {
  return entries.map((a) => {
    const at = a.indexOf('@');
    const aeTitle = at < 0 ? a : a.slice(0, at);
    const host = at < 0 ? undefined : a.slice(at + 1);
    if (aeTitle.length === 0 || aeTitle.length > 16)
      throw new UsageError(`--allow ${a}: an AE title of 1 to 16 characters, optionally @host`);
    if (host !== undefined && host.length === 0) throw new UsageError(`--allow ${a}: a host after @`);
    return { aeTitle, hosts: host ? [host] : undefined };
  });
}

/** Where to listen and whom to accept, from the command line; a usage error for an open listener not asked for. */
export function listenPolicy(values: { host?: string; allow?: string[]; 'allow-any'?: boolean }): {
  host: string;
  allow: AllowedPeer[];
} {
  const host = values.host ?? '127.0.0.1';
  const allow = parseAllow(values.allow ?? []);
  if (allow.length > 0 && values['allow-any'])
    throw new UsageError('--allow and --allow-any: choose one (a list of peers, or anyone)');
  if (!isLoopback(host) && allow.length === 0 && !values['allow-any'])
    throw new UsageError(
      `--host ${host} makes the listener reachable from the network, where it would accept any calling AE: name the peers with --allow AE[@host] (or accept anyone with --allow-any)`,
    );
  return { host, allow };
}
