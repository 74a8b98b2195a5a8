/** The plan file: schema, loader, errors and the generated example. */
export { loadPlan, parsePlan, checkPlanFiles, type ParsePlanOptions } from './load.js';
export { formatPlanError, formatPlanErrors, type PlanError } from './errors.js';
export { examplePlanYaml } from './example.js';
export {
  PLAN_VERSION,
  PlanSchema,
  planSchema,
  planJsonSchema,
  type Plan,
  type PlanInput,
  type LocalPlan,
  type SourcePlan,
  type DimseSourcePlan,
  type TargetPlan,
  type DimseTargetPlan,
  type StatePlan,
  type SpoolPlan,
  type ScopePlan,
  type ScopeRule,
  type RetentionPolicy,
  type TransformPlan,
  type CorrectionTable,
  type TransformRule,
  type TransferPlan,
  type TransferWindow,
  type VerifyPlan,
  type ReportPlan,
  type PrivacyPlan,
} from './schema.js';
export { MATCH_KEYWORDS, type Match } from './schema-scope.js';
export { DEFAULT_VERIFY_ATTRIBUTES, type Day } from './schema-run.js';
export {
  parseDuration,
  formatDuration,
  parseSize,
  compilePattern,
  globToRegExp,
  type Pattern,
  type PlanContext,
} from './primitives.js';
export { planDocs, type OptionDoc } from './doc.js';
