/**
 * `pacshift preflight` and `pacshift sample` in-process (src/cli/main.ts): a folder source plan over
 * corpus files read in place, the built-in archive as the target; output, --json, report files, exit
 * codes, no patient data in the text.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startArchive, type Archive } from '../../../src/archive/archive.js';
import { main } from '../../../src/cli/main.js';
import { hasCorpus } from '../../../src/util/corpus.js';
import { corpusDir, manifest } from '../../harness/corpus.js';
import { makeTempDir, removeTempDir } from '../../harness/tmp.js';

async function pacshift(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const log = vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void out.push(a.join(' ')));
  const error = vi
    .spyOn(console, 'error')
    .mockImplementation((...a: unknown[]) => void err.push(a.join(' ')));
  try {
    const code = await main(argv);
    return { code, out: out.join('\n'), err: err.join('\n') };
  } finally {
    log.mockRestore();
    error.mockRestore();
  }
}

describe.skipIf(!hasCorpus())('pacshift preflight and sample', () => {
  let dir: string;
  let target: Archive;
  let plan: string;
  const source = () => join(corpusDir(), 'orthanc-tests');

  beforeAll(async () => {
    dir = makeTempDir('preflight-cli');
    target = await startArchive({
      dir: join(dir, 'target'),
      port: 0,
      host: '127.0.0.1',
      aeTitle: 'TARGET',
      acceptTransferSyntaxes: ['1.2.840.10008.1.2.1', '1.2.840.10008.1.2'],
    });
    plan = join(dir, 'plan.yaml');
    writeFileSync(
      plan,
      JSON.stringify({
        name: 'cli',
        version: 1,
        source: { type: 'folder', path: source() },
        target: { type: 'dimse', host: '127.0.0.1', port: target.port, calledAe: 'TARGET' },
        state: { sqlite: join(dir, 'state.sqlite') },
        report: { dir: join(dir, 'report') },
      }),
    );
    expect((await pacshift('inventory', plan)).code).toBe(0);
  });
  afterAll(async () => {
    await target?.close();
    removeTempDir(dir);
  });

  const names = () =>
    manifest()
      .filter((r) => r.path.startsWith('orthanc-tests/'))
      .map((r) => r.patientName)
      .filter((n) => n.length > 3);

  it('preflight PLAN: sized text, the full report as JSON beside the plan, exit 1 when refusals are predicted', async () => {
    const r = await pacshift('preflight', plan, '--profile', 'lenient');
    expect(r.code).toBe(1); // compressed syntaxes the target refuses, at least
    expect(r.out).toMatch(/pre-flight \(lenient target profile\): \d+ objects checked/);
    expect(r.out).toMatch(/transfer-syntax-refused\s+refuse/);
    const file = join(dir, 'report', 'preflight.json');
    expect(existsSync(file)).toBe(true);
    const json = JSON.parse(readFileSync(file, 'utf8'));
    expect(json.sampling).toBe('one-per-series');
    for (const n of names()) expect(r.out).not.toContain(n);
  });

  it('preflight --files DIR --target: files checked directly, --json', async () => {
    const r = await pacshift(
      'preflight',
      '--files',
      source(),
      '--target',
      `TARGET@127.0.0.1:${target.port}`,
      '--json',
    );
    const json = JSON.parse(r.out);
    expect(json.sampling).toBe('files');
    expect(json.target.probed).toBe(true);
    expect(json.checked.objects).toBeGreaterThan(5);
    expect(r.code).toBe(json.predicted.refuse.objects > 0 ? 1 : 0);
  });

  it('bad command lines are usage errors', async () => {
    expect((await pacshift('preflight')).code).toBe(2);
    expect((await pacshift('preflight', '--files', source())).code).toBe(2); // no target, no --no-probe
    expect((await pacshift('preflight', plan, '--profile', 'picky')).code).toBe(2);
    expect((await pacshift('sample')).code).toBe(2);
  });

  it('sample PLAN: the pilot list beside the plan; --migrate needs DIMSE peers', async () => {
    const r = await pacshift('sample', plan);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/combinations in \d+ in-scope studies/);
    const list = readFileSync(join(dir, 'report', 'pilot-studies.txt'), 'utf8')
      .split('\n')
      .filter((l) => l && !l.startsWith('#'));
    expect(list.length).toBeGreaterThan(0);
    expect(list.every((l) => /^[0-9.]+$/.test(l))).toBe(true);
    const j = JSON.parse((await pacshift('sample', plan, '--json', '--out', join(dir, 'p.txt'))).out);
    expect(j.sample.pilot.map((p: { studyUid: string }) => p.studyUid)).toEqual(list);
    const m = await pacshift('sample', plan, '--migrate');
    expect(m.code).toBe(2);
    expect(m.err).toMatch(/DIMSE source and a DIMSE target/);
    const cov = await pacshift('sample', plan, '--coverage');
    expect(cov.code).toBe(1); // nothing migrated: every combination not tried
    expect(cov.out).toMatch(/0 verified, 0 failed, 0 migrated not verified, \d+ not tried/);
  });
});
