/**
 * `runAnalysis(ctx)`: the source's data quality, from the state database and a sample the analysis
 * reads itself.
 *
 * 1. The inventory is paged through (studies, series, instances) into the evidence; the sample is
 *    chosen on the way (perSeries instances per series not read before, plus, for a folder source,
 *    every copy of a SOP Instance UID found in several files).
 * 2. The sample is read: files in place (folder source) or copies retrieved by C-GET / C-MOVE into a
 *    temporary folder (DICOM source); each copy's header, content digest and problems are recorded
 *    (analysis_headers: the migration's instance records are not touched).
 * 3. Every copy ever read, the headers recorded by the migration, and the inventory's and transfer's
 *    audit events join the evidence; the checks give findings; they are saved as an analysis run with
 *    counts by code and the breakdowns by year and device.
 */
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MigrationContext } from '../run/context.js';
import type { AuditEvent, Store } from '../state/index.js';
import type { AnalysisSeverity } from '../state/analysis-types.js';
import { breakdown, type Breakdown } from './breakdown.js';
import { runChecks, sortFindings, type Finding } from './checks/index.js';
import { CorrectionsEvidence, type CorrectionsSummary } from './checks/corrections.js';
import { loadTransformer } from '../transform/index.js';
import { FINDING_CODES, FINDING_CODE_LIST, type FindingCode } from './codes.js';
import { Evidence } from './evidence.js';
import { UNREADABLE_DIGEST } from './read-copy.js';
import { readDimseSample, readFolderSample, type SampleProgress, type SampleReport } from './read-sample.js';
import { SampleSelector, type SampleOptions, type SampleTarget } from './sample.js';
import { DEFAULT_OLDEST_PLAUSIBLE, tomorrowOf } from './study-date.js';

export interface AnalysisOptions {
  /** The sample the analysis reads itself; `false`: none (inventory and recorded headers only). */
  readonly sample?: SampleOptions | false;
  /** YYYYMMDD: earlier StudyDates are implausibly old (default 19700101). */
  readonly oldestStudyDate?: string;
  /** Default plan.privacy.logPhi. */
  readonly logPhi?: boolean;
  /** Where retrieved copies wait to be read (default <spool>/analysis). */
  readonly tempDir?: string;
  readonly signal?: AbortSignal;
  readonly onProgress?: (p: {
    phase: 'inventory' | 'sample' | 'checks';
    done: number;
    total?: number;
  }) => void;
}

export interface CodeCount {
  readonly code: FindingCode;
  readonly severity: AnalysisSeverity;
  readonly title: string;
  readonly findings: number;
  /** Distinct studies touched. */
  readonly studies: number;
}

export interface AnalysisResult {
  readonly runId: number;
  readonly startedAt: number;
  readonly finishedAt: number;
  readonly logPhi: boolean;
  readonly source: 'dimse' | 'folder';
  readonly inventory: {
    readonly studies: number;
    readonly series: number;
    readonly instances: number;
    /** Instances whose header the migration recorded while moving them. */
    readonly recordedByMigration: number;
  };
  readonly sample: SampleReport & {
    readonly perSeries: number | 'all' | 0;
    /** Copies read by this and earlier runs (distinct SOP Instance UID / content). */
    readonly copiesKnown: number;
    /** Series with at least one copy read. */
    readonly seriesCovered: number;
  };
  readonly counts: readonly CodeCount[];
  readonly bySeverity: Readonly<Record<AnalysisSeverity, number>>;
  readonly findings: readonly Finding[];
  readonly breakdown: Breakdown;
  /** The plan's correction tables against the source (absent when the plan has none). */
  readonly corrections?: CorrectionsSummary;
}

const PAGE = 1000;
const EVENT_KINDS = [
  'inventory.study-in-several-patients',
  'inventory.count-mismatch',
  'inventory.unreadable-file',
  'inventory.duplicate-instance',
  'instance.uid-conflict',
] as const;

async function eventsOf(store: Store, kind: string, since: number): Promise<AuditEvent[]> {
  const out: AuditEvent[] = [];
  for (let afterId = 0; ;) {
    const page = await store.listEvents({ kind, afterId, limit: PAGE });
    out.push(...page.filter((e) => e.at >= since));
    if (page.length < PAGE) return out;
    afterId = page[page.length - 1]!.id;
  }
}

export async function runAnalysis(
  ctx: MigrationContext,
  opts: AnalysisOptions = {},
): Promise<AnalysisResult> {
  const { plan, store } = ctx;
  const clock = store.clock;
  const startedAt = clock.now();
  const logPhi = opts.logPhi ?? plan.privacy.logPhi;
  const secret = await store.analysisSecret();
  const progress = opts.onProgress ?? (() => undefined);

  // Copies read before: the sample's quota counts them.
  const readBefore = new Map<string, Set<string>>();
  for (let afterId = 0; ;) {
    const page = await store.listAnalysisHeaders({ afterId, limit: PAGE });
    for (const h of page)
      if (h.seriesUid && !h.contentDigest.startsWith(UNREADABLE_DIGEST))
        readBefore.set(h.seriesUid, (readBefore.get(h.seriesUid) ?? new Set()).add(h.sopInstanceUid));
    if (page.length < PAGE) break;
    afterId = page[page.length - 1]!.id;
  }

  // The plan's correction tables (checked against what the source holds, below).
  let corr: CorrectionsEvidence | undefined;
  if (plan.transform.corrections.length > 0) {
    const t = await loadTransformer(plan.transform);
    corr = t.ok ? new CorrectionsEvidence(t.value) : new CorrectionsEvidence(undefined, t.error);
  }

  // 1. The inventory, and the sample chosen on the way.
  const ev = new Evidence();
  const sampleOpts = opts.sample === false ? undefined : (opts.sample ?? {});
  const selector = new SampleSelector(sampleOpts ?? { perSeries: 0 }, readBefore);
  let latestRun = 0;
  for (let after: string | undefined; ;) {
    const page = await store.pageStudies({ after, limit: PAGE });
    for (const s of page) {
      ev.addStudy(s);
      corr?.addStudy(s);
      latestRun = Math.max(latestRun, s.lastRunId ?? 0);
    }
    if (page.length < PAGE) break;
    after = page[page.length - 1]!.studyUid;
  }
  for (let after: string | undefined; ;) {
    const page = await store.pageSeries({ after, limit: PAGE });
    for (const s of page) ev.addSeries(s);
    if (page.length < PAGE) break;
    after = page[page.length - 1]!.seriesUid;
  }
  // Events of the latest inventory run (older ones may no longer hold) and of every transfer.
  const inventoryStart = latestRun > 0 ? ((await store.getInventoryRun(latestRun))?.startedAt ?? 0) : 0;
  for (const kind of EVENT_KINDS)
    for (const e of await eventsOf(store, kind, kind.startsWith('inventory.') ? inventoryStart : 0))
      ev.addEvent(e);
  let instances = 0;
  let recordedByMigration = 0;
  for (let after: string | undefined; ;) {
    const page = await store.pageInstances({ after, limit: PAGE });
    for (const i of page) {
      ev.addInstance(i);
      corr?.addInstance(i);
      selector.add(i);
      if (i.vanishedAt === null && i.firstSeenAt !== null) instances++;
      if (i.receivedAt !== null && i.header) recordedByMigration++;
    }
    progress({ phase: 'inventory', done: instances });
    if (page.length < PAGE) break;
    after = page[page.length - 1]!.sopInstanceUid;
  }

  // 2. The sample.
  let targets: SampleTarget[] = sampleOpts
    ? selector.targets((uid) => ev.series.get(uid)?.row?.modality ?? null)
    : [];
  let report: SampleReport = { requested: 0, read: 0, newContent: 0, problems: [] };
  const onSample = (p: SampleProgress) => progress({ phase: 'sample', done: p.done, total: p.total });
  if (plan.source.type === 'folder') {
    if (sampleOpts) targets = withFolderCopies(targets, ev);
    if (targets.length > 0)
      report = await readFolderSample(store, plan.source.path, targets, {
        onProgress: onSample,
        signal: opts.signal,
      });
  } else if (targets.length > 0) {
    if (!ctx.source) throw new Error('runAnalysis: the migration context has no source peer');
    const src = plan.source;
    report = await readDimseSample(
      store,
      targets,
      {
        peer: ctx.source,
        model: src.queryModel === 'patient-root' ? 'patient' : 'study',
        method: src.retrieve,
        move: {
          aeTitle: plan.local.aeTitle,
          port: plan.local.port,
          allow: plan.local.allow?.map((a) => ({ aeTitle: a.aeTitle, ...(a.host ? { host: a.host } : {}) })),
          destination: src.moveDestination,
        },
        tempDir: opts.tempDir ?? join(plan.spool.dir ?? tmpdir(), 'analysis'),
        timeoutMs: ctx.source.dimseTimeoutMs ?? 120_000,
      },
      { onProgress: onSample, signal: opts.signal },
    );
  }

  // 3. Every copy read, then the checks.
  let copiesKnown = 0;
  for (let afterId = 0; ;) {
    const page = await store.listAnalysisHeaders({ afterId, limit: PAGE });
    for (const h of page) {
      ev.addCopy(h);
      corr?.addCopy(h);
    }
    copiesKnown += page.length;
    if (page.length < PAGE) break;
    afterId = page[page.length - 1]!.id;
  }
  progress({ phase: 'checks', done: 0 });
  const today = tomorrowOf(clock.now());
  const checkContext = { secret, today, oldest: opts.oldestStudyDate ?? DEFAULT_OLDEST_PLAUSIBLE, logPhi };
  const corrections = corr?.check(checkContext);
  const findings = sortFindings([...runChecks(ev, checkContext), ...(corrections?.findings ?? [])]);
  const bd = breakdown(ev, findings, today);
  const counts = countsOf(findings);
  const bySeverity: Record<AnalysisSeverity, number> = { error: 0, warning: 0, info: 0 };
  for (const f of findings) bySeverity[f.severity]++;
  const seriesCovered = new Set([...ev.copies.values()].flatMap((cs) => cs.map((c) => c.seriesUid))).size;
  const sample = {
    ...report,
    perSeries: sampleOpts ? (sampleOpts.perSeries ?? 1) : (0 as const),
    copiesKnown,
    seriesCovered,
  };
  const inventory = {
    studies: [...ev.studies.values()].filter((s) => s.row).length,
    series: [...ev.series.values()].filter((s) => s.row).length,
    instances,
    recordedByMigration,
  };
  const runId = await store.saveAnalysisRun(
    {
      startedAt,
      params: {
        sample: sampleOpts
          ? { perSeries: sampleOpts.perSeries ?? 1, resample: sampleOpts.resample ?? false }
          : false,
        oldestStudyDate: opts.oldestStudyDate ?? DEFAULT_OLDEST_PLAUSIBLE,
        logPhi,
      },
      summary: JSON.parse(
        JSON.stringify({
          inventory,
          sample,
          counts,
          bySeverity,
          breakdown: bd,
          corrections: corrections?.summary,
        }),
      ),
    },
    findings,
  );
  return {
    runId,
    startedAt,
    finishedAt: clock.now(),
    logPhi,
    source: plan.source.type,
    inventory,
    sample,
    counts,
    bySeverity,
    findings,
    breakdown: bd,
    ...(corrections?.summary ? { corrections: corrections.summary } : {}),
  };
}

/** A folder source: add the files holding other copies of a SOP Instance UID (and its first copy). */
function withFolderCopies(targets: SampleTarget[], ev: Evidence): SampleTarget[] {
  const have = new Set(targets.map((t) => `${t.sopInstanceUid}|${t.path}`));
  const out = [...targets];
  const add = (t: SampleTarget) => {
    const k = `${t.sopInstanceUid}|${t.path}`;
    if (!have.has(k)) {
      have.add(k);
      out.push(t);
    }
  };
  for (const e of ev.events) {
    if (e.kind !== 'inventory.duplicate-instance' || !e.sopInstanceUid) continue;
    const d = e.detail && typeof e.detail === 'object' && !Array.isArray(e.detail) ? e.detail : {};
    const studyUid = e.studyUid ?? '';
    const first = ev.firstCopyPath(e.sopInstanceUid);
    const base = {
      studyUid,
      seriesUid: first?.seriesUid ?? '',
      sopInstanceUid: e.sopInstanceUid,
      sopClassUid: null,
      transferSyntaxUid: null,
    };
    if (typeof d.path === 'string') add({ ...base, path: d.path });
    if (first) add({ ...base, path: first.path });
  }
  return out;
}

function countsOf(findings: readonly Finding[]): CodeCount[] {
  const by = new Map<FindingCode, { n: number; studies: Set<string> }>();
  for (const f of findings) {
    const c = by.get(f.code) ?? { n: 0, studies: new Set<string>() };
    c.n++;
    for (const s of f.studyUids) c.studies.add(s);
    by.set(f.code, c);
  }
  return FINDING_CODE_LIST.filter((c) => by.has(c)).map((code) => ({
    code,
    severity: FINDING_CODES[code].severity,
    title: FINDING_CODES[code].title,
    findings: by.get(code)!.n,
    studies: by.get(code)!.studies.size,
  }));
}
