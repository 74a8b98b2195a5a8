/**
 * Peer failures of the network layer as typed values. Each says what happened and, where one
 * exists, the DICOM code it maps to; none is thrown. Messages name AE titles, hosts and UIDs only.
 */
export type NetFailure =
  | { kind: 'connect-failed'; code: string; message: string }
  | { kind: 'tls'; code: string; message: string }
  | { kind: 'timeout'; phase: 'connect' | 'association' | 'artim' | 'dimse' | 'release'; message: string }
  | { kind: 'rejected'; result: number; source: number; reason: number; message: string }
  | { kind: 'aborted'; source: number; reason: number; message: string }
  /** We aborted because the peer broke the protocol (garbage PDU, unexpected PDU, bad lengths). */
  | { kind: 'protocol-error'; message: string }
  /** The transport closed without a release or abort. */
  | { kind: 'closed'; message: string }
  | { kind: 'no-presentation-context'; message: string }
  /** A request ended without a response (association gone before it answered). */
  | { kind: 'no-response'; message: string; cause?: NetFailure }
  | { kind: 'local'; message: string }
  /** We did not send it: the instance cannot reach this peer unchanged (src/net/services/odd-length.ts). */
  | { kind: 'unsendable'; message: string };

export type NetFailureKind = NetFailure['kind'];

export const describeFailure = (f: NetFailure): string => `${f.kind}: ${f.message}`;
