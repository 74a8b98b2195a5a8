import type { ExtendedNegotiation, RoleSelection } from '../ul/pdu.js';

/** What a requestor proposes for one abstract syntax. */
export interface ContextProposal {
  abstractSyntax: string;
  transferSyntaxes: string[];
  /** Role selection (PS3.7 D.3.3.4): for C-GET storage sub-operations the requestor proposes the SCP role. */
  role?: { scu: boolean; scp: boolean };
}

/** A negotiated presentation context. */
export interface PresentationContext {
  id: number;
  abstractSyntax: string;
  /** Empty when not accepted. */
  transferSyntax: string;
  result: number;
  accepted: boolean;
  /** Whether the requestor may act as SCU / SCP on this context (after role negotiation). */
  requestorIsScu: boolean;
  requestorIsScp: boolean;
}

export interface AssociationTimeouts {
  /** Transport connect. */
  connectMs: number;
  /** ARTIM: waiting for A-ASSOCIATE-RQ after accept, and for the transport to close after release/abort. */
  artimMs: number;
  /** Waiting for A-ASSOCIATE-AC/RJ. */
  associationMs: number;
  /** Waiting for A-RELEASE-RP. */
  releaseMs: number;
}

export const DEFAULT_TIMEOUTS: AssociationTimeouts = {
  connectMs: 10_000,
  artimMs: 30_000,
  associationMs: 30_000,
  releaseMs: 30_000,
};

/** Our maximum receive PDU length: larger PDUs mean fewer headers and fewer syscalls. */
export const DEFAULT_MAX_PDU = 256 * 1024;

export interface AssociationInfo {
  callingAeTitle: string;
  calledAeTitle: string;
  peerImplementationClassUid: string;
  peerImplementationVersionName?: string;
  /** The peer's maximum receive PDU length (0 = unlimited). */
  peerMaxPduLength: number;
  contexts: PresentationContext[];
  roleSelections: RoleSelection[];
  extendedNegotiations: ExtendedNegotiation[];
  remoteAddress: string;
  tls: boolean;
}
