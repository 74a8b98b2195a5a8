import type { AnalysisFindingInput, Json } from '../../state/index.js';
import { FINDING_CODES, type FindingCode } from '../codes.js';

export interface CheckContext {
  /** Keys the pid#… pseudonyms (store.analysisSecret). */
  readonly secret: string;
  /** YYYYMMDD: later study dates are in the future. */
  readonly today: string;
  /** YYYYMMDD: earlier study dates are implausibly old. */
  readonly oldest: string;
  /** privacy.logPhi: findings may carry the patient values they are about. */
  readonly logPhi: boolean;
}

export interface Finding extends AnalysisFindingInput {
  readonly code: FindingCode;
}

export function finding(
  code: FindingCode,
  subject: string,
  studyUids: Iterable<string>,
  detail: { [k: string]: Json } = {},
  at: { seriesUid?: string | null; sopInstanceUid?: string | null } = {},
): Finding {
  return {
    code,
    severity: FINDING_CODES[code].severity,
    subject,
    studyUids: [...new Set(studyUids)].sort(),
    seriesUid: at.seriesUid ?? null,
    sopInstanceUid: at.sopInstanceUid ?? null,
    detail,
  };
}
