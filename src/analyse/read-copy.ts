/**
 * One copy of an instance read for the analysis: the pass-through record (the same header the
 * migration records, plus the device and series attributes) and the full-header scan (content
 * digest, character set and UID problems), as a row for store.recordAnalysisHeaders.
 */
import { scanHeader } from './scan.js';
import { recordPassThrough } from '../verify/pass-through.js';
import type { AnalysisHeaderInput, Json } from '../state/index.js';
import type { CopyProblems } from './evidence.js';

/** Recorded beside PASS_THROUGH_KEYWORDS. */
export const ANALYSIS_KEYWORDS = [
  'IssuerOfPatientID',
  'SeriesNumber',
  'Manufacturer',
  'ManufacturerModelName',
  'SoftwareVersions',
  'StationName',
  'StudyTime',
  'SeriesDate',
  'ContentDate',
];

export interface CopyWhere {
  readonly sopInstanceUid: string;
  readonly studyUid: string | null;
  readonly seriesUid: string | null;
}

/** Digest prefix of a copy that could not be read: never compared as content. */
export const UNREADABLE_DIGEST = 'unreadable:';

export async function readCopy(path: string, where: CopyWhere, origin: string): Promise<AnalysisHeaderInput> {
  const [pt, scan] = await Promise.all([recordPassThrough(path, ANALYSIS_KEYWORDS), scanHeader(path)]);
  if (!pt.ok || !scan.ok) {
    const code = !pt.ok ? pt.error.code : !scan.ok ? scan.error.code : 'unknown';
    const problems: CopyProblems = { unreadable: code };
    return {
      ...where,
      contentDigest: `${UNREADABLE_DIGEST}${code}`,
      origin,
      header: pt.ok ? pt.value.header : {},
      problems: problems as unknown as Json,
    };
  }
  const r = pt.value;
  const s = scan.value;
  const problems: CopyProblems = {
    charset: s.problems.charset,
    uids: s.problems.uids,
    ...(s.incomplete ? { unreadable: s.incomplete.code } : {}),
  };
  return {
    sopInstanceUid: r.sopInstanceUid,
    studyUid: r.studyUid ?? where.studyUid,
    seriesUid: r.seriesUid ?? where.seriesUid,
    contentDigest: s.contentDigest,
    origin,
    datasetSha256: r.datasetSha256,
    transferSyntaxUid: r.transferSyntaxUid,
    header: r.header,
    problems: problems as unknown as Json,
  };
}
