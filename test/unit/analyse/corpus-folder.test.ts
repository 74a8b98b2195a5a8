/**
 * `analyze` on the corpus as a folder source, with the default sample (one instance per series): every
 * copy of a SOP Instance UID held by several files is read, and MANIFEST.tsv's header_sha256 says
 * which are other content and which re-encoded copies. The outputs carry no patient name or ID unless
 * logPhi; the CLI writes them and prints the counts.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ANALYSIS_FILES,
  runAnalysis,
  writeAnalysisReport,
  type AnalysisResult,
} from '../../../src/analyse/index.js';
import { main } from '../../../src/cli/main.js';
import { runInventory, type InventorySummary } from '../../../src/inventory/index.js';
import { corpusDir, hasCorpus, manifest, type ManifestRow } from '../../harness/corpus.js';
import { testPlan, type TestPlan } from './fixtures.js';

const subjectsOf = (r: AnalysisResult, code: string): string[] =>
  r.findings
    .filter((f) => f.code === code)
    .map((f) => f.subject)
    .sort();

describe.skipIf(!hasCorpus())('analyze: the corpus as a folder source', () => {
  let plan: TestPlan;
  let inv: InventorySummary;
  let result: AnalysisResult;

  beforeAll(async () => {
    plan = await testPlan(`{ type: folder, path: ${JSON.stringify(corpusDir())} }`);
    inv = await runInventory(plan.ctx);
    result = await runAnalysis(plan.ctx);
  }, 240_000);

  afterAll(async () => {
    await plan?.stop();
  });

  it('reads one instance per series, plus every copy of a SOP Instance UID found in several files', () => {
    expect(inv.files?.duplicates).toBeGreaterThan(0);
    expect(result.sample.perSeries).toBe(1);
    expect(result.sample.seriesCovered).toBe(inv.series);
    expect(result.sample.problems).toEqual([]);
    expect(result.sample.read).toBe(result.sample.requested);
    // One per series, and the duplicates' files (some of which are the series' first instance).
    expect(result.sample.requested).toBeGreaterThan(inv.series);
    expect(result.sample.requested).toBeLessThanOrEqual(inv.series + 2 * inv.files!.duplicates);
  });

  it('tells other content from re-encoded copies exactly as header_sha256 does', () => {
    const unreadable = new Set(
      result.findings
        .filter((f) => f.code === 'FILE_UNREADABLE')
        .map((f) => String((f.detail as { path: string }).path)),
    );
    const bySop = new Map<string, ManifestRow[]>();
    for (const r of manifest())
      if (r.sopInstanceUid && !unreadable.has(r.path))
        bySop.set(r.sopInstanceUid, [...(bySop.get(r.sopInstanceUid) ?? []), r]);
    const groups = [...bySop.values()].filter((g) => g.length > 1);
    const conflicts = groups
      .filter((g) => new Set(g.map((r) => r.headerSha256)).size > 1)
      .map((g) => g[0]!.sopInstanceUid)
      .sort();
    const copies = groups
      .filter((g) => new Set(g.map((r) => r.headerSha256)).size === 1)
      .map((g) => g[0]!.sopInstanceUid)
      .sort();
    expect(conflicts.length).toBeGreaterThanOrEqual(2);
    expect(copies.length).toBeGreaterThanOrEqual(2);
    expect(subjectsOf(result, 'SOP_CONTENT_CONFLICT')).toEqual(conflicts);
    expect(subjectsOf(result, 'SOP_DUPLICATE_COPY')).toEqual(copies);
  });

  it('reports each file the inventory could not read', () => {
    expect(result.findings.filter((f) => f.code === 'FILE_UNREADABLE')).toHaveLength(inv.files!.unreadable);
  });

  it('counts by code agree with the findings, and the breakdowns cover every inventoried study', async () => {
    for (const c of result.counts) {
      const list = result.findings.filter((f) => f.code === c.code);
      expect(c.findings).toBe(list.length);
      expect(c.studies).toBe(new Set(list.flatMap((f) => f.studyUids)).size);
    }
    const sum = (rows: readonly { studies: number }[]) => rows.reduce((n, r) => n + r.studies, 0);
    expect(sum(result.breakdown.byYear)).toBe(inv.studies);
    expect(sum(result.breakdown.byDevice)).toBeGreaterThanOrEqual(inv.studies);
    // Years come from StudyDate; a study whose date is empty or not a calendar date is undated.
    const isDate = (d: string | null) => {
      const m = /^(\d{4})(\d{2})(\d{2})$/.exec(d ?? '');
      if (!m) return false;
      const t = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])));
      return t.getUTCMonth() === Number(m[2]) - 1 && t.getUTCDate() === Number(m[3]);
    };
    let undated = 0;
    for (
      let after: string | undefined, page;
      (page = await plan.ctx.store.pageStudies({ after })).length > 0;
      after = page.at(-1)!.studyUid
    )
      undated += page.filter((s) => !isDate(s.studyDate)).length;
    expect(result.breakdown.byYear.find((y) => y.key === 'undated')?.studies ?? 0).toBe(undated);
  });

  it('shows no patient name or ID unless logPhi (pseudonyms instead)', async () => {
    const dir = join(plan.dir, 'report');
    const files = await writeAnalysisReport(result, dir, { planName: 'test' });
    const text = Object.values(files)
      .map((p) => readFileSync(p, 'utf8'))
      .join('\n');
    // Values that cannot occur by chance in UIDs, codes or vendor names.
    const names = new Set(
      manifest()
        .map((r) => r.patientName.trim())
        .filter((n) => n.length >= 6 && /[A-Za-z]{2}[ ^][A-Za-z]/.test(n)),
    );
    const ids = new Set(
      manifest()
        .map((r) => r.patientId.trim())
        .filter((n) => n.length >= 6 && /[A-Za-z]/.test(n) && /\d/.test(n)),
    );
    expect(names.size).toBeGreaterThan(20);
    for (const v of [...names, ...ids]) expect(text.includes(v), v).toBe(false);
    expect(text).toMatch(/pid#[0-9a-f]{12}/);
  });

  it('pacshift analyze writes the report files and prints the counts (--json)', async () => {
    const out = join(plan.dir, 'cli-report');
    const logs: string[] = [];
    const log = console.log;
    console.log = (...a: unknown[]) => void logs.push(a.join(' '));
    let code: number;
    try {
      code = await main(['analyze', plan.planPath, '--out', out, '--json']);
    } finally {
      console.log = log;
    }
    expect(code).toBe(0);
    const printed = JSON.parse(logs.at(-1)!) as {
      runId: number;
      counts: { code: string; findings: number }[];
      files: Record<string, string>;
    };
    expect(printed.runId).toBeGreaterThan(result.runId);
    expect(printed.counts).toEqual(
      result.counts.map((c) => expect.objectContaining({ code: c.code, findings: c.findings })),
    );
    for (const name of Object.values(ANALYSIS_FILES)) expect(existsSync(join(out, name)), name).toBe(true);
    expect(await main(['analyze', plan.planPath, '--per-series', 'none'])).toBe(2);
  });
});
