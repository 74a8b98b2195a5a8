/**
 * Transfer syntaxes (PS3.5 Section 10, PS3.6 Table A-1) as a table: how the data set is encoded
 * (explicit VR, byte order, deflate) and how the pixel data is (native or encapsulated, lossy?).
 */

export type PixelCodec =
  | 'native'
  | 'jpeg'
  | 'jpeg-ls'
  | 'jpeg2000'
  | 'htj2k'
  | 'jpip'
  | 'mpeg2'
  | 'mpeg4'
  | 'hevc'
  | 'rle'
  | 'jpeg-xl'
  | 'deflate'
  | 'smpte2110'
  | 'other';

export interface TransferSyntax {
  readonly uid: string;
  readonly name: string;
  /** Data set uses explicit VR. */
  readonly explicitVr: boolean;
  readonly littleEndian: boolean;
  /** The whole data set after the File Meta is a raw deflate stream (RFC 1951). */
  readonly deflated: boolean;
  /** Pixel Data is encapsulated (undefined length, items holding fragments). */
  readonly encapsulated: boolean;
  /** Pixel data may have been lossy compressed by this syntax. */
  readonly lossy: boolean;
  readonly retired: boolean;
  readonly codec: PixelCodec;
  /** Pixel data is referenced, not present (JPIP). */
  readonly referencedPixels?: boolean;
}

type Flags = Partial<Omit<TransferSyntax, 'uid' | 'name' | 'codec'>>;

const ts = (uid: string, name: string, codec: PixelCodec, f: Flags = {}): TransferSyntax => ({
  uid,
  name,
  codec,
  explicitVr: true,
  littleEndian: true,
  deflated: false,
  encapsulated: codec !== 'native',
  lossy: false,
  retired: false,
  ...f,
});

const lossy = { lossy: true } as const;
const retired = { retired: true } as const;

export const IMPLICIT_VR_LITTLE_ENDIAN = '1.2.840.10008.1.2';
export const EXPLICIT_VR_LITTLE_ENDIAN = '1.2.840.10008.1.2.1';
export const DEFLATED_EXPLICIT_VR_LITTLE_ENDIAN = '1.2.840.10008.1.2.1.99';
export const EXPLICIT_VR_BIG_ENDIAN = '1.2.840.10008.1.2.2';

export const TRANSFER_SYNTAXES: readonly TransferSyntax[] = [
  ts(IMPLICIT_VR_LITTLE_ENDIAN, 'Implicit VR Little Endian', 'native', { explicitVr: false }),
  ts(EXPLICIT_VR_LITTLE_ENDIAN, 'Explicit VR Little Endian', 'native'),
  ts('1.2.840.10008.1.2.1.98', 'Encapsulated Uncompressed Explicit VR Little Endian', 'other'),
  ts(DEFLATED_EXPLICIT_VR_LITTLE_ENDIAN, 'Deflated Explicit VR Little Endian', 'native', { deflated: true }),
  ts(EXPLICIT_VR_BIG_ENDIAN, 'Explicit VR Big Endian', 'native', { littleEndian: false, ...retired }),
  ts('1.2.840.10008.1.2.4.50', 'JPEG Baseline (Process 1)', 'jpeg', lossy),
  ts('1.2.840.10008.1.2.4.51', 'JPEG Extended (Process 2 and 4)', 'jpeg', lossy),
  ts('1.2.840.10008.1.2.4.52', 'JPEG Extended (Process 3 and 5)', 'jpeg', { ...lossy, ...retired }),
  ts('1.2.840.10008.1.2.4.53', 'JPEG Spectral Selection, Non-Hierarchical (Process 6 and 8)', 'jpeg', {
    ...lossy,
    ...retired,
  }),
  ts('1.2.840.10008.1.2.4.54', 'JPEG Spectral Selection, Non-Hierarchical (Process 7 and 9)', 'jpeg', {
    ...lossy,
    ...retired,
  }),
  ts('1.2.840.10008.1.2.4.55', 'JPEG Full Progression, Non-Hierarchical (Process 10 and 12)', 'jpeg', {
    ...lossy,
    ...retired,
  }),
  ts('1.2.840.10008.1.2.4.56', 'JPEG Full Progression, Non-Hierarchical (Process 11 and 13)', 'jpeg', {
    ...lossy,
    ...retired,
  }),
  ts('1.2.840.10008.1.2.4.57', 'JPEG Lossless, Non-Hierarchical (Process 14)', 'jpeg'),
  ts('1.2.840.10008.1.2.4.58', 'JPEG Lossless, Non-Hierarchical (Process 15)', 'jpeg', retired),
  ts('1.2.840.10008.1.2.4.59', 'JPEG Extended, Hierarchical (Process 16 and 18)', 'jpeg', {
    ...lossy,
    ...retired,
  }),
  ts('1.2.840.10008.1.2.4.60', 'JPEG Extended, Hierarchical (Process 17 and 19)', 'jpeg', {
    ...lossy,
    ...retired,
  }),
  ts('1.2.840.10008.1.2.4.61', 'JPEG Spectral Selection, Hierarchical (Process 20 and 22)', 'jpeg', {
    ...lossy,
    ...retired,
  }),
  ts('1.2.840.10008.1.2.4.62', 'JPEG Spectral Selection, Hierarchical (Process 21 and 23)', 'jpeg', {
    ...lossy,
    ...retired,
  }),
  ts('1.2.840.10008.1.2.4.63', 'JPEG Full Progression, Hierarchical (Process 24 and 26)', 'jpeg', {
    ...lossy,
    ...retired,
  }),
  ts('1.2.840.10008.1.2.4.64', 'JPEG Full Progression, Hierarchical (Process 25 and 27)', 'jpeg', {
    ...lossy,
    ...retired,
  }),
  ts('1.2.840.10008.1.2.4.65', 'JPEG Lossless, Hierarchical (Process 28)', 'jpeg', retired),
  ts('1.2.840.10008.1.2.4.66', 'JPEG Lossless, Hierarchical (Process 29)', 'jpeg', retired),
  ts(
    '1.2.840.10008.1.2.4.70',
    'JPEG Lossless, Non-Hierarchical, First-Order Prediction (Process 14 [Selection Value 1])',
    'jpeg',
  ),
  ts('1.2.840.10008.1.2.4.80', 'JPEG-LS Lossless Image Compression', 'jpeg-ls'),
  ts('1.2.840.10008.1.2.4.81', 'JPEG-LS Lossy (Near-Lossless) Image Compression', 'jpeg-ls', lossy),
  ts('1.2.840.10008.1.2.4.90', 'JPEG 2000 Image Compression (Lossless Only)', 'jpeg2000'),
  ts('1.2.840.10008.1.2.4.91', 'JPEG 2000 Image Compression', 'jpeg2000', lossy),
  ts(
    '1.2.840.10008.1.2.4.92',
    'JPEG 2000 Part 2 Multi-component Image Compression (Lossless Only)',
    'jpeg2000',
  ),
  ts('1.2.840.10008.1.2.4.93', 'JPEG 2000 Part 2 Multi-component Image Compression', 'jpeg2000', lossy),
  ts('1.2.840.10008.1.2.4.94', 'JPIP Referenced', 'jpip', {
    encapsulated: false,
    referencedPixels: true,
    ...lossy,
  }),
  ts('1.2.840.10008.1.2.4.95', 'JPIP Referenced Deflate', 'jpip', {
    encapsulated: false,
    referencedPixels: true,
    deflated: true,
    ...lossy,
  }),
  ts('1.2.840.10008.1.2.4.100', 'MPEG2 Main Profile / Main Level', 'mpeg2', lossy),
  ts('1.2.840.10008.1.2.4.100.1', 'Fragmentable MPEG2 Main Profile / Main Level', 'mpeg2', lossy),
  ts('1.2.840.10008.1.2.4.101', 'MPEG2 Main Profile / High Level', 'mpeg2', lossy),
  ts('1.2.840.10008.1.2.4.101.1', 'Fragmentable MPEG2 Main Profile / High Level', 'mpeg2', lossy),
  ts('1.2.840.10008.1.2.4.102', 'MPEG-4 AVC/H.264 High Profile / Level 4.1', 'mpeg4', lossy),
  ts('1.2.840.10008.1.2.4.102.1', 'Fragmentable MPEG-4 AVC/H.264 High Profile / Level 4.1', 'mpeg4', lossy),
  ts('1.2.840.10008.1.2.4.103', 'MPEG-4 AVC/H.264 BD-compatible High Profile / Level 4.1', 'mpeg4', lossy),
  ts(
    '1.2.840.10008.1.2.4.103.1',
    'Fragmentable MPEG-4 AVC/H.264 BD-compatible High Profile / Level 4.1',
    'mpeg4',
    lossy,
  ),
  ts('1.2.840.10008.1.2.4.104', 'MPEG-4 AVC/H.264 High Profile / Level 4.2 For 2D Video', 'mpeg4', lossy),
  ts(
    '1.2.840.10008.1.2.4.104.1',
    'Fragmentable MPEG-4 AVC/H.264 High Profile / Level 4.2 For 2D Video',
    'mpeg4',
    lossy,
  ),
  ts('1.2.840.10008.1.2.4.105', 'MPEG-4 AVC/H.264 High Profile / Level 4.2 For 3D Video', 'mpeg4', lossy),
  ts(
    '1.2.840.10008.1.2.4.105.1',
    'Fragmentable MPEG-4 AVC/H.264 High Profile / Level 4.2 For 3D Video',
    'mpeg4',
    lossy,
  ),
  ts('1.2.840.10008.1.2.4.106', 'MPEG-4 AVC/H.264 Stereo High Profile / Level 4.2', 'mpeg4', lossy),
  ts(
    '1.2.840.10008.1.2.4.106.1',
    'Fragmentable MPEG-4 AVC/H.264 Stereo High Profile / Level 4.2',
    'mpeg4',
    lossy,
  ),
  ts('1.2.840.10008.1.2.4.107', 'HEVC/H.265 Main Profile / Level 5.1', 'hevc', lossy),
  ts('1.2.840.10008.1.2.4.108', 'HEVC/H.265 Main 10 Profile / Level 5.1', 'hevc', lossy),
  ts('1.2.840.10008.1.2.4.110', 'JPEG XL Lossless', 'jpeg-xl'),
  // Recompression is lossless with respect to the JPEG it came from, which was lossy.
  ts('1.2.840.10008.1.2.4.111', 'JPEG XL JPEG Recompression', 'jpeg-xl', lossy),
  ts('1.2.840.10008.1.2.4.112', 'JPEG XL', 'jpeg-xl', lossy),
  ts('1.2.840.10008.1.2.4.201', 'High-Throughput JPEG 2000 Image Compression (Lossless Only)', 'htj2k'),
  ts(
    '1.2.840.10008.1.2.4.202',
    'High-Throughput JPEG 2000 with RPCL Options Image Compression (Lossless Only)',
    'htj2k',
  ),
  ts('1.2.840.10008.1.2.4.203', 'High-Throughput JPEG 2000 Image Compression', 'htj2k', lossy),
  ts('1.2.840.10008.1.2.4.204', 'JPIP HTJ2K Referenced', 'jpip', {
    encapsulated: false,
    referencedPixels: true,
    ...lossy,
  }),
  ts('1.2.840.10008.1.2.4.205', 'JPIP HTJ2K Referenced Deflate', 'jpip', {
    encapsulated: false,
    referencedPixels: true,
    deflated: true,
    ...lossy,
  }),
  ts('1.2.840.10008.1.2.5', 'RLE Lossless', 'rle'),
  ts('1.2.840.10008.1.2.6.1', 'RFC 2557 MIME encapsulation', 'other', { encapsulated: false, ...retired }),
  ts('1.2.840.10008.1.2.6.2', 'XML Encoding', 'other', { encapsulated: false, ...retired }),
  ts('1.2.840.10008.1.2.7.1', 'SMPTE ST 2110-20 Uncompressed Progressive Active Video', 'smpte2110'),
  ts('1.2.840.10008.1.2.7.2', 'SMPTE ST 2110-20 Uncompressed Interlaced Active Video', 'smpte2110'),
  ts('1.2.840.10008.1.2.7.3', 'SMPTE ST 2110-30 PCM Digital Audio', 'smpte2110'),
  // Frames are deflated one by one inside encapsulated Pixel Data; the data set itself is plain.
  ts('1.2.840.10008.1.2.8.1', 'Deflated Image Frame Compression', 'deflate'),
  ts('1.2.840.10008.1.20', 'Papyrus 3 Implicit VR Little Endian', 'native', {
    explicitVr: false,
    ...retired,
  }),
];

const byUid = new Map(TRANSFER_SYNTAXES.map((t) => [t.uid, t]));
const byName = new Map(TRANSFER_SYNTAXES.map((t) => [t.name, t]));

/** Looks a transfer syntax up by UID (trailing NUL/space padding tolerated). */
export const lookupTransferSyntax = (uid: string): TransferSyntax | undefined =>
  byUid.get(uid.replace(/[\0 ]+$/, ''));

export const transferSyntaxByName = (name: string): TransferSyntax | undefined => byName.get(name);

/** The three ways a data set can be laid out, for guessing and walking. */
export interface Encoding {
  readonly explicitVr: boolean;
  readonly littleEndian: boolean;
}
export const IMPLICIT_LE: Encoding = { explicitVr: false, littleEndian: true };
export const EXPLICIT_LE: Encoding = { explicitVr: true, littleEndian: true };
export const EXPLICIT_BE: Encoding = { explicitVr: true, littleEndian: false };

export const describeEncoding = (e: Encoding): string =>
  `${e.explicitVr ? 'explicit' : 'implicit'} VR ${e.littleEndian ? 'little' : 'big'} endian`;
