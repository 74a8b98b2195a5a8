/** Types of the analysis tables (migration 004) and of paging through the inventory. */
import type { Json } from './types.js';

/** Keyset paging by primary key: rows after `after`, at most `limit` (default 1000). */
export interface InventoryPage {
  readonly after?: string;
  readonly limit?: number;
}

export type AnalysisSeverity = 'error' | 'warning' | 'info';

/** One copy of an instance as the analysis read it. */
export interface AnalysisHeaderInput {
  readonly sopInstanceUid: string;
  /** SHA-256 of the decoded elements, File Meta and Pixel Data left out: equal for re-encoded copies. */
  readonly contentDigest: string;
  readonly studyUid: string | null;
  readonly seriesUid: string | null;
  /** 'sample' (retrieved from the source by the analysis) or 'folder' (a folder source's file, read in place). */
  readonly origin: string;
  readonly datasetSha256?: string | null;
  readonly transferSyntaxUid?: string | null;
  /** Attribute values by keyword. */
  readonly header: { readonly [keyword: string]: Json };
  /** Character set and UID problems of the data set. */
  readonly problems?: Json;
}

export interface AnalysisHeader extends AnalysisHeaderInput {
  readonly id: number;
  readonly header: { [keyword: string]: Json };
  readonly firstSeenAt: number;
  readonly lastSeenAt: number;
  /** How many reads found this content (a copy read again is not a new row). */
  readonly timesSeen: number;
}

export interface AnalysisHeaderResult {
  /** A SOP Instance UID / content pair not seen before. */
  readonly inserted: number;
  /** Seen before with this content: last_seen_at updated. */
  readonly again: number;
}

export interface AnalysisFindingInput {
  /** Stable code, e.g. PATIENT_BIRTHDATE_CONFLICT. */
  readonly code: string;
  readonly severity: AnalysisSeverity;
  /** What the finding is about: a UID, or a pseudonymised group key (pid#…). Never patient data. */
  readonly subject: string;
  readonly studyUids: readonly string[];
  readonly seriesUid?: string | null;
  readonly sopInstanceUid?: string | null;
  readonly detail?: Json;
}

export interface AnalysisFinding extends AnalysisFindingInput {
  readonly id: number;
  readonly runId: number;
  readonly seriesUid: string | null;
  readonly sopInstanceUid: string | null;
  readonly detail: Json;
}

export interface AnalysisRunInput {
  readonly startedAt: number;
  readonly params?: Json;
  readonly summary?: Json;
}

export interface AnalysisRun {
  readonly id: number;
  readonly startedAt: number;
  readonly finishedAt: number;
  readonly params: Json;
  readonly summary: Json;
}
