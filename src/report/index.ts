/**
 * The report: the definition-of-done ledger as HTML (people), CSV (spreadsheets) and JSON (tools).
 *
 *   const { files, data } = await writeReport(ctx);   // into plan.report.dir
 *   data.done.done                                    // is the migration done, and data.done.reasons why not
 */
export {
  collectReport,
  STATUS_ORDER,
  STATUS_TITLES,
  type CollectOptions,
  type ReportData,
  type ReportStudy,
  type FailureGroup,
} from './collect.js';
export { renderHtml, type HtmlOptions } from './html.js';
export { renderCsv } from './csv.js';
export { renderJson, REPORT_JSON_VERSION } from './json.js';
export {
  writeReport,
  REPORT_FILES,
  type ReportFormat,
  type WriteReportOptions,
  type WrittenReport,
} from './write.js';
export { explainCode, ACTION_TEXT, CODE_ACTIONS } from './actions.js';
