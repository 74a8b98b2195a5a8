/**
 * Pre-flight: what the target will refuse or alter, found before the bulk move and sized.
 *
 *   const report = await runPreflight(ctx, { profile: 'lenient' });   // ctx from openMigration(planPath)
 *   console.log(formatReport(report));
 */
export {
  runPreflight,
  retrievedLabel,
  PREFLIGHT_OBJECT_EVENT,
  PREFLIGHT_RUN_EVENT,
  type PreflightOptions,
} from './run.js';
export {
  CAUSES,
  CAUSE_IDS,
  PROFILES,
  verdictOf,
  worstVerdict,
  type CauseId,
  type CauseInfo,
  type Profile,
  type Remedy,
  type Verdict,
} from './causes.js';
export {
  checkObject,
  withProbe,
  type ObjectCheck,
  type Finding,
  type ObjectFacts,
  type CheckOptions,
} from './check-object.js';
export {
  probeTarget,
  Capabilities,
  CONTEXT_RESULTS,
  type Combination,
  type ProbedContext,
  type ProbeVerdict,
} from './probe.js';
export {
  buildReport,
  formatReport,
  type PreflightReport,
  type CauseTotals,
  type VerdictTotals,
  type Size,
} from './report.js';
export {
  diffCopies,
  diffObjects,
  type CopyDiff,
  type CopyDifference,
  type DifferenceKind,
} from './copy-diff.js';
export { readObject, type ObjectRead, type ObjectElement } from './read-object.js';
export { REQUIRED_MODULES, IDENTIFIER_KEYWORDS } from './modules.js';
