/**
 * Listens for associations: checks who is calling (AE title and optionally host), negotiates
 * contexts with a policy, and hands each established association to the application.
 */
import net from 'node:net';
import tls from 'node:tls';
import { IMPLEMENTATION_CLASS_UID, IMPLEMENTATION_VERSION_NAME } from '../implementation.js';
import type { TlsSettings } from '../transport/tls-options.js';
import { DICOM_APPLICATION_CONTEXT, PROTOCOL_VERSION } from '../ul/constants.js';
import type { AssociateRq } from '../ul/pdu.js';
import { Association } from './association.js';
import { watchIdle } from './idle.js';
import { type AcceptPolicy, negotiate } from './negotiation.js';
import { type AssociationTimeouts, DEFAULT_MAX_PDU, DEFAULT_TIMEOUTS } from './types.js';

export interface AllowedPeer {
  aeTitle: string;
  /** When given, the calling AE must connect from one of these addresses. */
  hosts?: string[];
}

/**
 * An established association that says nothing (no byte either way, no operation in progress) for this
 * long is aborted. Default 300 s: far above a normal pause between C-STOREs of a C-MOVE from a slow or
 * near-line source (minutes per study are seen), yet a silent or hung peer frees its slot. Orthanc's
 * DicomScpTimeout defaults to 30 s, DCMTK's SCPs wait forever unless --idle-timeout (dcmqrscp: -td) says.
 * Example: `idleTimeoutMs: 60_000`; 0 = never.
 */
export const DEFAULT_IDLE_TIMEOUT_MS = 300_000;

/** What the server reports besides refusals (for logs: AE titles, addresses, no PHI). */
export type ServerEvent = {
  readonly kind: 'idle-timeout';
  readonly callingAeTitle: string;
  readonly remote: string;
  readonly idleTimeoutMs: number;
  readonly message: string;
};

export interface ServerOptions {
  aeTitle: string;
  /** Calling AE titles we serve; empty or undefined = anyone (for tools like `pacshift receive` without --allow). */
  allow?: AllowedPeer[];
  policy: AcceptPolicy;
  maxPduLength?: number;
  tls?: TlsSettings;
  timeouts?: Partial<AssociationTimeouts>;
  /** Abort an established association silent this long (ms; 0 = never). Default DEFAULT_IDLE_TIMEOUT_MS. */
  idleTimeoutMs?: number;
  /** Typed events for the log (an idle association aborted). */
  onEvent?(e: ServerEvent): void;
  /** Called for every established association. */
  onAssociation(assoc: Association): void;
  /** Called when an association is refused or fails to establish (for logs). */
  onRefused?(why: string, remote: string): void;
}

export interface AssociationServer {
  port: number;
  host: string;
  close(): Promise<void>;
  /** Associations currently open. */
  readonly active: Set<Association>;
}

const normalizeHost = (h: string): string => h.replace(/^::ffff:/, '');

/** Why an A-ASSOCIATE-RQ is rejected: [result, source, reason], or undefined when acceptable. */
export function checkAssociateRq(
  rq: AssociateRq,
  opts: Pick<ServerOptions, 'aeTitle' | 'allow'>,
  remote: string,
) {
  // PS3.8 9.3.2: one bit per version; an implementation of version 1 tests bit 0 only.
  if ((rq.protocolVersion & PROTOCOL_VERSION) === 0)
    return { rj: [1, 2, 2] as const, why: 'protocol version not supported' };
  if (rq.applicationContext !== DICOM_APPLICATION_CONTEXT)
    return { rj: [1, 1, 2] as const, why: 'application context not supported' };
  if (rq.calledAeTitle !== opts.aeTitle)
    return { rj: [1, 1, 7] as const, why: `called AE ${rq.calledAeTitle} is not ${opts.aeTitle}` };
  if (opts.allow && opts.allow.length > 0) {
    // An AE title may be listed more than once (from several hosts): any entry that fits lets it in.
    const entries = opts.allow.filter((p) => p.aeTitle === rq.callingAeTitle);
    if (entries.length === 0)
      return { rj: [1, 1, 3] as const, why: `calling AE ${rq.callingAeTitle} is not configured` };
    const from = normalizeHost(remote);
    if (!entries.some((p) => !p.hosts || p.hosts.length === 0 || p.hosts.map(normalizeHost).includes(from)))
      return { rj: [1, 1, 3] as const, why: `calling AE ${rq.callingAeTitle} is not allowed from ${remote}` };
  }
  return undefined;
}

export function startAssociationServer(
  opts: ServerOptions & { port: number; host?: string },
): Promise<AssociationServer> {
  const timeouts = { ...DEFAULT_TIMEOUTS, ...opts.timeouts };
  const maxPdu = opts.maxPduLength ?? DEFAULT_MAX_PDU;
  const active = new Set<Association>();
  const sockets = new Set<net.Socket>();

  const onSocket = (socket: net.Socket) => {
    socket.setNoDelay(true);
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    const remote = normalizeHost(socket.remoteAddress ?? '?');
    const assoc = new Association(socket, 'acceptor', maxPdu, timeouts);
    active.add(assoc);
    void assoc.whenEnded().then(() => active.delete(assoc));
    assoc.onAssociateRequest = (rq) => {
      const bad = checkAssociateRq(rq, opts, remote);
      if (bad) {
        opts.onRefused?.(bad.why, remote);
        assoc.reject(bad.rj[0], bad.rj[1], bad.rj[2]);
        return;
      }
      const n = negotiate(rq, opts.policy);
      const asyncOps = rq.userInformation.asyncOps ? { invoked: 1, performed: 1 } : undefined;
      assoc.accept(
        {
          calledAeTitle: rq.calledAeTitle,
          callingAeTitle: rq.callingAeTitle,
          presentationContexts: n.ac,
          userInformation: {
            maxPduLength: maxPdu,
            implementationClassUid: IMPLEMENTATION_CLASS_UID,
            implementationVersionName: IMPLEMENTATION_VERSION_NAME,
            asyncOps,
            roleSelections: n.roles,
            extendedNegotiations: [],
            otherItems: [],
          },
        },
        {
          callingAeTitle: rq.callingAeTitle,
          calledAeTitle: rq.calledAeTitle,
          peerImplementationClassUid: rq.userInformation.implementationClassUid,
          peerImplementationVersionName: rq.userInformation.implementationVersionName,
          peerMaxPduLength: rq.userInformation.maxPduLength,
          contexts: n.contexts,
          roleSelections: rq.userInformation.roleSelections,
          extendedNegotiations: rq.userInformation.extendedNegotiations,
          remoteAddress: remote,
          tls: !!opts.tls,
        },
      );
      const idleMs = opts.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS;
      watchIdle(assoc, idleMs, () => {
        opts.onEvent?.({
          kind: 'idle-timeout',
          callingAeTitle: rq.callingAeTitle,
          remote,
          idleTimeoutMs: idleMs,
          message: `association from ${rq.callingAeTitle} at ${remote} idle for ${idleMs} ms: A-ABORT`,
        });
        assoc.abort();
      });
      opts.onAssociation(assoc);
    };
  };

  const server = opts.tls
    ? tls.createServer(
        {
          key: opts.tls.key,
          cert: opts.tls.cert,
          ca: opts.tls.ca,
          requestCert: opts.tls.requireClientCertificate ?? !!opts.tls.ca,
          rejectUnauthorized: opts.tls.requireClientCertificate ?? !!opts.tls.ca,
          minVersion: opts.tls.minVersion ?? 'TLSv1.2',
        },
        onSocket,
      )
    : net.createServer(onSocket);
  server.on('tlsClientError', (e: Error, s: tls.TLSSocket) => {
    opts.onRefused?.(`TLS handshake failed: ${e.message}`, normalizeHost(s.remoteAddress ?? '?'));
  });

  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host ?? '0.0.0.0', () => {
      server.off('error', reject);
      const addr = server.address() as net.AddressInfo;
      resolve({
        port: addr.port,
        host: opts.host ?? '0.0.0.0',
        active,
        close: () =>
          new Promise<void>((r) => {
            for (const a of active) a.abort();
            for (const s of sockets) s.destroy();
            server.close(() => r());
          }),
      });
    });
  });
}
