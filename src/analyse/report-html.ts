/**
 * The analysis as one self-contained HTML file (inline CSS and SVG, no script, no external asset):
 * totals, findings by code with the action to take, quality over time and by device (charts and
 * tables), the findings themselves, and what the sample covered. Every value is escaped; patient
 * values appear only when the analysis ran with logPhi (findings then carry them in their detail).
 */
import { esc } from '../report/html.js';
import type { AnalysisSeverity } from '../state/analysis-types.js';
import type { BreakdownRow } from './breakdown.js';
import { FINDING_CODES, type FindingCode } from './codes.js';
import type { AnalysisResult } from './run-analysis.js';
import { horizontalBars, SEVERITY_COLORS, verticalBars, type Bar } from './svg.js';

export interface AnalysisHtmlOptions {
  readonly planName: string;
  readonly description?: string | null;
  /** Findings listed per code before the rest is left to the CSV (default 200). */
  readonly maxRows?: number;
  /** Devices in the chart (default 25; the table lists them all). */
  readonly maxDevices?: number;
}

const n = (v: number): string => v.toLocaleString('en-US');
const when = (ms: number): string =>
  new Date(ms)
    .toISOString()
    .replace('T', ' ')
    .replace(/\.\d+Z$/, ' UTC');

const CSS = `
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,Arial,sans-serif;color:#1d2430;margin:0;background:#f5f6f8}
main{max-width:1200px;margin:0 auto;padding:24px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:18px;margin:32px 0 8px;border-bottom:1px solid #d5d9e0;padding-bottom:4px}
h3{font-size:15px;margin:20px 0 6px}.muted{color:#5b6575}.small{font-size:12px}
table{border-collapse:collapse;width:100%;background:#fff;margin:6px 0 12px;font-size:13px}
th,td{border:1px solid #d5d9e0;padding:4px 8px;text-align:left;vertical-align:top}
th{background:#eceff3;font-weight:600}td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
td.uid{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:12px;word-break:break-all}
.cards{display:flex;flex-wrap:wrap;gap:10px;margin:8px 0}
.card{background:#fff;border:1px solid #d5d9e0;border-radius:6px;padding:8px 14px;min-width:130px}
.card .v{font-size:20px;font-weight:600}
.sev{display:inline-block;border-radius:3px;padding:0 6px;color:#fff;font-size:12px;font-weight:600}
.sev-error{background:${SEVERITY_COLORS.error}}.sev-warning{background:${SEVERITY_COLORS.warning}}.sev-info{background:${SEVERITY_COLORS.info}}
.chart{background:#fff;border:1px solid #d5d9e0;border-radius:6px;padding:8px;margin:8px 0;overflow-x:auto}
.scroll{overflow-x:auto}
table.devices td{overflow-wrap:anywhere}table.devices td.codes{font-size:11px;color:#3a4454}
footer{margin-top:40px;font-size:12px;color:#5b6575}
`;

const td = (v: unknown): string => `<td>${esc(v)}</td>`;
const tdNum = (v: number | null | undefined): string =>
  `<td class="num">${v === null || v === undefined ? '' : n(v)}</td>`;
const tdUid = (v: unknown): string => `<td class="uid">${esc(v)}</td>`;
const sev = (s: AnalysisSeverity): string => `<span class="sev sev-${s}">${s}</span>`;

function table(
  head: readonly string[],
  rows: readonly (readonly string[])[],
  numeric: ReadonlySet<number> = new Set(),
): string {
  const th = head.map((h, i) => `<th${numeric.has(i) ? ' class="num"' : ''}>${esc(h)}</th>`).join('');
  return `<table><thead><tr>${th}</tr></thead><tbody>\n${rows.map((r) => `<tr>${r.join('')}</tr>`).join('\n')}\n</tbody></table>`;
}

function clean(r: BreakdownRow): number {
  return Math.max(0, r.studies - r.bySeverity.error - r.bySeverity.warning - r.bySeverity.info);
}

function barOf(r: BreakdownRow, label: string): Bar {
  return {
    label,
    segments: [
      { name: 'with errors', value: r.bySeverity.error, color: SEVERITY_COLORS.error },
      { name: 'with warnings (no error)', value: r.bySeverity.warning, color: SEVERITY_COLORS.warning },
      { name: 'info only', value: r.bySeverity.info, color: SEVERITY_COLORS.info },
      { name: 'no finding', value: clean(r), color: SEVERITY_COLORS.clean },
    ],
  };
}

function summary(r: AnalysisResult): string {
  const cards = [
    ['Studies', r.inventory.studies],
    ['Series', r.inventory.series],
    ['Instances', r.inventory.instances],
    ['Distinct copies read', r.sample.copiesKnown],
    ['Errors', r.bySeverity.error],
    ['Warnings', r.bySeverity.warning],
    ['Info', r.bySeverity.info],
  ]
    .map(
      ([k, v]) =>
        `<div class="card"><div class="muted small">${esc(k)}</div><div class="v">${n(v as number)}</div></div>`,
    )
    .join('');
  const s = r.sample;
  const sampleLine =
    s.perSeries === 0
      ? 'No sample was read by this run.'
      : `This run asked for ${n(s.requested)} instances (${s.perSeries === 'all' ? 'every instance' : `${n(s.perSeries)} per series`}) and read ${n(s.read)}; ${n(s.seriesCovered)} of ${n(r.inventory.series)} series have at least one copy read.`;
  return `<h2 id="summary">Summary</h2><div class="cards">${cards}</div>
<p>${esc(sampleLine)} ${r.inventory.recordedByMigration > 0 ? esc(`${n(r.inventory.recordedByMigration)} headers recorded by the migration were used too.`) : ''}</p>`;
}

function byCode(r: AnalysisResult): string {
  if (r.counts.length === 0) return `<h2 id="codes">Findings by code</h2><p>No finding.</p>`;
  const rows = r.counts.map((c) => [
    `<td><a href="#code-${c.code}">${esc(c.code)}</a></td>`,
    `<td>${sev(c.severity)}</td>`,
    td(c.title),
    tdNum(c.findings),
    tdNum(c.studies),
    td(FINDING_CODES[c.code].action),
  ]);
  return `<h2 id="codes">Findings by code</h2>${table(['code', 'severity', 'what', 'findings', 'studies', 'action'], rows, new Set([3, 4]))}`;
}

function codesOf(rows: readonly BreakdownRow[]): FindingCode[] {
  const set = new Set<FindingCode>();
  for (const r of rows) for (const c of Object.keys(r.byCode) as FindingCode[]) set.add(c);
  return (Object.keys(FINDING_CODES) as FindingCode[]).filter((c) => set.has(c));
}

function overTime(r: AnalysisResult): string {
  const rows = r.breakdown.byYear;
  if (rows.length === 0) return `<h2 id="years">Quality over time</h2><p>No study.</p>`;
  const chart = verticalBars(
    rows.map((y) => barOf(y, y.key)),
    { title: 'Studies per year (StudyDate) by worst finding', yLabel: 'studies' },
  );
  const totals = table(
    [
      'year',
      'studies',
      'with errors',
      'with warnings',
      'info only',
      'no finding',
      '% with errors or warnings',
    ],
    rows.map((y) => [
      td(y.key),
      tdNum(y.studies),
      tdNum(y.bySeverity.error),
      tdNum(y.bySeverity.warning),
      tdNum(y.bySeverity.info),
      tdNum(clean(y)),
      `<td class="num">${y.studies ? ((100 * (y.bySeverity.error + y.bySeverity.warning)) / y.studies).toFixed(0) : '0'}%</td>`,
    ]),
    new Set([1, 2, 3, 4, 5, 6]),
  );
  const codes = codesOf(rows);
  const matrix = table(
    ['code', ...rows.map((y) => y.key)],
    codes.map((c) => [td(c), ...rows.map((y) => tdNum(y.byCode[c] ?? null))]),
    new Set(rows.map((_, i) => i + 1)),
  );
  return `<h2 id="years">Quality over time</h2>
<p class="muted">Each study counts once per year, under its worst finding. The second table counts the studies each code touches.</p>
<div class="chart">${chart}</div>${totals}
<h3>Studies touched, by code and year</h3><div class="scroll">${matrix}</div>`;
}

function byDevice(r: AnalysisResult, maxDevices: number): string {
  const rows = r.breakdown.byDevice;
  if (rows.length === 0) return `<h2 id="devices">Quality by device</h2><p>No study.</p>`;
  const shown = rows.slice(0, maxDevices);
  const chart = horizontalBars(
    shown.map((d) => barOf(d, d.key)),
    {
      title: `Studies per device by worst finding${rows.length > shown.length ? ` (the ${shown.length} devices with most findings)` : ''}`,
    },
  );
  const body = rows.map((d) => [
    td(d.device?.vendor),
    td(d.device?.model),
    td(d.device?.software),
    td(d.device?.station),
    tdNum(d.studies),
    tdNum(d.bySeverity.error),
    tdNum(d.bySeverity.warning),
    tdNum(d.bySeverity.info),
    `<td class="codes">${esc(
      (Object.entries(d.byCode) as [FindingCode, number][])
        .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
        .map(([c, v]) => `${c} ${n(v)}`)
        .join(' · '),
    )}</td>`,
  ]);
  const devTable = table(
    [
      'vendor',
      'model',
      'software',
      'station',
      'studies',
      'with errors',
      'with warnings',
      'info only',
      'studies touched, by code',
    ],
    body,
    new Set([4, 5, 6, 7]),
  ).replace('<table>', '<table class="devices">');
  return `<h2 id="devices">Quality by device</h2>
<p class="muted">Device: Manufacturer (normalised to a vendor; the raw value is in analysis-by-device.csv) / ManufacturerModelName / SoftwareVersions / StationName of the study's series. A study with series from two devices counts for both.</p>
<div class="chart">${chart}</div>
${devTable}`;
}

function detailText(d: unknown): string {
  if (!d || typeof d !== 'object') return '';
  return Object.entries(d as Record<string, unknown>)
    .map(
      ([k, v]) =>
        `${k}: ${Array.isArray(v) ? v.map((x) => (typeof x === 'object' ? JSON.stringify(x) : String(x))).join(', ') : typeof v === 'object' && v !== null ? JSON.stringify(v) : String(v)}`,
    )
    .join('; ');
}

function findings(r: AnalysisResult, max: number): string {
  const parts = [`<h2 id="findings">Findings</h2>`];
  for (const c of r.counts) {
    const list = r.findings.filter((f) => f.code === c.code);
    const rows = list
      .slice(0, max)
      .map((f) => [
        tdUid(f.subject),
        tdNum(f.studyUids.length),
        tdUid(f.studyUids.slice(0, 3).join(' ') + (f.studyUids.length > 3 ? ' …' : '')),
        td(detailText(f.detail)),
      ]);
    parts.push(`<h3 id="code-${c.code}">${esc(c.code)} ${sev(c.severity)} — ${n(list.length)} ${list.length === 1 ? 'finding' : 'findings'}</h3>
<p class="muted">${esc(c.title)}. <b>Action:</b> ${esc(FINDING_CODES[c.code].action)}</p>
${table(['subject', 'studies', 'Study Instance UIDs', 'detail'], rows, new Set([1]))}${
      list.length > rows.length
        ? `<p class="muted small">${n(list.length - rows.length)} more: see analysis-findings.csv or analysis.json.</p>`
        : ''
    }`);
  }
  return parts.join('\n');
}

function corrections(r: AnalysisResult): string {
  const c = r.corrections;
  if (!c) return '';
  const head = `<h2 id="corrections">Patient corrections</h2>`;
  if (!c.loaded)
    return `${head}<p>The plan's transform could not be loaded: see <a href="#code-CORR_LOAD_ERROR">CORR_LOAD_ERROR</a>. Nothing was checked.</p>`;
  const rows = c.tables.map((t) => [
    td(t.id),
    td(t.kind === 'correction' ? 'correction table' : 'rule'),
    tdNum(t.rows),
    tdNum(t.rowsUsed),
    tdNum(t.studies),
    tdNum(t.instances),
  ]);
  return `${head}
<p class="muted">What the plan's transform would change in the source, instance by instance as the migration applies it: ${esc(n(c.studies))} studies and ${esc(n(c.instances))} instances would change. ${esc(n(c.judgedByHeader))} instances were judged by their own header (sample or migration), ${esc(n(c.judgedByInventory))} by their study's inventoried values. A change counts for the table or rule that makes it last.</p>
${table(['table / rule', 'kind', 'rows', 'rows used', 'studies changed', 'instances changed'], rows, new Set([2, 3, 4, 5]))}`;
}

function coverage(r: AnalysisResult, max: number): string {
  const p = r.sample.problems;
  if (p.length === 0) return '';
  return `<h2 id="sample">Sample not read</h2>
<p class="muted">Series whose sampled instances did not arrive (their header checks are missing; the inventory checks still apply).</p>
${table(
  ['Series Instance UID', 'Study Instance UID', 'missing', 'cause'],
  p.slice(0, max).map((x) => [tdUid(x.seriesUid), tdUid(x.studyUid), tdNum(x.missing), td(x.cause)]),
  new Set([2]),
)}`;
}

export function renderAnalysisHtml(r: AnalysisResult, o: AnalysisHtmlOptions): string {
  const max = o.maxRows ?? 200;
  const privacy = r.logPhi
    ? 'privacy.logPhi is on: findings show patient IDs, names and birth dates. Handle this report as patient data.'
    : 'No patient name, ID or birth date is shown: studies are named by UID and a PatientID group by a pseudonym (pid#…).';
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>pacshift analysis — ${esc(o.planName)}</title><style>${CSS}</style></head>
<body><main>
<h1>Source data quality: ${esc(o.planName)}</h1>
${o.description ? `<p>${esc(o.description)}</p>` : ''}
<p class="muted small">Analysis run ${n(r.runId)}, ${esc(when(r.finishedAt))}, ${esc(r.source === 'folder' ? 'folder source' : 'DICOM source')}. ${esc(privacy)}</p>
${summary(r)}
${byCode(r)}
${overTime(r)}
${byDevice(r, o.maxDevices ?? 25)}
${corrections(r)}
${findings(r, max)}
${coverage(r, max)}
<footer>Findings come from the inventory, the headers the migration recorded and the copies the analysis read; a series without a copy read is judged on its inventory only. ${esc(privacy)}</footer>
</main></body></html>
`;
}
