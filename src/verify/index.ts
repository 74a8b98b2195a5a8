/**
 * Verification: what the target holds against what the transfer recorded while data passed through.
 *
 *   recordPassThrough(path, plan.verify.attributes)  → the record the transfer stores per instance
 *   verifyStudy(ctx, studyUid, { sampled })           → per-instance verdicts for one study (no writes)
 *   runVerify(ctx, { concurrency, sample, again })    → claims stored jobs, records verdicts, advances jobs
 */
export {
  recordPassThrough,
  receivedFields,
  PASS_THROUGH_KEYWORDS,
  type PassThroughRecord,
} from './pass-through.js';
export {
  verifyStudy,
  openVerifyTarget,
  IDENTIFIER_KEYWORDS,
  type VerifyStudyOptions,
} from './verify-study.js';
export {
  runVerify,
  problemOf,
  type RunVerifyOptions,
  type StudyEvent,
  type VerifyRunSummary,
} from './run-verify.js';
export {
  judgeInstance,
  comparePixels,
  compareHeaders,
  instanceDetail,
  type JudgeOptions,
} from './compare.js';
export { compareValues, type Comparison } from './values.js';
export { StudySampler, sampleSize, seededRandom, type SampleSpec } from './sample.js';
export { dimseTarget, type DimseTargetOptions } from './target-dimse.js';
export {
  retrieveCopies,
  storageContexts,
  type MoveListener,
  type RetrieveMethod,
} from './retrieve-copies.js';
export { folderTarget } from './target-folder.js';
export type { VerifyTarget, TargetListing, RetrievedFiles } from './target.js';
export { IDENTIFYING_KEYWORDS, isIdentifying } from './phi.js';
export * from './types.js';
