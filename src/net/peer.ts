import { type Result, err, ok } from '../util/result.js';
import { requestAssociation } from './association/request.js';
import type { AssociationTimeouts, ContextProposal } from './association/types.js';
import { type ChannelHandlers, DimseChannel } from './dimse/channel.js';
import type { NetFailure } from './errors.js';
import type { TlsSettings } from './transport/tls-options.js';

/** A remote application entity and how we call it. */
export interface Peer {
  host: string;
  port: number;
  /** The called AE title. */
  aeTitle: string;
  /** Our (calling) AE title. */
  callingAeTitle: string;
  tls?: TlsSettings;
  timeouts?: Partial<AssociationTimeouts>;
  maxPduLength?: number;
  /** DIMSE timeout: waiting for a response (and between pending responses). */
  dimseTimeoutMs?: number;
}

export const describePeer = (p: Peer): string => `${p.aeTitle}@${p.host}:${p.port}`;

/** Parse `AE@host:port`. */
export function parsePeerAddress(s: string): { aeTitle: string; host: string; port: number } | undefined {
  const m = /^([^@]{1,16})@(\[[^\]]+\]|[^:]+):(\d{1,5})$/.exec(s.trim());
  if (!m) return undefined;
  const port = Number(m[3]);
  if (port < 1 || port > 65535) return undefined;
  return { aeTitle: m[1]!, host: m[2]!.replace(/^\[|\]$/g, ''), port };
}

export async function openChannel(
  peer: Peer,
  contexts: ContextProposal[],
  handlers?: ChannelHandlers,
): Promise<Result<DimseChannel, NetFailure>> {
  const r = await requestAssociation({
    host: peer.host,
    port: peer.port,
    callingAeTitle: peer.callingAeTitle,
    calledAeTitle: peer.aeTitle,
    contexts,
    tls: peer.tls,
    timeouts: peer.timeouts,
    maxPduLength: peer.maxPduLength,
  });
  if (!r.ok) return err(r.error);
  return ok(new DimseChannel(r.value, handlers));
}
