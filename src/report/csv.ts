/** The ledger as CSV: one row per study (RFC 4180; cells that a spreadsheet would run as a formula are prefixed with '). */
import type { ReportData, ReportStudy } from './collect.js';

const BASE: readonly [string, (s: ReportStudy) => unknown][] = [
  ['study_uid', (s) => s.studyUid],
  ['status', (s) => s.status],
  ['regressed', (s) => s.regressed],
  ['rule_id', (s) => s.ruleId],
  ['rule_description', (s) => s.ruleDescription],
  ['job_id', (s) => s.jobId],
  ['job_state', (s) => s.jobState],
  ['attempts', (s) => s.attempts],
  ['error_code', (s) => s.errorCode],
  ['error', (s) => s.error],
  ['last_error_code', (s) => s.lastErrorCode],
  ['last_error', (s) => s.lastError],
  ['vanished', (s) => s.vanished],
  ['instances_reported', (s) => s.instancesReported],
  ['instances_received', (s) => s.instancesReceived],
  ['instances_stored', (s) => s.instancesStored],
  ['instances_verified', (s) => s.instancesVerified],
  ['instances_with_problems', (s) => s.instancesWithProblems],
  ['instances_quarantined', (s) => s.instancesQuarantined],
];

const PHI: readonly [string, (s: ReportStudy) => unknown][] = [
  ['patient_id', (s) => s.phi?.patientId],
  ['patient_name', (s) => s.phi?.patientName],
  ['patient_birth_date', (s) => s.phi?.patientBirthDate],
  ['accession_number', (s) => s.phi?.accessionNumber],
];

export function csvCell(v: unknown): string {
  if (v === null || v === undefined) return '';
  let s = String(v);
  if (/^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function renderCsv(data: ReportData): string {
  const cols = data.logPhi ? [...BASE, ...PHI] : BASE;
  const lines = [cols.map(([name]) => name).join(',')];
  for (const s of data.studies) lines.push(cols.map(([, get]) => csvCell(get(s))).join(','));
  return `${lines.join('\r\n')}\r\n`;
}
