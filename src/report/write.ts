/** Writes the report files of a migration into plan.report.dir (each written whole, then renamed into place). */
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { MigrationContext } from '../run/context.js';
import { collectReport, type ReportData } from './collect.js';
import { renderCsv } from './csv.js';
import { renderHtml } from './html.js';
import { renderJson } from './json.js';

export const REPORT_FILES = { html: 'report.html', csv: 'ledger.csv', json: 'report.json' } as const;
export type ReportFormat = keyof typeof REPORT_FILES;

export interface WriteReportOptions {
  /** Default plan.report.dir. */
  readonly dir?: string;
  /** Default plan.report.formats. */
  readonly formats?: readonly ReportFormat[];
  /** Default plan.privacy.logPhi. */
  readonly logPhi?: boolean;
  /** Rows per HTML table. */
  readonly maxRows?: number;
}

export interface WrittenReport {
  readonly data: ReportData;
  readonly files: Partial<Record<ReportFormat, string>>;
}

async function writeAtomically(path: string, text: string): Promise<void> {
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, text, 'utf8');
  await rename(tmp, path);
}

export async function writeReport(
  ctx: MigrationContext,
  opts: WriteReportOptions = {},
): Promise<WrittenReport> {
  const dir = opts.dir ?? ctx.plan.report.dir;
  const formats = opts.formats ?? ctx.plan.report.formats;
  const data = await collectReport(ctx.store, {
    name: ctx.plan.name,
    description: ctx.plan.description ?? null,
    logPhi: opts.logPhi ?? ctx.plan.privacy.logPhi,
  });
  await mkdir(dir, { recursive: true });
  const files: Partial<Record<ReportFormat, string>> = {};
  const render: Record<ReportFormat, () => string> = {
    html: () => renderHtml(data, { maxRows: opts.maxRows }),
    csv: () => renderCsv(data),
    json: () => renderJson(data),
  };
  for (const f of formats) {
    const path = join(dir, REPORT_FILES[f]);
    await writeAtomically(path, render[f]());
    files[f] = path;
  }
  return { data, files };
}
