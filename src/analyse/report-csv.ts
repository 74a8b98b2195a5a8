/**
 * The analysis as CSV: one row per finding and study it touches (with the study's year and devices,
 * for pivot tables), and the breakdowns by year and by device with one column per code.
 */
import { csvCell } from '../report/csv.js';
import type { BreakdownRow } from './breakdown.js';
import { FINDING_CODE_LIST, type FindingCode } from './codes.js';
import type { AnalysisResult } from './run-analysis.js';

const line = (cells: readonly unknown[]): string => cells.map(csvCell).join(',');
const doc = (lines: string[]): string => `${lines.join('\r\n')}\r\n`;

export function renderFindingsCsv(r: AnalysisResult): string {
  const lines = [
    line([
      'code',
      'severity',
      'subject',
      'study_uid',
      'series_uid',
      'sop_instance_uid',
      'year',
      'devices',
      'detail',
    ]),
  ];
  for (const f of r.findings) {
    const studies = f.studyUids.length > 0 ? f.studyUids : [''];
    for (const s of studies) {
      const where = r.breakdown.studies[s];
      lines.push(
        line([
          f.code,
          f.severity,
          f.subject,
          s,
          f.seriesUid,
          f.sopInstanceUid,
          where?.year ?? '',
          (where?.devices ?? []).join(' | '),
          JSON.stringify(f.detail ?? null),
        ]),
      );
    }
  }
  return doc(lines);
}

function breakdownCsv(
  rows: readonly BreakdownRow[],
  keyColumns: string[],
  keys: (r: BreakdownRow) => unknown[],
): string {
  const present = new Set<FindingCode>();
  for (const r of rows) for (const c of Object.keys(r.byCode) as FindingCode[]) present.add(c);
  const codes = FINDING_CODE_LIST.filter((c) => present.has(c));
  const lines = [line([...keyColumns, 'studies', 'with_errors', 'with_warnings', 'info_only', ...codes])];
  for (const r of rows)
    lines.push(
      line([
        ...keys(r),
        r.studies,
        r.bySeverity.error,
        r.bySeverity.warning,
        r.bySeverity.info,
        ...codes.map((c) => r.byCode[c] ?? 0),
      ]),
    );
  return doc(lines);
}

export const renderByYearCsv = (r: AnalysisResult): string =>
  breakdownCsv(r.breakdown.byYear, ['year'], (y) => [y.key]);

export const renderByDeviceCsv = (r: AnalysisResult): string =>
  breakdownCsv(r.breakdown.byDevice, ['vendor', 'manufacturer', 'model', 'software', 'station'], (d) => [
    d.device?.vendor,
    d.device?.manufacturer,
    d.device?.model,
    d.device?.software,
    d.device?.station,
  ]);

/** The transform's summary: one row per correction table and rule (header only when the plan has none). */
export function renderCorrectionsCsv(r: AnalysisResult): string {
  const lines = [line(['id', 'kind', 'rows', 'rows_used', 'studies_changed', 'instances_changed'])];
  for (const t of r.corrections?.tables ?? [])
    lines.push(line([t.id, t.kind, t.rows ?? '', t.rowsUsed ?? '', t.studies, t.instances]));
  return doc(lines);
}
