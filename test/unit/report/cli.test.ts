/**
 * `pacshift verify | status | report` end to end on a plan whose target is a folder: the store is
 * filled as the transfer would have, the folder holds the copies (one changed), and the commands
 * answer from the state database.
 */
import { copyFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { main } from '../../../src/cli/main.js';
import { hasCorpus } from '../../../src/util/corpus.js';
import { corpusDir } from '../../harness/corpus.js';
import { fillStoreAsTransferred, recordFiles } from '../../harness/migrated-store.js';
import { makeTempDir, removeTempDir } from '../../harness/tmp.js';
import { openTestMigration, patchElement } from '../verify/fixtures.js';

const FILES = [
  'dcm_qa/dcm_qa_nih/20180918Si/mr_0003/epi_pe_ap-00001.dcm',
  'dcm_qa/dcm_qa_nih/20180918Si/mr_0003/epi_pe_ap-00002.dcm',
  'orthanc-tests/HierarchicalAnonymization/2019-03-28/CR000000.dcm',
  'orthanc-tests/HierarchicalAnonymization/2019-03-28/PR000000.dcm',
];

async function cli(args: string[]): Promise<{ code: number; out: string }> {
  const lines: string[] = [];
  const log = vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void lines.push(a.join(' ')));
  const error = vi
    .spyOn(console, 'error')
    .mockImplementation((...a: unknown[]) => void lines.push(a.join(' ')));
  try {
    const code = await main(args);
    return { code, out: lines.join('\n') };
  } finally {
    log.mockRestore();
    error.mockRestore();
  }
}

describe.skipIf(!hasCorpus())('pacshift verify, status, report (folder target)', () => {
  let tmp: string;
  let plan: string;
  let studies: string[];

  beforeAll(async () => {
    tmp = makeTempDir('cli-report');
    const target = join(tmp, 'target');
    mkdirSync(target);
    const sent = await recordFiles(FILES.map((f) => join(corpusDir(), f)));
    FILES.forEach((f, i) => copyFileSync(join(corpusDir(), f), join(target, `${i}.dcm`)));
    await patchElement(join(target, '1.dcm'), 'InstanceNumber', '42');
    const ctx = await openTestMigration(tmp, { folder: target }, { verify: { sample: { percent: 100 } } });
    studies = await fillStoreAsTransferred(ctx.store, sent);
    await ctx.close();
    plan = join(tmp, 'plan.yaml');
  }, 60_000);
  afterAll(() => removeTempDir(tmp));

  it('status before verification: stored, not done, as text and JSON', async () => {
    const text = await cli(['status', plan]);
    expect(text.code).toBe(0);
    expect(text.out).toMatch(/^verify-test: NOT DONE/);
    expect(text.out).toContain('under way stored 2');
    expect(text.out).toContain('not done: 2 studies are stored but not verified');
    const json = await cli(['status', plan, '--json']);
    const s = JSON.parse(json.out);
    expect(s).toMatchObject({
      done: false,
      jobs: { stored: 2, verified: 0 },
      studies: { 'migrated-not-verified': 2, total: 2 },
    });
    expect(s.throughput.store.instances).toBe(4);
  });

  it('verify: the changed copy fails its study, the other is verified; exit code 1', async () => {
    const r = await cli(['verify', plan, '--json']);
    expect(r.code).toBe(1);
    const summary = JSON.parse(r.out);
    expect(summary).toMatchObject({ studies: 2, verified: 1, withProblems: 1, sampled: 2 });
    expect(summary.instances).toMatchObject({ verified: 3, 'attribute-mismatch': 1 });
    expect(summary.problems).toEqual([
      expect.objectContaining({ studyUid: studies[0], code: 'VERIFY_ATTRIBUTE_MISMATCH' }),
    ]);
    // re-verification: --due takes the plan's rerunEvery (7 days: nothing due), --again every verified study
    expect(JSON.parse((await cli(['verify', plan, '--due', '--json'])).out)).toMatchObject({ studies: 0 });
    const again = await cli(['verify', plan, '--again', '--json']);
    expect(again.code).toBe(0);
    expect(JSON.parse(again.out)).toMatchObject({ studies: 1, reverified: 1, regressions: 0 });
    expect((await cli(['verify', plan, '--due', '--again'])).code).toBe(2);
    expect((await cli(['verify', plan, '--older-than', '7d'])).code).toBe(2);
  });

  it('report: writes the three files; every study accounted for, one failed: DONE, with failures', async () => {
    const r = await cli(['report', plan, '--check']);
    expect(r.out).toMatch(/^verify-test: DONE, with failures/);
    // --check: 0 only when DONE and clean (src/cli/exit-codes.ts).
    expect(r.code).toBe(1);
    for (const f of ['report.html', 'ledger.csv', 'report.json'])
      expect(existsSync(join(tmp, 'report', f))).toBe(true);
    const html = readFileSync(join(tmp, 'report', 'report.html'), 'utf8');
    expect(html).toContain('VERIFY_ATTRIBUTE_MISMATCH');
    expect(html).toContain(studies[0]);
    const only = await cli(['report', plan, '--out', join(tmp, 'r2'), '--format', 'csv', '--json']);
    expect(JSON.parse(only.out).files).toEqual({ csv: join(tmp, 'r2', 'ledger.csv') });
    expect((await cli(['report', plan, '--format', 'pdf'])).code).toBe(2);
    expect((await cli(['status'])).code).toBe(2);
    expect((await cli(['status', join(tmp, 'nope.yaml')])).code).toBe(2);
  });
});
