/**
 * One object read for pre-flight: every element at every depth with its VR as written and as the
 * dictionary knows it, its decoded value (text through the Specific Character Set, numbers in the
 * data set's byte order, a digest for other bytes), and where the walk stopped if it could not go on.
 * Pixel data values are not read (only their length and fragments). The same reading of two copies of
 * an instance is what `diffCopies` compares.
 */
import { createHash } from 'node:crypto';
import { decodeText, type CharsetProblem } from '../../dicom/charset.js';
import { withDataSet } from '../../dicom/dataset.js';
import { dictionaryVr } from '../../dicom/dictionary.js';
import type { DicomFileError, DicomIssue } from '../../dicom/errors.js';
import { formatTag, isPrivateTag, Tags, type Tag } from '../../dicom/tag.js';
import type { TransferSyntax } from '../../dicom/transfer-syntax.js';
import { decodeNumbers } from '../../dicom/value.js';
import type { PathStep, WalkElement } from '../../dicom/walk.js';
import { VR_TABLE, type VR } from '../../dicom/vr.js';
import { ok, type Result } from '../../util/result.js';

/** Values longer than this are digested in chunks, not decoded. */
const MAX_DECODED = 64 * 1024;
const PIXEL_TAGS = new Set<Tag>([Tags.PixelData.tag, Tags.FloatPixelData.tag, Tags.DoubleFloatPixelData.tag]);

export interface ObjectElement {
  readonly tag: Tag;
  /** Enclosing sequences and item indexes, outermost first. */
  readonly path: readonly PathStep[];
  /** Path and tag as text, e.g. `(0040,A730)[0].(0008,0100)`: unique within the object. */
  readonly key: string;
  /** As written (explicit VR), or the dictionary's (implicit VR; UN when unknown). */
  readonly vr: VR;
  /** The standard dictionary's VR; undefined for private and unknown tags. */
  readonly dictionaryVr: VR | undefined;
  /** Undefined for undefined length. */
  readonly length: number | undefined;
  /** value: a value; items: a sequence (SQ, or UN of undefined length); fragments: encapsulated pixel data. */
  readonly content: 'value' | 'items' | 'fragments';
  readonly private: boolean;
  /** Text of string and text VRs (values joined with "\", padding removed); undefined when undecodable. */
  readonly text?: string;
  readonly charsetProblem?: CharsetProblem;
  readonly numbers?: readonly (number | bigint)[];
  /** SHA-256 (hex) of the value bytes of other VRs (and of long values). */
  readonly digest?: string;
  /** SHA-256 (hex) of the value bytes without trailing padding (values up to 64 KiB): compares values across VRs. */
  readonly rawDigest?: string;
}

export interface PixelDataShape {
  readonly tag: Tag;
  readonly vr: VR;
  /** Native pixel data: value length; undefined when encapsulated. */
  readonly length: number | undefined;
  /** Offset of the value in the data set source (in the file, unless the data set is deflated). */
  readonly valueOffset: number;
  readonly encapsulated: boolean;
  /** Encapsulated: items after the Basic Offset Table. */
  readonly fragments: number;
  /** Encapsulated: bytes in those items. */
  readonly fragmentBytes: number;
}

export interface ObjectRead {
  readonly transferSyntax: TransferSyntax;
  readonly explicitVr: boolean;
  /** (0008,0005) as written, undefined when absent. */
  readonly charset: string | undefined;
  readonly elements: readonly ObjectElement[];
  /** Top-level elements by tag. */
  readonly top: ReadonlyMap<Tag, ObjectElement>;
  readonly pixelData: PixelDataShape | undefined;
  readonly issues: readonly DicomIssue[];
  /** Where the walk stopped, when it could not read the whole data set (the elements before it are valid). */
  readonly error: DicomFileError | undefined;
  /** The walk stopped inside these sequences (outermost first): who to blame for a broken structure. */
  readonly errorPath: readonly Tag[];
}

export const pathKey = (path: readonly PathStep[], tag: Tag): string =>
  [...path.map((s) => `${formatTag(s.tag)}[${s.item}]`), formatTag(tag)].join('.');

const TEXT_TRAILING_ONLY = new Set<VR>(['ST', 'LT', 'UT']);

function trimValues(s: string, vr: VR): string {
  if (TEXT_TRAILING_ONLY.has(vr)) return s.replace(/[\0 ]+$/, '');
  const one = (v: string): string => v.replace(/[\0 ]+$/, '').replace(/^ +/, '');
  return VR_TABLE[vr].multiValued ? s.split('\\').map(one).join('\\') : one(s);
}

/** The decoded form of one value, by the VR that governs its meaning. */
export function decodeValue(
  vr: VR,
  bytes: Buffer,
  charset: string | undefined,
  littleEndian: boolean,
): Pick<ObjectElement, 'text' | 'charsetProblem' | 'numbers' | 'digest'> {
  const info = VR_TABLE[vr];
  if (info.kind === 'number' || info.kind === 'tag') {
    const numbers = decodeNumbers(vr, bytes, littleEndian);
    if (numbers) return { numbers };
  }
  if (info.kind === 'text') {
    const d = decodeText(bytes, charset, vr === 'PN');
    return {
      ...(d.text !== undefined ? { text: trimValues(d.text, vr) } : {}),
      ...(d.problem ? { charsetProblem: d.problem } : {}),
    };
  }
  if (info.kind === 'string' || info.kind === 'uri')
    return { text: trimValues(bytes.toString('latin1'), vr) };
  return { digest: createHash('sha256').update(bytes).digest('hex') };
}

/** Reads one Part 10 file element by element. A file that cannot be opened at all is an error value. */
export function readObject(path: string): Promise<Result<ObjectRead, DicomFileError>> {
  return withDataSet(path, async (ds) => {
    const walker = ds.walker({ descendDefinedLength: true, emitNested: true });
    const elements: ObjectElement[] = [];
    const top = new Map<Tag, ObjectElement>();
    let charset: string | undefined;
    let pixelData: { -readonly [K in keyof PixelDataShape]: PixelDataShape[K] } | undefined;
    // Where the walk is (enclosing sequences, and the container the last element opened): blame for a broken structure.
    let at: Tag[] = [];
    // An inflate stream is forward-only: read each value before the walker moves on.
    const batchSize = ds.inflate ? 1 : 4096;
    for (
      let batch = await walker.nextBatch(batchSize);
      batch.length > 0;
      batch = await walker.nextBatch(batchSize)
    ) {
      for (const el of batch) {
        at = el.path.map((s) => s.tag);
        if (el.kind === 'element' && el.content !== 'value') at.push(el.tag);
        if (el.kind === 'fragment') {
          if (pixelData && el.depth === 1 && el.path[0]!.item > 0) {
            pixelData.fragments++;
            pixelData.fragmentBytes += el.valueLength ?? 0;
          }
          continue;
        }
        if (el.kind !== 'element') continue;
        const e = await elementOf(
          el,
          walker.readValue.bind(walker),
          walker.peekValue.bind(walker),
          charset,
          ds.source,
        );
        if (el.depth === 0 && el.tag === Tags.SpecificCharacterSet.tag && e.text !== undefined)
          charset = e.text;
        if (el.depth === 0 && PIXEL_TAGS.has(el.tag)) {
          pixelData = {
            tag: el.tag,
            vr: e.vr,
            length: el.content === 'fragments' ? undefined : el.valueLength,
            valueOffset: el.valueOffset,
            encapsulated: el.content === 'fragments',
            fragments: 0,
            fragmentBytes: 0,
          };
        }
        elements.push(e);
        if (el.depth === 0) top.set(el.tag, e);
      }
    }
    return ok({
      transferSyntax: ds.transferSyntax,
      explicitVr: ds.encoding.explicitVr,
      charset,
      elements,
      top,
      pixelData,
      issues: walker.issues,
      error: walker.error ? { ...walker.error, message: `${path}: ${walker.error.message}` } : undefined,
      errorPath: walker.error ? at : [],
    });
  });
}

async function elementOf(
  el: WalkElement,
  readValue: (el: WalkElement, max?: number) => Promise<Buffer>,
  peekValue: (el: WalkElement, max?: number) => Buffer | undefined,
  charset: string | undefined,
  source: { read(offset: number, n: number): Promise<Buffer> },
): Promise<ObjectElement> {
  const vr = el.vr ?? 'UN';
  const dict = dictionaryVr(el.tag);
  const base = {
    tag: el.tag,
    path: el.path,
    key: pathKey(el.path, el.tag),
    vr,
    dictionaryVr: dict,
    length: el.valueLength,
    content: el.content === 'none' ? ('value' as const) : el.content,
    private: isPrivateTag(el.tag),
  };
  if (el.content !== 'value' || el.valueLength === undefined || PIXEL_TAGS.has(el.tag)) return base;
  if (el.valueLength > MAX_DECODED) {
    const hash = createHash('sha256');
    for (let done = 0; done < el.valueLength;) {
      const n = Math.min(1 << 20, el.valueLength - done);
      hash.update(await source.read(el.valueOffset + done, n));
      done += n;
    }
    return { ...base, digest: hash.digest('hex') };
  }
  const bytes = Buffer.from(peekValue(el) ?? (await readValue(el)));
  // A UN value of a standard attribute is decoded by what the dictionary says it is.
  const meaning: VR = vr === 'UN' && dict && dict !== 'SQ' ? dict : vr;
  let end = bytes.length;
  while (end > 0 && (bytes[end - 1] === 0x00 || bytes[end - 1] === 0x20)) end--;
  const rawDigest = createHash('sha256').update(bytes.subarray(0, end)).digest('hex');
  return { ...base, rawDigest, ...decodeValue(meaning, bytes, charset, el.encoding.littleEndian) };
}
