/**
 * The verdict on one instance: what the transfer recorded (the expected side) against what the
 * target answers (C-FIND matches, or the header of a copy it holds) and, for sampled studies, the
 * copies retrieved back from it.
 */
import { lookupTransferSyntax } from '../dicom/transfer-syntax.js';
import type { Instance, Json, VerifyOutcome } from '../state/types.js';
import type { PassThroughRecord } from './pass-through.js';
import { isIdentifying } from './phi.js';
import type { AttributeDifference, InstanceVerification, PixelComparison } from './types.js';
import { canRepresent } from './repertoire.js';
import {
  ANSWER_CHARSET_KEY,
  compareValues,
  ENCODING_KEYWORDS,
  isMetaKey,
  isTextKeyword,
  KEYWORD_LEVEL,
  SYNTAX_DEPENDENT_KEYWORDS,
  UNDECODABLE_KEY,
} from './values.js';

export interface JudgeOptions {
  /** Keywords compared in the listing (C-FIND answers). */
  readonly keywords: readonly string[];
  /** 'query': a C-FIND answer (empty keys are unanswered); 'file': the header of a file the target holds. */
  readonly listingMode: 'query' | 'file';
  /** Look for several copies of one SOP Instance UID (plan verify.duplicates). */
  readonly duplicates: boolean;
  /** Compare pixel digests of retrieved copies. */
  readonly pixels: boolean;
  /**
   * The other instances of the study (their records). An IMAGE-level answer carries the study's and
   * the series' values, which the archive took from one of them: such a value, when a sibling in the
   * same study (series, for series keys) holds it, does not contradict this instance.
   */
  readonly siblings?: readonly Instance[];
}

type Header = { readonly [keyword: string]: Json };

/** The expected header: the record, or (when the transfer recorded none) the UIDs of the state row. */
export function expectedHeader(i: Instance): Header {
  if (i.header) return i.header;
  const h: Record<string, Json> = {
    SOPInstanceUID: i.sopInstanceUid,
    StudyInstanceUID: i.studyUid,
    SeriesInstanceUID: i.seriesUid,
  };
  if (i.sopClassUid) h.SOPClassUID = i.sopClassUid;
  return h;
}

const undecodableOf = (h: Header | null | undefined): Set<string> =>
  new Set(Array.isArray(h?.[UNDECODABLE_KEY]) ? (h[UNDECODABLE_KEY] as Json[]).map(String) : []);

function difference(
  keyword: string,
  seenIn: 'query' | 'retrieved',
  expected: Json | undefined,
  found: Json | undefined,
): AttributeDifference {
  if (isIdentifying(keyword)) return { keyword, seenIn, withheld: true };
  return { keyword, seenIn, expected: expected ?? null, found: found ?? null };
}

/** Differences between the expected header and one found header (listing or retrieved copy). */
export function compareHeaders(
  expected: Header,
  found: Header,
  keywords: readonly string[],
  mode: 'query' | 'file',
  seenIn: 'query' | 'retrieved',
): { differences: AttributeDifference[]; unanswered: string[] } {
  const skip = new Set([...undecodableOf(expected), ...undecodableOf(found)]);
  const answerCharset = found[ANSWER_CHARSET_KEY];
  const differences: AttributeDifference[] = [];
  const unanswered: string[] = [];
  for (const k of keywords) {
    if (!(k in expected) || skip.has(k) || ENCODING_KEYWORDS.has(k) || isMetaKey(k)) continue;
    const e = expected[k];
    // A C-FIND answer in a character set that cannot hold the value says nothing about the value.
    if (
      typeof answerCharset === 'string' &&
      typeof e === 'string' &&
      isTextKeyword(k) &&
      !canRepresent(e, answerCharset)
    ) {
      unanswered.push(k);
      continue;
    }
    const c = compareValues(k, e, found[k], mode);
    if (c === 'different') differences.push(difference(k, seenIn, expected[k], found[k]));
    else if (c === 'unanswered') unanswered.push(k);
  }
  return { differences, unanswered };
}

const isNative = (ts: string | null): boolean =>
  ts !== null && lookupTransferSyntax(ts)?.encapsulated === false;

/**
 * Pixel digests are comparable between equal transfer syntaxes, or between native ones (the digest
 * is taken in little-endian order). Two different encapsulated syntaxes are not compared.
 */
export function comparePixels(
  expected: { digest: string | null; ts: string | null },
  found: { digest: string | null; ts: string | null },
): PixelComparison {
  const base = { expectedTs: expected.ts, foundTs: found.ts };
  if (expected.digest === null || found.digest === null) {
    return { ...base, compared: true, equal: expected.digest === found.digest };
  }
  if (!(expected.ts === found.ts || (isNative(expected.ts) && isNative(found.ts))))
    return { ...base, compared: false };
  return { ...base, compared: true, equal: expected.digest === found.digest };
}

/** Moves to `unanswered` the differences on study/series keys whose answered value a sibling instance holds. */
function explainedBySiblings(
  r: { differences: AttributeDifference[]; unanswered: string[] },
  found: Header,
  i: Instance,
  siblings: readonly Instance[] | undefined,
): { differences: AttributeDifference[]; unanswered: string[] } {
  if (!siblings || r.differences.length === 0) return r;
  const differences: AttributeDifference[] = [];
  const unanswered = [...r.unanswered];
  for (const d of r.differences) {
    const level = KEYWORD_LEVEL.get(d.keyword);
    const explained =
      level !== undefined &&
      siblings.some(
        (s) =>
          s.sopInstanceUid !== i.sopInstanceUid &&
          (level === 'STUDY' || s.seriesUid === i.seriesUid) &&
          compareValues(d.keyword, expectedHeader(s)[d.keyword], found[d.keyword], 'file') === 'equal',
      );
    if (explained) unanswered.push(d.keyword);
    else differences.push(d);
  }
  return { differences, unanswered };
}

const dedupe = (ds: AttributeDifference[]): AttributeDifference[] => {
  const seen = new Set<string>();
  return ds.filter((d) => {
    const key = `${d.seenIn}|${d.keyword}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
};

/** Keywords compared on a retrieved copy: everything recorded, syntax-dependent ones only within one syntax. */
function retrievedKeywords(expected: Header, sameSyntax: boolean): string[] {
  return Object.keys(expected).filter(
    (k) => !isMetaKey(k) && !ENCODING_KEYWORDS.has(k) && (sameSyntax || !SYNTAX_DEPENDENT_KEYWORDS.has(k)),
  );
}

interface CopyVerdict {
  differences: AttributeDifference[];
  pixel: PixelComparison | undefined;
}

function judgeCopy(i: Instance, expected: Header, copy: PassThroughRecord, pixels: boolean): CopyVerdict {
  const expectedTs =
    typeof expected.TransferSyntaxUID === 'string' ? expected.TransferSyntaxUID : i.transferSyntaxUid;
  const keywords = retrievedKeywords(expected, expectedTs === copy.transferSyntaxUid);
  const { differences } = compareHeaders(expected, copy.header, keywords, 'file', 'retrieved');
  let pixel: PixelComparison | undefined;
  if (pixels && i.header) {
    pixel = {
      ...comparePixels(
        { digest: i.pixelDigest, ts: i.pixelDigestTs },
        { digest: copy.pixelDigest, ts: copy.pixelDigestTs },
      ),
      ...(i.datasetSha256 ? { identicalDataSet: i.datasetSha256 === copy.datasetSha256 } : {}),
    };
  }
  return { differences, pixel };
}

const badness = (v: CopyVerdict): number => (v.pixel?.equal === false ? 1000 : 0) + v.differences.length;

/**
 * The verdict on one expected instance. `listing`: the target's answers for this SOP Instance UID
 * (several when it holds duplicates). `retrieved`: undefined when the study is not compared in
 * depth; otherwise the copies that came back (none: it could not be retrieved).
 */
export function judgeInstance(
  i: Instance,
  listing: readonly Header[],
  retrieved: readonly PassThroughRecord[] | undefined,
  opts: JudgeOptions,
): InstanceVerification {
  const base = {
    sopInstanceUid: i.sopInstanceUid,
    seriesUid: i.seriesUid,
    ...(i.header ? {} : { unrecorded: true as const }),
  };
  if (listing.length === 0) {
    return { ...base, outcome: 'missing', copies: 0, differences: [], unanswered: [] };
  }
  const expected = expectedHeader(i);
  const differences: AttributeDifference[] = [];
  const unanswered = new Set<string>();
  const answers = listing.map((copy) =>
    explainedBySiblings(
      compareHeaders(expected, copy, opts.keywords, opts.listingMode, 'query'),
      copy,
      i,
      opts.listingMode === 'query' ? opts.siblings : undefined,
    ),
  );
  const consideredAnswers = opts.duplicates
    ? answers
    : answers.sort((a, b) => a.differences.length - b.differences.length).slice(0, 1);
  for (const r of consideredAnswers) {
    differences.push(...r.differences);
    for (const k of r.unanswered) unanswered.add(k);
  }
  let copies = listing.length;
  let pixel: PixelComparison | undefined;
  let retrievedOk: boolean | undefined;
  if (retrieved !== undefined) {
    retrievedOk = retrieved.length > 0;
    copies = Math.max(copies, retrieved.length);
    const verdicts = retrieved.map((c) => judgeCopy(i, expected, c, opts.pixels));
    // Duplicates are judged as a whole; otherwise the copy closest to what was sent speaks for the instance.
    const considered = opts.duplicates
      ? verdicts
      : verdicts.sort((a, b) => badness(a) - badness(b)).slice(0, 1);
    for (const v of considered) {
      differences.push(...v.differences);
      if (v.pixel && (pixel === undefined || v.pixel.equal === false)) pixel = v.pixel;
    }
  }
  let outcome: VerifyOutcome = 'verified';
  if (retrievedOk === false) outcome = 'missing';
  else if (opts.duplicates && copies > 1) outcome = 'duplicate-conflict';
  else if (pixel?.equal === false) outcome = 'pixel-mismatch';
  else if (differences.length > 0) outcome = 'attribute-mismatch';
  return {
    ...base,
    outcome,
    copies,
    differences: dedupe(differences),
    unanswered: [...unanswered].sort(),
    ...(retrievedOk !== undefined ? { retrieved: retrievedOk } : {}),
    ...(pixel ? { pixel } : {}),
  };
}

/** The per-instance detail stored with the outcome (no patient data: identifying values are withheld). */
export function instanceDetail(v: InstanceVerification): Json {
  const d: { [k: string]: Json } = { copies: v.copies };
  if (v.differences.length > 0) d.differences = v.differences.map((x) => ({ ...x }) as { [k: string]: Json });
  if (v.unanswered.length > 0) d.unanswered = [...v.unanswered];
  if (v.retrieved !== undefined) d.retrieved = v.retrieved;
  if (v.pixel) d.pixel = { ...v.pixel } as { [k: string]: Json };
  if (v.unrecorded) d.unrecorded = true;
  return d;
}
