/** Writes the analysis files into the report folder (each written whole, then renamed into place). */
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { renderByDeviceCsv, renderByYearCsv, renderCorrectionsCsv, renderFindingsCsv } from './report-csv.js';
import { renderAnalysisHtml, type AnalysisHtmlOptions } from './report-html.js';
import type { AnalysisResult } from './run-analysis.js';

export const ANALYSIS_FILES = {
  html: 'analysis.html',
  findingsCsv: 'analysis-findings.csv',
  byYearCsv: 'analysis-by-year.csv',
  byDeviceCsv: 'analysis-by-device.csv',
  correctionsCsv: 'analysis-corrections.csv',
  json: 'analysis.json',
} as const;

export type AnalysisFile = keyof typeof ANALYSIS_FILES;

/** The JSON document: the result as is (findings included), versioned. */
export function renderAnalysisJson(r: AnalysisResult): string {
  return `${JSON.stringify({ version: 1, ...r }, null, 2)}\n`;
}

async function writeAtomically(path: string, text: string): Promise<void> {
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, text, 'utf8');
  await rename(tmp, path);
}

export async function writeAnalysisReport(
  r: AnalysisResult,
  dir: string,
  html: AnalysisHtmlOptions,
): Promise<Record<AnalysisFile, string>> {
  await mkdir(dir, { recursive: true });
  const render: Record<AnalysisFile, () => string> = {
    html: () => renderAnalysisHtml(r, html),
    findingsCsv: () => renderFindingsCsv(r),
    byYearCsv: () => renderByYearCsv(r),
    byDeviceCsv: () => renderByDeviceCsv(r),
    correctionsCsv: () => renderCorrectionsCsv(r),
    json: () => renderAnalysisJson(r),
  };
  const out = {} as Record<AnalysisFile, string>;
  for (const k of Object.keys(ANALYSIS_FILES) as AnalysisFile[]) {
    const path = join(dir, ANALYSIS_FILES[k]);
    await writeAtomically(path, render[k]());
    out[k] = path;
  }
  return out;
}
