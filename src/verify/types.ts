/** What verification finds, per instance and per study, and how it fails (as values). */
import type { NetFailure } from '../net/errors.js';
import type { Json, VerifyOutcome } from '../state/types.js';

/** One attribute that differs. Values of identifying attributes (phi.ts) are withheld. */
export interface AttributeDifference {
  readonly keyword: string;
  /**
   * Where the difference was seen: the C-FIND answer, a retrieved copy, or 'source': the copy that passed through
   * pacshift carries a value the source's inventory does not hold (against-source.ts).
   */
  readonly seenIn: 'query' | 'retrieved' | 'source';
  readonly expected?: Json;
  readonly found?: Json;
  readonly withheld?: true;
}

export interface PixelComparison {
  /** False when the transfer syntaxes make the digests incomparable (two different encapsulated syntaxes). */
  readonly compared: boolean;
  readonly equal?: boolean;
  readonly expectedTs: string | null;
  readonly foundTs: string | null;
  /** The retrieved data set is byte-identical to the one sent. */
  readonly identicalDataSet?: boolean;
}

export interface InstanceVerification {
  readonly sopInstanceUid: string;
  readonly seriesUid: string;
  readonly outcome: VerifyOutcome;
  /** Copies the target holds (C-FIND matches; retrieved copies when more). */
  readonly copies: number;
  readonly differences: readonly AttributeDifference[];
  /** Keywords the target left unanswered in C-FIND (unsupported keys), not compared there. */
  readonly unanswered: readonly string[];
  /** Deep comparison on a sampled study: the instance came back from the target (false: it did not). */
  readonly retrieved?: boolean;
  readonly pixel?: PixelComparison;
  /** The transfer recorded no header for this instance: only presence and the UIDs were checked. */
  readonly unrecorded?: true;
}

export type VerifyLevel = 'presence' | 'attributes' | 'pixels';

export interface StudyVerification {
  readonly studyUid: string;
  /** Compared in depth (retrieved back from the target). */
  readonly sampled: boolean;
  readonly level: VerifyLevel;
  readonly instances: readonly InstanceVerification[];
  /** SOP Instance UIDs the target holds in the study that were not sent there (or not confirmed stored). */
  readonly unexpected: readonly string[];
  /** Whether the listing of the target covered the whole study (unexpected instances could be missed otherwise). */
  readonly listingComplete: boolean;
  readonly counts: Readonly<Record<VerifyOutcome, number>>;
  /** No problem: every instance verified and nothing unexpected. */
  readonly clean: boolean;
  /** Observations without patient data (peer limits, skipped checks). */
  readonly notes: readonly string[];
  readonly durationMs: number;
}

/** Why a study could not be verified at all (the peer failed, or the answer was incomplete). */
export interface VerifyFailure {
  /** A DICOM status (number) or our code: CONNECT_FAILED, TIMEOUT, QUERY_INCOMPLETE, … */
  readonly code: number | string;
  /** UIDs and AE titles only. */
  readonly message: string;
  /** Worth another attempt after a back-off (peer unavailable) rather than a configuration problem. */
  readonly retryable: boolean;
  readonly cause?: NetFailure;
}

/** Job failure codes of a study whose verification found problems, most severe first. */
export const PROBLEM_CODES = [
  ['missing', 'VERIFY_MISSING'],
  ['duplicate-conflict', 'VERIFY_DUPLICATE'],
  ['pixel-mismatch', 'VERIFY_PIXEL_MISMATCH'],
  ['attribute-mismatch', 'VERIFY_ATTRIBUTE_MISMATCH'],
] as const satisfies readonly (readonly [Exclude<VerifyOutcome, 'verified'>, string])[];

/** Extra instances at the target and nothing else wrong. */
export const UNEXPECTED_CODE = 'VERIFY_UNEXPECTED';
