import { type Result, err, ok } from '../../util/result.js';
import type { NetFailure } from '../errors.js';
import { IMPLEMENTATION_CLASS_UID, IMPLEMENTATION_VERSION_NAME } from '../implementation.js';
import { connectTransport } from '../transport/connect.js';
import type { TlsSettings } from '../transport/tls-options.js';
import type { ExtendedNegotiation, PresentationContextRq, RoleSelection } from '../ul/pdu.js';
import { Association } from './association.js';
import {
  type AssociationTimeouts,
  type ContextProposal,
  DEFAULT_MAX_PDU,
  DEFAULT_TIMEOUTS,
  type PresentationContext,
} from './types.js';

export interface RequestOptions {
  host: string;
  port: number;
  callingAeTitle: string;
  calledAeTitle: string;
  contexts: ContextProposal[];
  extendedNegotiations?: ExtendedNegotiation[];
  maxPduLength?: number;
  tls?: TlsSettings;
  timeouts?: Partial<AssociationTimeouts>;
}

export const MAX_PRESENTATION_CONTEXTS = 128;

/**
 * Open an association as requestor. Each proposal becomes one presentation context (odd ids
 * 1..255); more than 128 is a programmer error: callers split (see services/get.ts).
 */
export async function requestAssociation(opts: RequestOptions): Promise<Result<Association, NetFailure>> {
  if (opts.contexts.length === 0) throw new Error('at least one presentation context is required');
  if (opts.contexts.length > MAX_PRESENTATION_CONTEXTS) {
    throw new Error(
      `${opts.contexts.length} presentation contexts proposed; an association carries at most 128`,
    );
  }
  const timeouts = { ...DEFAULT_TIMEOUTS, ...opts.timeouts };
  const conn = await connectTransport({
    host: opts.host,
    port: opts.port,
    tls: opts.tls,
    timeoutMs: timeouts.connectMs,
  });
  if (!conn.ok) return conn;
  const maxPdu = opts.maxPduLength ?? DEFAULT_MAX_PDU;
  const assoc = new Association(conn.value, 'requestor', maxPdu, timeouts);
  const pcs: PresentationContextRq[] = opts.contexts.map((c, i) => ({
    id: 2 * i + 1,
    abstractSyntax: c.abstractSyntax,
    transferSyntaxes: c.transferSyntaxes,
  }));
  const roles: RoleSelection[] = [];
  const seenRole = new Set<string>();
  for (const c of opts.contexts) {
    if (c.role && !seenRole.has(c.abstractSyntax)) {
      seenRole.add(c.abstractSyntax);
      roles.push({ sopClassUid: c.abstractSyntax, scuRole: c.role.scu, scpRole: c.role.scp });
    }
  }
  const answer = await assoc.requestAssociation({
    calledAeTitle: opts.calledAeTitle,
    callingAeTitle: opts.callingAeTitle,
    presentationContexts: pcs,
    userInformation: {
      maxPduLength: maxPdu,
      implementationClassUid: IMPLEMENTATION_CLASS_UID,
      implementationVersionName: IMPLEMENTATION_VERSION_NAME,
      roleSelections: roles,
      extendedNegotiations: opts.extendedNegotiations ?? [],
      otherItems: [],
    },
  });
  if ('kind' in answer) return err(answer);
  const contexts: PresentationContext[] = pcs.map((pc) => {
    const a = answer.presentationContexts.find((x) => x.id === pc.id);
    const proposedRole = roles.find((r) => r.sopClassUid === pc.abstractSyntax);
    const acceptedRole = answer.userInformation.roleSelections.find(
      (r) => r.sopClassUid === pc.abstractSyntax,
    );
    // PS3.7 D.3.3.4: without role negotiation the requestor is SCU only; with it, what the acceptor granted.
    const requestorIsScu = proposedRole
      ? acceptedRole
        ? acceptedRole.scuRole && proposedRole.scuRole
        : true
      : true;
    const requestorIsScp = proposedRole
      ? !!acceptedRole && acceptedRole.scpRole && proposedRole.scpRole
      : false;
    const accepted = !!a && a.result === 0 && pc.transferSyntaxes.includes(a.transferSyntax);
    return {
      id: pc.id,
      abstractSyntax: pc.abstractSyntax,
      transferSyntax: accepted ? a!.transferSyntax : '',
      result: a ? (a.result === 0 && !accepted ? 4 : a.result) : 2,
      accepted,
      requestorIsScu,
      requestorIsScp,
    };
  });
  assoc.setInfo({
    callingAeTitle: opts.callingAeTitle,
    calledAeTitle: opts.calledAeTitle,
    peerImplementationClassUid: answer.userInformation.implementationClassUid,
    peerImplementationVersionName: answer.userInformation.implementationVersionName,
    peerMaxPduLength: answer.userInformation.maxPduLength,
    contexts,
    roleSelections: answer.userInformation.roleSelections,
    extendedNegotiations: answer.userInformation.extendedNegotiations,
    remoteAddress: `${opts.host}:${opts.port}`,
    tls: !!opts.tls,
  });
  if (!contexts.some((c) => c.accepted)) {
    await assoc.release();
    return err({
      kind: 'no-presentation-context',
      message: `${opts.calledAeTitle} accepted none of the proposed presentation contexts`,
    });
  }
  return ok(assoc);
}
