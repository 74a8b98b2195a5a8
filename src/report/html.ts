/**
 * The report as one self-contained HTML file (inline CSS, no scripts, no external assets) for the
 * project team and the PACS administrators: done or not and why, totals, failures grouped by code
 * with the action to take, quarantined objects, regressions, inventory completeness, changes in the
 * source, and one table per ledger status. Every value is escaped.
 */
import type { LedgerStatus, Throughput } from '../state/types.js';
import { STATUS_ORDER, STATUS_TITLES, type ReportData, type ReportStudy } from './collect.js';

export interface HtmlOptions {
  /** Rows per table before the rest is left to the CSV. Default 5000. */
  readonly maxRows?: number;
}

const ESC: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
export const esc = (v: unknown): string =>
  v === null || v === undefined ? '' : String(v).replace(/[&<>"']/g, (c) => ESC[c]!);
const n = (v: number): string => v.toLocaleString('en-US');
const when = (ms: number | null): string =>
  ms === null
    ? '—'
    : new Date(ms)
        .toISOString()
        .replace('T', ' ')
        .replace(/\.\d+Z$/, ' UTC');
const duration = (ms: number | null): string => {
  if (ms === null) return '—';
  const s = Math.round(ms / 1000);
  const d = Math.floor(s / 86400);
  const h = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  return d > 0
    ? `${d} d ${h} h`
    : h > 0
      ? `${h} h ${m} min`
      : m > 0
        ? `${m} min${s % 60 ? ` ${s % 60} s` : ''}`
        : `${s} s`;
};

const CSS = `
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,Arial,sans-serif;color:#1d2430;margin:0;background:#f5f6f8}
main{max-width:1200px;margin:0 auto;padding:24px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:18px;margin:32px 0 8px;border-bottom:1px solid #d5d9e0;padding-bottom:4px}
h3{font-size:15px;margin:20px 0 6px}.muted{color:#5b6575}.small{font-size:12px}
.banner{border-radius:8px;padding:16px 20px;margin:16px 0;color:#fff}
.banner b{font-size:20px}.done{background:#1e7d43}.notdone{background:#b3261e}.warn{background:#a15c00}
.banner ul{margin:8px 0 0 18px;padding:0}
table{border-collapse:collapse;width:100%;background:#fff;margin:6px 0 12px;font-size:13px}
th,td{border:1px solid #d5d9e0;padding:4px 8px;text-align:left;vertical-align:top}
th{background:#eceff3;font-weight:600}td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
td.uid{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:12px;word-break:break-all;min-width:18em}
.scroll{overflow-x:auto}.retry{color:#a15c00}
.cards{display:flex;flex-wrap:wrap;gap:10px;margin:8px 0}
.card{background:#fff;border:1px solid #d5d9e0;border-radius:6px;padding:8px 14px;min-width:130px}
.card .v{font-size:20px;font-weight:600}.card a{color:inherit;text-decoration:none}
.action{background:#fff8e6;border-left:4px solid #e0a100;padding:6px 10px;margin:4px 0 8px}
footer{margin-top:40px;font-size:12px;color:#5b6575}
`;

function table(
  head: readonly string[],
  rows: readonly (readonly string[])[],
  numeric: ReadonlySet<number> = new Set(),
): string {
  const th = head.map((h, i) => `<th${numeric.has(i) ? ' class="num"' : ''}>${esc(h)}</th>`).join('');
  const body = rows.map((r) => `<tr>${r.join('')}</tr>`).join('\n');
  return `<div class="scroll"><table><thead><tr>${th}</tr></thead><tbody>\n${body}\n</tbody></table></div>`;
}
const td = (v: unknown): string => `<td>${esc(v)}</td>`;
const tdNum = (v: number | null): string => `<td class="num">${v === null ? '' : n(v)}</td>`;
const tdUid = (v: unknown): string => `<td class="uid">${esc(v)}</td>`;

function more(total: number, shown: number): string {
  return total > shown
    ? `<p class="muted small">${n(total - shown)} more rows: see the CSV (ledger.csv) or JSON report.</p>`
    : '';
}

function banner(d: ReportData): string {
  const cls = !d.done.done ? 'notdone' : d.done.clean ? 'done' : 'warn';
  const title = !d.done.done
    ? 'NOT DONE'
    : d.done.clean
      ? 'DONE: every study is verified or excluded by a rule'
      : 'DONE, with failures: every study is accounted for, some failed with a cause';
  const reasons =
    d.done.reasons.length > 0 ? `<ul>${d.done.reasons.map((r) => `<li>${esc(r)}</li>`).join('')}</ul>` : '';
  const failed =
    d.done.done && !d.done.clean
      ? `<div>${n(d.summary.failed)} studies failed: see “Failures by code” below.</div>`
      : '';
  return `<div class="banner ${cls}"><b>${esc(title)}</b>${reasons}${failed}</div>`;
}

function rate(t: Throughput): string {
  const left =
    t.remainingInstances === 0
      ? 'nothing left'
      : `${n(t.remainingInstances)} instances left${t.etaMs === null ? '' : `, ETA ${duration(t.etaMs)}`}`;
  return `${t.instancesPerSec.toFixed(1)} instances/s, ${t.mbPerSec.toFixed(1)} MB/s over the last ${duration(t.windowMs)}; ${left}`;
}

function totals(d: ReportData): string {
  const cards = STATUS_ORDER.map(
    (s) =>
      `<div class="card"><a href="#status-${s}"><div class="muted small">${esc(STATUS_TITLES[s])}</div><div class="v">${n(d.summary[s])}</div></a></div>`,
  ).join('');
  const i = d.instances;
  const states = Object.entries(d.jobStates)
    .filter(([, v]) => v > 0)
    .map(([k, v]) => `${esc(k)} ${n(v)}`)
    .join(' · ');
  return `<h2 id="totals">Totals</h2>
<div class="cards"><div class="card"><div class="muted small">Studies</div><div class="v">${n(d.summary.total)}</div></div>${cards}</div>
${table(
  ['Instances', 'count'],
  [
    [td('reported by the source inventory'), tdNum(i.reported)],
    [td('received from the source'), tdNum(i.received)],
    [td('stored at the target'), tdNum(i.stored)],
    [td('verified at the target'), tdNum(i.verified)],
    [td('with a verification problem'), tdNum(i.withProblems)],
    [td('quarantined'), tdNum(i.quarantined)],
  ],
  new Set([1]),
)}
<p><b>Jobs by state:</b> ${states || 'none'}</p>
<p><b>Store:</b> ${esc(rate(d.throughput.store))}<br><b>Retrieve:</b> ${esc(rate(d.throughput.retrieve))}</p>`;
}

function failures(d: ReportData, max: number): string {
  if (d.failures.length === 0 && d.instanceFailures.length === 0)
    return `<h2 id="failures">Failures by code</h2><p>None.</p>`;
  const parts = [`<h2 id="failures">Failures by code</h2>`];
  for (const g of d.failures) {
    const rows = g.studies.slice(0, max).map((s) => [tdUid(s.studyUid), tdNum(s.attempts), td(s.cause)]);
    parts.push(
      `<h3>${esc(g.code)} — ${n(g.studies.length)} ${g.studies.length === 1 ? 'study' : 'studies'}</h3>
<p class="muted">${esc(g.meaning)}</p><div class="action"><b>Action:</b> ${esc(g.action)}</div>
${table(['Study Instance UID', 'attempts', 'cause'], rows, new Set([1]))}${more(g.studies.length, rows.length)}`,
    );
  }
  if (d.instanceFailures.length > 0) {
    parts.push(
      `<h3>Per-instance failures (history: distinct instances that met each at least once)</h3>
${table(
  ['phase', 'category', 'status', 'instances', 'action'],
  d.instanceFailures.map((f) => [
    td(f.phase),
    td(f.category),
    td(f.status),
    tdNum(f.instances),
    td(f.action),
  ]),
  new Set([3]),
)}`,
    );
  }
  return parts.join('\n');
}

function quarantine(d: ReportData, max: number): string {
  if (d.quarantine.length === 0) return `<h2 id="quarantine">Quarantined objects</h2><p>None.</p>`;
  const rows = d.quarantine
    .slice(0, max)
    .map((q) => [
      tdUid(q.sopInstanceUid),
      tdUid(q.studyUid),
      td(q.status === null ? '' : `0x${q.status.toString(16).toUpperCase().padStart(4, '0')}`),
      td(q.category),
      td(q.cause),
      tdUid(q.path),
      td(when(q.quarantinedAt)),
    ]);
  return `<h2 id="quarantine">Quarantined objects (${n(d.quarantine.length)})</h2>
<p class="muted">Objects the target refused, kept with their cause. They are not retried blindly: correct the cause, then requeue.</p>
${table(['SOP Instance UID', 'Study Instance UID', 'status', 'category', 'cause', 'kept at', 'when'], rows)}${more(d.quarantine.length, rows.length)}`;
}

function exceptions(d: ReportData, max: number): string {
  const c = d.exceptionCounts;
  const counts = `${n(c.open)} open, ${n(c.accepted)} accepted, ${n(c.resolved)} resolved (no longer found at the source)`;
  if (d.exceptions.length === 0)
    return `<h2 id="exceptions">Exceptions</h2><p>None standing (${esc(counts)}).</p>`;
  const rows = d.exceptions
    .slice(0, max)
    .map((e) => [
      tdNum(e.id),
      td(e.status),
      td(e.kind),
      tdUid(e.subject),
      td(e.code),
      td(e.cause),
      tdUid(e.studyUid),
      td(when(e.firstSeenAt)),
    ]);
  return `<h2 id="exceptions">Exceptions (${esc(counts)})</h2>
<p class="muted">What the source holds that cannot be migrated or proven: unreadable files, parts of the source no query covered. An open exception keeps the migration from DONE until it is fixed at the source (the next inventory resolves it) or accepted.</p>
${table(['id', 'status', 'kind', 'path / part', 'code', 'cause', 'Study Instance UID', 'first seen'], rows, new Set([0]))}${more(d.exceptions.length, rows.length)}`;
}

function transform(d: ReportData): string {
  const t = d.transform;
  if (t.applied.length === 0 && t.failures.length === 0) return '';
  const applied = t.applied.map((a) => [
    td(a.kind),
    td(a.id),
    tdNum(a.studies),
    tdNum(a.instances),
    tdNum(a.elements),
    td(
      Object.entries(a.keywords)
        .map(([k, c]) => `${k} ${n(c)}`)
        .join(', '),
    ),
  ]);
  const failed = t.failures.map((f) => [td(f.category), td(f.by), tdNum(f.studies), tdNum(f.instances)]);
  return `<h2 id="transform">Changes made by corrections and rules</h2>
<p class="muted">Every change is one event in the audit trail (<code>pacshift audit PLAN</code>; values with --phi). Only the named elements changed; every other byte of each instance is as the source sent it.</p>
${applied.length > 0 ? table(['kind', 'table / rule', 'studies', 'instances', 'elements changed', 'by keyword'], applied, new Set([2, 3, 4])) : '<p>No change made yet.</p>'}
${
  failed.length > 0
    ? `<h3>Instances a change could not be written into (quarantined, not sent)</h3>
<div class="action"><b>Action:</b> correct the table row or rule (e.g. a value the instance's character set cannot hold), then requeue the studies.</div>
${table(['cause', 'table / rule', 'studies', 'instances'], failed, new Set([2, 3]))}`
    : ''
}`;
}

function regressions(d: ReportData): string {
  if (d.regressions.length === 0) return '';
  return `<h2 id="regressions">Verified studies that failed a later re-verification (${n(d.regressions.length)})</h2>
<div class="action"><b>Action:</b> the target changed after verification (deletion, merge, reconciliation). Compare the instance outcomes in the JSON report, correct at the target or send again, then verify again.</div>
${table(
  ['Study Instance UID', 'verified', 'with problems'],
  d.studies
    .filter((s) => s.regressed)
    .map((s) => [tdUid(s.studyUid), tdNum(s.instancesVerified), tdNum(s.instancesWithProblems)]),
  new Set([1, 2]),
)}`;
}

function inventory(d: ReportData): string {
  const rows = d.inventory.map((r) => [
    tdNum(r.id),
    td(when(r.startedAt)),
    td(when(r.finishedAt)),
    td(r.complete === null ? 'running' : r.complete ? 'complete' : 'INCOMPLETE'),
    tdNum(r.queries),
    tdNum(r.completeQueries),
    tdNum(r.splitQueries),
    tdNum(r.uncovered),
  ]);
  return `<h2 id="inventory">Inventory completeness</h2>
<p class="muted">A run is complete when every C-FIND answer was complete, or was capped and split into parts that all completed. Studies beyond an uncovered cap are not in the ledger.</p>
${rows.length > 0 ? table(['run', 'started', 'finished', 'result', 'queries', 'complete', 'split', 'uncovered'], rows, new Set([0, 4, 5, 6, 7])) : '<p>No inventory run yet.</p>'}`;
}

function changes(d: ReportData, max: number): string {
  if (d.changes.length === 0)
    return `<h2 id="changes">Changes in the source since the first inventory</h2><p>No later inventory run.</p>`;
  const parts = [`<h2 id="changes">Changes in the source since the first inventory</h2>`];
  for (const c of d.changes) {
    const counts = Object.entries(c.counts)
      .map(([k, v]) => `${esc(k)}: ${n(v)}`)
      .join(' · ');
    const rows = c.changes
      .slice(0, max)
      .map((x) => [
        td(x.level),
        td(x.kind),
        tdUid(x.uid),
        tdUid(x.studyUid),
        td((x.fields ?? []).join(', ')),
      ]);
    parts.push(
      `<h3>Run ${n(c.runId)}</h3><p>${counts || 'no change'}</p>${rows.length > 0 ? table(['level', 'change', 'UID', 'study', 'fields'], rows) : ''}`,
    );
  }
  return parts.join('\n');
}

function studyColumns(logPhi: boolean): { head: string[]; row: (s: ReportStudy) => string[] } {
  const head = [
    'Study Instance UID',
    'rule',
    'job state',
    'attempts',
    'code',
    'cause',
    'reported',
    'received',
    'stored',
    'verified',
    'problems',
    'quarantined',
  ];
  const phiHead = ['PatientID', 'PatientName', 'BirthDate', 'AccessionNumber'];
  return {
    head: logPhi ? [...head, ...phiHead] : head,
    row: (s) => {
      const base = [
        tdUid(s.studyUid),
        td([s.ruleId, s.ruleDescription].filter(Boolean).join(': ')),
        td(s.jobState),
        tdNum(s.attempts),
        s.errorCode === null && s.lastErrorCode
          ? `<td class="retry">${esc(s.lastErrorCode)} (retrying)</td>`
          : td(s.errorCode),
        td(s.error ?? s.lastError),
        tdNum(s.instancesReported),
        tdNum(s.instancesReceived),
        tdNum(s.instancesStored),
        tdNum(s.instancesVerified),
        tdNum(s.instancesWithProblems),
        tdNum(s.instancesQuarantined),
      ];
      if (!logPhi) return base;
      return [
        ...base,
        td(s.phi?.patientId),
        td(s.phi?.patientName),
        td(s.phi?.patientBirthDate),
        td(s.phi?.accessionNumber),
      ];
    },
  };
}

function ledgerTables(d: ReportData, max: number): string {
  const cols = studyColumns(d.logPhi);
  const numeric = new Set([3, 6, 7, 8, 9, 10, 11]);
  return STATUS_ORDER.map((status: LedgerStatus) => {
    const list = d.studies.filter((s) => s.status === status);
    const rows = list.slice(0, max).map(cols.row);
    return `<h2 id="status-${status}">${esc(STATUS_TITLES[status])} (${n(list.length)})</h2>${
      rows.length > 0 ? table(cols.head, rows, numeric) + more(list.length, rows.length) : '<p>None.</p>'
    }`;
  }).join('\n');
}

export function renderHtml(d: ReportData, opts: HtmlOptions = {}): string {
  const max = opts.maxRows ?? 5000;
  const privacy = d.logPhi
    ? 'privacy.logPhi is on: this report shows patient IDs, names, birth dates and accession numbers. Handle it as patient data.'
    : 'Patient names, IDs, birth dates and accession numbers are left out (privacy.logPhi is off); studies are named by their Study Instance UID.';
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>pacshift report — ${esc(d.plan.name)}</title><style>${CSS}</style></head>
<body><main>
<h1>Migration report: ${esc(d.plan.name)}</h1>
${d.plan.description ? `<p>${esc(d.plan.description)}</p>` : ''}
<p class="muted small">Generated ${esc(when(d.generatedAt))} by pacshift. ${esc(privacy)}</p>
${banner(d)}
${totals(d)}
${failures(d, max)}
${exceptions(d, max)}
${quarantine(d, max)}
${transform(d)}
${regressions(d)}
${inventory(d)}
${changes(d, max)}
${ledgerTables(d, max)}
<footer>Definition of done: an inventory run finished (complete, or with what it could not list as exceptions), every inventoried study is verified at the target, excluded by a rule, or failed with its cause, and no exception is open. ${esc(privacy)}</footer>
</main></body></html>
`;
}
