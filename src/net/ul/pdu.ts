/**
 * Encoding and decoding of the association PDUs (PS3.8 9.3). P-DATA-TF is framed by
 * `pdu-reader.ts` / `pdata.ts` so that data never needs to be copied into a PDU object.
 */
import { DICOM_APPLICATION_CONTEXT, ItemType, PROTOCOL_VERSION, PduType } from './constants.js';

export interface RoleSelection {
  sopClassUid: string;
  scuRole: boolean;
  scpRole: boolean;
}

export interface ExtendedNegotiation {
  sopClassUid: string;
  info: Buffer;
}

export interface UserInformation {
  maxPduLength: number;
  implementationClassUid: string;
  implementationVersionName?: string;
  /** Asynchronous operations window: pacshift declines it (answers 1/1 when it is proposed). */
  asyncOps?: { invoked: number; performed: number };
  roleSelections: RoleSelection[];
  extendedNegotiations: ExtendedNegotiation[];
  /** Unknown or unhandled sub-items are kept and passed through, raw. */
  otherItems: { type: number; data: Buffer }[];
}

export interface PresentationContextRq {
  id: number;
  abstractSyntax: string;
  transferSyntaxes: string[];
}

export interface PresentationContextAc {
  id: number;
  result: number;
  transferSyntax: string;
}

export interface AssociateRq {
  type: 'associate-rq';
  protocolVersion: number;
  calledAeTitle: string;
  callingAeTitle: string;
  applicationContext: string;
  presentationContexts: PresentationContextRq[];
  userInformation: UserInformation;
}

export interface AssociateAc {
  type: 'associate-ac';
  protocolVersion: number;
  calledAeTitle: string;
  callingAeTitle: string;
  applicationContext: string;
  presentationContexts: PresentationContextAc[];
  userInformation: UserInformation;
}

export interface AssociateRj {
  type: 'associate-rj';
  result: number;
  source: number;
  reason: number;
}

export interface ReleaseRq {
  type: 'release-rq';
}
export interface ReleaseRp {
  type: 'release-rp';
}
export interface Abort {
  type: 'abort';
  source: number;
  reason: number;
}

export type ControlPdu = AssociateRq | AssociateAc | AssociateRj | ReleaseRq | ReleaseRp | Abort;

export class PduDecodeError extends Error {}

// ---------- encoding ----------

const ascii = (s: string): Buffer => Buffer.from(s, 'latin1');

/** AE titles are 16 bytes, space padded (PS3.8 9.3.2). */
function aeField(ae: string): Buffer {
  const b = Buffer.alloc(16, 0x20);
  b.write(ae.slice(0, 16), 'latin1');
  return b;
}

function item(type: number, body: Buffer): Buffer {
  const h = Buffer.alloc(4);
  h[0] = type;
  h.writeUInt16BE(body.length, 2);
  return Buffer.concat([h, body]);
}

function pdu(type: number, body: Buffer): Buffer {
  const h = Buffer.alloc(6);
  h[0] = type;
  h.writeUInt32BE(body.length, 2);
  return Buffer.concat([h, body]);
}

function encodeUserInformation(ui: UserInformation): Buffer {
  const parts: Buffer[] = [];
  const max = Buffer.alloc(4);
  max.writeUInt32BE(ui.maxPduLength >>> 0);
  parts.push(item(ItemType.MaxLength, max));
  parts.push(item(ItemType.ImplementationClassUid, ascii(ui.implementationClassUid)));
  if (ui.asyncOps) {
    const b = Buffer.alloc(4);
    b.writeUInt16BE(ui.asyncOps.invoked, 0);
    b.writeUInt16BE(ui.asyncOps.performed, 2);
    parts.push(item(ItemType.AsyncOperationsWindow, b));
  }
  for (const r of ui.roleSelections) {
    const uid = ascii(r.sopClassUid);
    const b = Buffer.alloc(2 + uid.length + 2);
    b.writeUInt16BE(uid.length, 0);
    uid.copy(b, 2);
    b[2 + uid.length] = r.scuRole ? 1 : 0;
    b[3 + uid.length] = r.scpRole ? 1 : 0;
    parts.push(item(ItemType.RoleSelection, b));
  }
  if (ui.implementationVersionName) {
    parts.push(item(ItemType.ImplementationVersionName, ascii(ui.implementationVersionName.slice(0, 16))));
  }
  for (const e of ui.extendedNegotiations) {
    const uid = ascii(e.sopClassUid);
    const h = Buffer.alloc(2);
    h.writeUInt16BE(uid.length);
    parts.push(item(ItemType.SopClassExtendedNegotiation, Buffer.concat([h, uid, e.info])));
  }
  for (const o of ui.otherItems) parts.push(item(o.type, o.data));
  return item(ItemType.UserInformation, Buffer.concat(parts));
}

function associateHeader(pv: number, called: string, calling: string): Buffer {
  const b = Buffer.alloc(68);
  b.writeUInt16BE(pv, 0);
  aeField(called).copy(b, 4);
  aeField(calling).copy(b, 20);
  return b;
}

export function encodeAssociateRq(
  rq: Omit<AssociateRq, 'type' | 'protocolVersion' | 'applicationContext'> & {
    applicationContext?: string;
  },
): Buffer {
  const parts = [
    associateHeader(PROTOCOL_VERSION, rq.calledAeTitle, rq.callingAeTitle),
    item(ItemType.ApplicationContext, ascii(rq.applicationContext ?? DICOM_APPLICATION_CONTEXT)),
  ];
  for (const pc of rq.presentationContexts) {
    const sub = [item(ItemType.AbstractSyntax, ascii(pc.abstractSyntax))];
    for (const ts of pc.transferSyntaxes) sub.push(item(ItemType.TransferSyntax, ascii(ts)));
    parts.push(item(ItemType.PresentationContextRq, Buffer.concat([Buffer.from([pc.id, 0, 0, 0]), ...sub])));
  }
  parts.push(encodeUserInformation(rq.userInformation));
  return pdu(PduType.AssociateRq, Buffer.concat(parts));
}

export function encodeAssociateAc(
  ac: Omit<AssociateAc, 'type' | 'protocolVersion' | 'applicationContext'> & {
    applicationContext?: string;
  },
): Buffer {
  const parts = [
    associateHeader(PROTOCOL_VERSION, ac.calledAeTitle, ac.callingAeTitle),
    item(ItemType.ApplicationContext, ascii(ac.applicationContext ?? DICOM_APPLICATION_CONTEXT)),
  ];
  for (const pc of ac.presentationContexts) {
    // PS3.8 9.3.3.2: the transfer syntax sub-item is present but not significant when not accepted.
    const ts = item(ItemType.TransferSyntax, ascii(pc.result === 0 ? pc.transferSyntax : ''));
    parts.push(
      item(ItemType.PresentationContextAc, Buffer.concat([Buffer.from([pc.id, 0, pc.result, 0]), ts])),
    );
  }
  parts.push(encodeUserInformation(ac.userInformation));
  return pdu(PduType.AssociateAc, Buffer.concat(parts));
}

export function encodeAssociateRj(result: number, source: number, reason: number): Buffer {
  return pdu(PduType.AssociateRj, Buffer.from([0, result, source, reason]));
}

export const encodeReleaseRq = (): Buffer => pdu(PduType.ReleaseRq, Buffer.alloc(4));
export const encodeReleaseRp = (): Buffer => pdu(PduType.ReleaseRp, Buffer.alloc(4));
export const encodeAbort = (source: number, reason: number): Buffer =>
  pdu(PduType.Abort, Buffer.from([0, 0, source, reason]));

// ---------- decoding ----------

/** UIDs in PDUs may be padded with a NUL (some implementations) or spaces: strip both. */
const uidString = (b: Buffer): string => b.toString('latin1').replace(/[\0 ]+$/, '');
const aeString = (b: Buffer): string => b.toString('latin1').trim();

interface RawItem {
  type: number;
  data: Buffer;
}

function* items(buf: Buffer, start: number, end: number): Generator<RawItem> {
  let p = start;
  while (p < end) {
    if (p + 4 > end) throw new PduDecodeError(`truncated item header at offset ${p}`);
    const type = buf[p]!;
    const len = buf.readUInt16BE(p + 2);
    if (p + 4 + len > end)
      throw new PduDecodeError(`item 0x${type.toString(16)} length ${len} overruns its PDU`);
    yield { type, data: buf.subarray(p + 4, p + 4 + len) };
    p += 4 + len;
  }
}

/** The 2-byte SOP class UID length that starts a role selection or extended negotiation sub-item, checked against the sub-item. */
function uidLength(data: Buffer, what: string): number {
  if (data.length < 2) throw new PduDecodeError(`${what} sub-item of ${data.length} bytes has no UID length`);
  const n = data.readUInt16BE(0);
  if (2 + n > data.length) throw new PduDecodeError(`${what} UID length ${n} overruns its sub-item`);
  return n;
}

function decodeUserInformation(data: Buffer): UserInformation {
  const ui: UserInformation = {
    maxPduLength: 0,
    implementationClassUid: '',
    roleSelections: [],
    extendedNegotiations: [],
    otherItems: [],
  };
  for (const it of items(data, 0, data.length)) {
    switch (it.type) {
      case ItemType.MaxLength:
        if (it.data.length !== 4) throw new PduDecodeError('maximum length sub-item must be 4 bytes');
        ui.maxPduLength = it.data.readUInt32BE(0);
        break;
      case ItemType.ImplementationClassUid:
        ui.implementationClassUid = uidString(it.data);
        break;
      case ItemType.ImplementationVersionName:
        ui.implementationVersionName = aeString(it.data);
        break;
      case ItemType.AsyncOperationsWindow:
        if (it.data.length !== 4) throw new PduDecodeError('asynchronous operations window must be 4 bytes');
        ui.asyncOps = { invoked: it.data.readUInt16BE(0), performed: it.data.readUInt16BE(2) };
        break;
      case ItemType.RoleSelection: {
        const n = uidLength(it.data, 'role selection');
        if (2 + n + 2 > it.data.length) throw new PduDecodeError('role selection sub-item truncated');
        ui.roleSelections.push({
          sopClassUid: uidString(it.data.subarray(2, 2 + n)),
          scuRole: it.data[2 + n] === 1,
          scpRole: it.data[3 + n] === 1,
        });
        break;
      }
      case ItemType.SopClassExtendedNegotiation: {
        const n = uidLength(it.data, 'SOP class extended negotiation');
        ui.extendedNegotiations.push({
          sopClassUid: uidString(it.data.subarray(2, 2 + n)),
          info: Buffer.from(it.data.subarray(2 + n)),
        });
        break;
      }
      default:
        ui.otherItems.push({ type: it.type, data: Buffer.from(it.data) });
    }
  }
  return ui;
}

function decodeAssociate(type: 'rq' | 'ac', body: Buffer): AssociateRq | AssociateAc {
  if (body.length < 68)
    throw new PduDecodeError(`A-ASSOCIATE-${type.toUpperCase()} shorter than its fixed fields`);
  const protocolVersion = body.readUInt16BE(0);
  const calledAeTitle = aeString(body.subarray(4, 20));
  const callingAeTitle = aeString(body.subarray(20, 36));
  let applicationContext = '';
  let userInformation: UserInformation | undefined;
  const rqContexts: PresentationContextRq[] = [];
  const acContexts: PresentationContextAc[] = [];
  for (const it of items(body, 68, body.length)) {
    if (it.type === ItemType.ApplicationContext) applicationContext = uidString(it.data);
    else if (it.type === ItemType.PresentationContextRq && type === 'rq') {
      if (it.data.length < 4) throw new PduDecodeError('presentation context item too short');
      const pc: PresentationContextRq = { id: it.data[0]!, abstractSyntax: '', transferSyntaxes: [] };
      for (const sub of items(it.data, 4, it.data.length)) {
        if (sub.type === ItemType.AbstractSyntax) pc.abstractSyntax = uidString(sub.data);
        else if (sub.type === ItemType.TransferSyntax) pc.transferSyntaxes.push(uidString(sub.data));
        else
          throw new PduDecodeError(`unexpected sub-item 0x${sub.type.toString(16)} in presentation context`);
      }
      rqContexts.push(pc);
    } else if (it.type === ItemType.PresentationContextAc && type === 'ac') {
      if (it.data.length < 4) throw new PduDecodeError('presentation context item too short');
      const pc: PresentationContextAc = { id: it.data[0]!, result: it.data[2]!, transferSyntax: '' };
      for (const sub of items(it.data, 4, it.data.length)) {
        if (sub.type === ItemType.TransferSyntax) pc.transferSyntax = uidString(sub.data);
      }
      acContexts.push(pc);
    } else if (it.type === ItemType.UserInformation) userInformation = decodeUserInformation(it.data);
    else
      throw new PduDecodeError(
        `unexpected item 0x${it.type.toString(16)} in A-ASSOCIATE-${type.toUpperCase()}`,
      );
  }
  if (!userInformation) throw new PduDecodeError('user information item missing');
  if (type === 'rq') {
    return {
      type: 'associate-rq',
      protocolVersion,
      calledAeTitle,
      callingAeTitle,
      applicationContext,
      presentationContexts: rqContexts,
      userInformation,
    };
  }
  return {
    type: 'associate-ac',
    protocolVersion,
    calledAeTitle,
    callingAeTitle,
    applicationContext,
    presentationContexts: acContexts,
    userInformation,
  };
}

/** Decode a complete non-P-DATA PDU (type byte and the body after the 6-byte header). */
export function decodeControlPdu(type: number, body: Buffer): ControlPdu {
  switch (type) {
    case PduType.AssociateRq:
      return decodeAssociate('rq', body);
    case PduType.AssociateAc:
      return decodeAssociate('ac', body);
    case PduType.AssociateRj:
      if (body.length !== 4) throw new PduDecodeError('A-ASSOCIATE-RJ must have a length of 4');
      return { type: 'associate-rj', result: body[1]!, source: body[2]!, reason: body[3]! };
    case PduType.ReleaseRq:
      return { type: 'release-rq' };
    case PduType.ReleaseRp:
      return { type: 'release-rp' };
    case PduType.Abort:
      if (body.length !== 4) throw new PduDecodeError('A-ABORT must have a length of 4');
      return { type: 'abort', source: body[2]!, reason: body[3]! };
    default:
      throw new PduDecodeError(`unknown PDU type 0x${type.toString(16)}`);
  }
}
