/** How verification sees the target: a listing of a study's instances, and copies retrieved back. */
import type { Instance, Json } from '../state/types.js';
import type { Result } from '../util/result.js';
import type { VerifyFailure } from './types.js';

export type Header = { readonly [keyword: string]: Json };

export interface TargetListing {
  /** SOP Instance UID → the target's answer for each copy it holds (several: duplicates). */
  readonly instances: ReadonlyMap<string, readonly Header[]>;
  /** The whole study was listed: an instance not expected would be in `instances`. */
  readonly complete: boolean;
  /** 'query': C-FIND answers (keys left empty are unsupported, not compared); 'file': headers of files. */
  readonly mode: 'query' | 'file';
  readonly notes: readonly string[];
}

export interface RetrievedFiles {
  readonly paths: readonly string[];
  readonly notes: readonly string[];
  /** Removes what was retrieved into temporary storage. */
  release(): Promise<void>;
}

export interface VerifyTarget {
  /** For messages: AE@host:port or the folder. */
  readonly name: string;
  /** The target's instances in the study, with the `keywords` it answers. */
  list(
    studyUid: string,
    expected: readonly Instance[],
    keywords: readonly string[],
  ): Promise<Result<TargetListing, VerifyFailure>>;
  /** Copies of the study's instances as files. */
  retrieve(studyUid: string, expected: readonly Instance[]): Promise<Result<RetrievedFiles, VerifyFailure>>;
  close(): Promise<void>;
}
