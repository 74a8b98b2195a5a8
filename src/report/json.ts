/** The report as JSON, for tools: the collected data as is (schema: ReportData in collect.ts). */
import type { ReportData } from './collect.js';

export const REPORT_JSON_VERSION = 1;

export function renderJson(data: ReportData): string {
  return `${JSON.stringify({ reportVersion: REPORT_JSON_VERSION, ...data }, null, 2)}\n`;
}
