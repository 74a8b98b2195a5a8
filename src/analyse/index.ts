/**
 * `pacshift analyze`: the source's data quality before moving it (patient identity, study
 * information, UIDs, character sets, series and instance consistency), from the inventory, the
 * headers recorded during migration and a sample the analysis reads itself; broken down by year and
 * by device; HTML (inline SVG charts), CSV and JSON.
 *
 *   const result = await runAnalysis(ctx, { sample: { perSeries: 1 } });   // ctx from openMigration
 *   await writeAnalysisReport(result, ctx.plan.report.dir, { planName: ctx.plan.name });
 *
 * The compatibility pre-flight lives beside it in ./preflight.
 */
export { runAnalysis, type AnalysisOptions, type AnalysisResult, type CodeCount } from './run-analysis.js';
export { FINDING_CODES, FINDING_CODE_LIST, type FindingCode, type FindingCodeInfo } from './codes.js';
export type { Finding, CheckContext } from './checks/index.js';
export { runChecks } from './checks/index.js';
export { Evidence } from './evidence.js';
export { breakdown, type Breakdown, type BreakdownRow } from './breakdown.js';
export type { SampleOptions, SampleTarget } from './sample.js';
export type { SampleReport } from './read-sample.js';
export { scanHeader, type HeaderScan } from './scan.js';
export { checkUid, type UidProblem } from './uid.js';
export { normaliseName, pseudonym } from './normalise.js';
export { normaliseVendor, deviceKey, type Device } from './device.js';
export { renderAnalysisHtml, type AnalysisHtmlOptions } from './report-html.js';
export { renderFindingsCsv, renderByYearCsv, renderByDeviceCsv, renderCorrectionsCsv } from './report-csv.js';
export {
  CorrectionsEvidence,
  type CorrectionsSummary,
  type CorrectionSummaryRow,
} from './checks/corrections.js';
export {
  writeAnalysisReport,
  renderAnalysisJson,
  ANALYSIS_FILES,
  type AnalysisFile,
} from './write-report.js';
