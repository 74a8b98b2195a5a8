/**
 * The File Meta Information (PS3.10 7.1): group 0002, always explicit VR little endian, after a
 * 128-byte preamble and 'DICM'. Building ours, and reading a file's.
 */
import { dicomError, type DicomFileError, type DicomIssue } from './errors.js';
import type { ByteSource } from './source.js';
import { formatTag, groupOf, Tags, type Tag } from './tag.js';
import { decodeAscii, decodeUid } from './value.js';
import { vrFromBytes, VR_TABLE } from './vr.js';
import { err, ok, type Result } from '../util/result.js';

/** pacshift's implementation identity (PS3.7 D.3.3.2-3), under root 1.2.826.0.1.3680043.10.1444. */
export const IMPLEMENTATION_CLASS_UID = '1.2.826.0.1.3680043.10.1444.1.1';
export const IMPLEMENTATION_VERSION_NAME = 'PACSHIFT_010';

export const PREAMBLE_LENGTH = 128;
const MAGIC = Buffer.from('DICM', 'latin1');

export interface BuildMetaOptions {
  readonly sopClassUid: string;
  readonly sopInstanceUid: string;
  readonly transferSyntaxUid: string;
  readonly sourceAeTitle?: string;
  readonly implementationClassUid: string;
  readonly implementationVersionName: string;
}

/** Element in explicit VR little endian. */
function element(t: Tag, vr: keyof typeof VR_TABLE, value: Buffer): Buffer {
  const long = VR_TABLE[vr].longLength;
  const h = Buffer.alloc(long ? 12 : 8);
  h.writeUInt16LE(groupOf(t), 0);
  h.writeUInt16LE(t & 0xffff, 2);
  h.write(vr, 4, 'latin1');
  if (long) h.writeUInt32LE(value.length, 8);
  else h.writeUInt16LE(value.length, 6);
  return Buffer.concat([h, value]);
}

const padded = (s: string, pad: 0x00 | 0x20): Buffer => {
  const b = Buffer.from(s, 'latin1');
  return b.length % 2 === 0 ? b : Buffer.concat([b, Buffer.from([pad])]);
};

const checkUid = (name: string, uid: string): void => {
  if (!/^[0-9.]{1,64}$/.test(uid))
    throw new Error(`buildPart10Meta: ${name} is not a UID: ${JSON.stringify(uid)}`);
};

/**
 * 128 zero bytes + 'DICM' + group 0002 with a correct (0002,0000) group length; UIDs padded with NUL,
 * AE and SH with space, to even length. The data set bytes follow unchanged.
 */
export function buildPart10Meta(o: BuildMetaOptions): Buffer {
  checkUid('sopClassUid', o.sopClassUid);
  checkUid('sopInstanceUid', o.sopInstanceUid);
  checkUid('transferSyntaxUid', o.transferSyntaxUid);
  checkUid('implementationClassUid', o.implementationClassUid);
  if (o.implementationVersionName.length > 16)
    throw new Error('buildPart10Meta: implementation version name > 16');
  const body: Buffer[] = [
    element(Tags.FileMetaInformationVersion.tag, 'OB', Buffer.from([0x00, 0x01])),
    element(Tags.MediaStorageSOPClassUID.tag, 'UI', padded(o.sopClassUid, 0x00)),
    element(Tags.MediaStorageSOPInstanceUID.tag, 'UI', padded(o.sopInstanceUid, 0x00)),
    element(Tags.TransferSyntaxUID.tag, 'UI', padded(o.transferSyntaxUid, 0x00)),
    element(Tags.ImplementationClassUID.tag, 'UI', padded(o.implementationClassUid, 0x00)),
    element(Tags.ImplementationVersionName.tag, 'SH', padded(o.implementationVersionName, 0x20)),
  ];
  const ae = o.sourceAeTitle?.trim();
  if (ae) {
    // eslint-disable-next-line no-control-regex
    if (ae.length > 16 || /[\\\x00-\x1f]/.test(ae))
      throw new Error(`buildPart10Meta: bad AE title ${JSON.stringify(ae)}`);
    body.push(element(Tags.SourceApplicationEntityTitle.tag, 'AE', padded(ae, 0x20)));
  }
  const groupLength = body.reduce((n, b) => n + b.length, 0);
  const gl = Buffer.alloc(4);
  gl.writeUInt32LE(groupLength, 0);
  return Buffer.concat([
    Buffer.alloc(PREAMBLE_LENGTH),
    MAGIC,
    element(Tags.FileMetaInformationGroupLength.tag, 'UL', gl),
    ...body,
  ]);
}

export interface FileMeta {
  /** 128-byte preamble followed by 'DICM'. */
  readonly hasPreamble: boolean;
  /** Offset of the first group 0002 element. */
  readonly metaOffset: number;
  /** Offset of the first data set byte. */
  readonly metaEnd: number;
  readonly groupLength?: number;
  /** (0002,0001) as hex, normally "0001". */
  readonly version?: string;
  readonly mediaStorageSopClassUid?: string;
  readonly mediaStorageSopInstanceUid?: string;
  readonly transferSyntaxUid?: string;
  readonly implementationClassUid?: string;
  readonly implementationVersionName?: string;
  readonly sourceAeTitle?: string;
  readonly sendingAeTitle?: string;
  readonly receivingAeTitle?: string;
  readonly privateInformationCreatorUid?: string;
  readonly issues: readonly DicomIssue[];
}

/** Where the meta starts, or undefined when the file has none. */
function locateMeta(head: Buffer): { hasPreamble: boolean; metaOffset: number } | undefined {
  // 'DICM' counts only when group 0002 follows: the bytes can occur inside a data set by chance.
  const group2At = (o: number): boolean => head.length >= o + 8 && head.readUInt16LE(o) === 0x0002;
  if (head.length >= 132 && head.subarray(128, 132).equals(MAGIC) && group2At(132)) {
    return { hasPreamble: true, metaOffset: 132 };
  }
  if (head.length >= 4 && head.subarray(0, 4).equals(MAGIC) && group2At(4))
    return { hasPreamble: false, metaOffset: 4 };
  // No preamble and no magic, but the file starts with group 0002 in explicit VR LE.
  if (head.length >= 8 && head.readUInt16LE(0) === 0x0002 && vrFromBytes(head[4]!, head[5]!)) {
    return { hasPreamble: false, metaOffset: 0 };
  }
  return undefined;
}

const META_MAX = 1 << 20;

/**
 * Reads the File Meta. `ok(undefined)` when the file has none (no 'DICM', no group 0002 at offset 0).
 * The meta ends at the group length when it lands on an element boundary (a second group 0002 after
 * it belongs to the data set), else where group 0002 ends.
 */
export async function readFileMeta(
  src: ByteSource,
  path: string,
): Promise<Result<FileMeta | undefined, DicomFileError>> {
  const head = await src.read(0, 64 * 1024);
  const loc = locateMeta(head);
  if (!loc) return ok(undefined);
  const issues: DicomIssue[] = [];
  const fileLength = src.length ?? Infinity;
  const values = new Map<Tag, Buffer>();
  let pos = loc.metaOffset;
  let prev = -1;
  let groupLength: number | undefined;
  let groupEnd: number | undefined;
  // Group 0002 ends where the group changes, or where a second group 0002 starts (tags not ascending).
  // A wrong (0002,0000) is common; it is reported, not trusted.
  for (;;) {
    if (pos - loc.metaOffset > META_MAX)
      return err(dicomError('no-meta', `${path}: File Meta longer than ${META_MAX} bytes`, { path }));
    const h = await src.read(pos, 12);
    if (h.length < 8) break;
    const g = h.readUInt16LE(0);
    const t = g * 0x10000 + h.readUInt16LE(2);
    if (g !== 0x0002) break;
    if (t <= prev) {
      issues.push({
        code: 'meta-in-data-set',
        message: `a second group 0002 starts at ${pos}: left in the data set`,
        offset: pos,
      });
      break;
    }
    const vr = vrFromBytes(h[4]!, h[5]!);
    let len: number;
    let hl: number;
    if (vr) {
      if (VR_TABLE[vr].longLength) {
        if (h.length < 12)
          return err(dicomError('truncated', `${path}: File Meta cut at ${pos}`, { path, offset: pos }));
        len = h.readUInt32LE(8);
        hl = 12;
      } else {
        len = h.readUInt16LE(6);
        hl = 8;
      }
    } else {
      if (!issues.some((i) => i.code === 'meta-implicit-vr')) {
        issues.push({
          code: 'meta-implicit-vr',
          message: `File Meta element ${formatTag(t)} at ${pos} has no explicit VR`,
          offset: pos,
        });
      }
      len = h.readUInt32LE(4);
      hl = 8;
    }
    if (len === 0xffffffff || pos + hl + len > fileLength) {
      return err(
        dicomError(
          'truncated',
          `${path}: File Meta element ${formatTag(t)} at ${pos} runs beyond the end of the file`,
          { path, offset: pos },
        ),
      );
    }
    if (len <= 1024) values.set(t, Buffer.from(await src.read(pos + hl, len)));
    if (t === Tags.FileMetaInformationGroupLength.tag && len === 4) {
      groupLength = values.get(t)!.readUInt32LE(0);
      groupEnd = pos + hl + len + groupLength;
    }
    prev = t;
    pos += hl + len;
  }
  if (groupEnd !== undefined && pos !== groupEnd) {
    issues.push({
      code: 'meta-group-length-mismatch',
      message: `(0002,0000) says the meta ends at ${groupEnd}, its elements end at ${pos}`,
      offset: loc.metaOffset,
    });
  }
  const uid = (t: Tag): string | undefined => {
    const b = values.get(t);
    return b === undefined ? undefined : decodeUid(b) || undefined;
  };
  const text = (t: Tag): string | undefined => {
    const b = values.get(t);
    return b === undefined ? undefined : decodeAscii(b) || undefined;
  };
  const meta: FileMeta = {
    hasPreamble: loc.hasPreamble,
    metaOffset: loc.metaOffset,
    metaEnd: pos,
    ...(groupLength !== undefined ? { groupLength } : {}),
    ...opt('version', values.get(Tags.FileMetaInformationVersion.tag)?.toString('hex')),
    ...opt('mediaStorageSopClassUid', uid(Tags.MediaStorageSOPClassUID.tag)),
    ...opt('mediaStorageSopInstanceUid', uid(Tags.MediaStorageSOPInstanceUID.tag)),
    ...opt('transferSyntaxUid', uid(Tags.TransferSyntaxUID.tag)),
    ...opt('implementationClassUid', uid(Tags.ImplementationClassUID.tag)),
    ...opt('implementationVersionName', text(Tags.ImplementationVersionName.tag)),
    ...opt('sourceAeTitle', text(Tags.SourceApplicationEntityTitle.tag)),
    ...opt('sendingAeTitle', text(Tags.SendingApplicationEntityTitle.tag)),
    ...opt('receivingAeTitle', text(Tags.ReceivingApplicationEntityTitle.tag)),
    ...opt('privateInformationCreatorUid', uid(Tags.PrivateInformationCreatorUID.tag)),
    issues,
  };
  for (const [name, t] of [
    ['MediaStorageSOPClassUID', Tags.MediaStorageSOPClassUID.tag],
    ['MediaStorageSOPInstanceUID', Tags.MediaStorageSOPInstanceUID.tag],
    ['TransferSyntaxUID', Tags.TransferSyntaxUID.tag],
  ] as const) {
    if (!values.has(t))
      issues.push({ code: 'meta-missing-element', message: `File Meta lacks ${name} ${formatTag(t)}` });
  }
  return ok(meta);
}

function opt<K extends string, V>(k: K, v: V | undefined): { [P in K]?: V } {
  return (v === undefined ? {} : { [k]: v }) as { [P in K]?: V };
}
