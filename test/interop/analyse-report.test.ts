/**
 * The analysis report as people see it: the corpus analysed (folder source), analysis.html rendered
 * by headless Chromium (Debian's `chromium`) into a screenshot. The page is self-contained (inline
 * CSS and SVG, no script, no external asset) and shows the charts by year and by device.
 * PACSHIFT_KEEP_SCREENSHOT=<file.png> keeps a copy of the screenshot for a look.
 */
import { copyFileSync, existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runAnalysis, writeAnalysisReport, type AnalysisResult } from '../../src/analyse/index.js';
import { runInventory } from '../../src/inventory/index.js';
import { corpusDir, hasCorpus } from '../harness/corpus.js';
import { runTool } from '../harness/process.js';
import { makeTempDir, removeTempDir } from '../harness/tmp.js';
import { testPlan, type TestPlan } from '../unit/analyse/fixtures.js';

const CHROMIUM = '/usr/bin/chromium';

/** Width and height from a PNG's IHDR chunk. */
function pngSize(b: Buffer): { width: number; height: number } {
  expect(b.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))).toBe(true);
  expect(b.toString('latin1', 12, 16)).toBe('IHDR');
  return { width: b.readUInt32BE(16), height: b.readUInt32BE(20) };
}

describe.skipIf(!hasCorpus() || !existsSync(CHROMIUM))('analysis report in headless Chromium', () => {
  let plan: TestPlan;
  let result: AnalysisResult;
  let html: string;
  let shots: string;

  beforeAll(async () => {
    plan = await testPlan(`{ type: folder, path: ${JSON.stringify(corpusDir())} }`);
    await runInventory(plan.ctx);
    result = await runAnalysis(plan.ctx);
    const files = await writeAnalysisReport(result, join(plan.dir, 'report'), {
      planName: 'corpus',
      description: 'The shared test corpus as a folder source',
    });
    html = files.html;
    shots = makeTempDir('chromium');
  }, 240_000);

  afterAll(async () => {
    if (shots) removeTempDir(shots);
    await plan?.stop();
  });

  it('is self-contained and carries both charts', () => {
    const text = readFileSync(html, 'utf8');
    expect(text).not.toMatch(/<script|<link|<img|src=|url\(/i);
    expect(text).not.toMatch(/href="(?!#)/);
    const svgs = text.match(/<svg[^>]*aria-label="([^"]+)"/g) ?? [];
    expect(svgs.length).toBe(2);
    expect(text).toContain('Studies per year (StudyDate) by worst finding');
    expect(text).toContain('Studies per device by worst finding');
    // One bar per year and per device shown, each with a tooltip naming its numbers.
    const years = result.breakdown.byYear.length;
    const devices = Math.min(25, result.breakdown.byDevice.length);
    expect((text.match(/<g><title>/g) ?? []).length).toBe(years + devices);
  });

  it('renders into a non-trivial screenshot', { timeout: 120_000 }, async () => {
    const png = join(shots, 'analysis.png');
    const r = await runTool(
      CHROMIUM,
      [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        `--user-data-dir=${join(shots, 'profile')}`,
        `--screenshot=${png}`,
        '--window-size=1280,2000',
        `file://${html}`,
      ],
      { timeoutMs: 100_000 },
    );
    expect(r.timedOut, r.stderr.slice(-2000)).toBe(false);
    expect(existsSync(png), r.stderr.slice(-2000)).toBe(true);
    const b = readFileSync(png);
    expect(pngSize(b)).toEqual({ width: 1280, height: 2000 });
    // A blank or unstyled page compresses to a few KiB; tables, colours and the year chart do not.
    expect(statSync(png).size).toBeGreaterThan(60_000);
    if (process.env.PACSHIFT_KEEP_SCREENSHOT) copyFileSync(png, process.env.PACSHIFT_KEEP_SCREENSHOT);
  });
});
