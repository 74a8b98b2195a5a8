/**
 * The init, check, inventory and scope commands, run in-process (src/cli/main.ts) against the
 * built-in archive serving the corpus: output, --json, exit codes, no patient data unless allowed.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { main } from '../../../src/cli/main.js';
import { loadPlan } from '../../../src/plan/index.js';
import { hasCorpus, manifest } from '../../harness/corpus.js';
import { freePort } from '../../harness/ports.js';
import { makeTempDir, removeTempDir } from '../../harness/tmp.js';
import { type CorpusArchive, startCorpusArchive } from '../archive/fixtures.js';

/** Runs `pacshift …`; returns the exit code and what went to stdout and stderr. */
async function pacshift(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const log = vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void out.push(a.join(' ')));
  const error = vi
    .spyOn(console, 'error')
    .mockImplementation((...a: unknown[]) => void err.push(a.join(' ')));
  const write = vi
    .spyOn(process.stdout, 'write')
    .mockImplementation((s: string | Uint8Array) => (out.push(String(s)), true));
  try {
    const code = await main(argv);
    return { code, out: out.join('\n'), err: err.join('\n') };
  } finally {
    log.mockRestore();
    error.mockRestore();
    write.mockRestore();
  }
}

describe('pacshift init', () => {
  let dir: string;
  beforeAll(() => {
    dir = makeTempDir('init');
  });
  afterAll(() => removeTempDir(dir));

  it('writes the commented example named after the file, which loads back, and never overwrites without --force', async () => {
    const path = join(dir, 'site-a.yaml');
    const first = await pacshift('init', path);
    expect(first.code).toBe(0);
    const text = readFileSync(path, 'utf8');
    expect(text).toMatch(/^name: site-a$/m);
    expect(text).toMatch(/^# Why: /m);
    const plan = loadPlan(path);
    expect(plan.ok && plan.value.name).toBe('site-a');

    writeFileSync(path, 'mine');
    const again = await pacshift('init', path, '--json');
    expect(again.code).toBe(1);
    expect(JSON.parse(again.out)).toMatchObject({ ok: false, path });
    expect(readFileSync(path, 'utf8')).toBe('mine');
    expect((await pacshift('init', path, '--force')).code).toBe(0);
    expect(readFileSync(path, 'utf8')).toBe(text);

    const stdout = await pacshift('init', '--stdout', '--name', 'x1');
    expect(stdout.out).toMatch(/^name: x1$/m);
    expect((await pacshift('init')).code).toBe(2);
  });
});

describe.skipIf(!hasCorpus())('pacshift check, inventory, scope against the built-in archive', () => {
  let archive: CorpusArchive;
  let dir: string;
  let localPort: number;
  const plan = (name: string, source: string, extra = '') => {
    const path = join(dir, `${name}.yaml`);
    writeFileSync(
      path,
      `name: ${name}\nversion: 1\nlocal: { aeTitle: PACSHIFT, host: 127.0.0.1, port: ${localPort} }\nsource: ${source}\ntarget: { type: folder, path: ./target-${name} }\n${extra}`,
    );
    return path;
  };
  const dimse = (more = '') =>
    `{ type: dimse, host: 127.0.0.1, port: ${archive.archive.port}, calledAe: ARCHIVE${more} }`;

  beforeAll(async () => {
    dir = makeTempDir('commands');
    localPort = await freePort();
    // The archive knows PACSHIFT as a move destination, not OTHER.
    archive = await startCorpusArchive({ peers: { PACSHIFT: { host: '127.0.0.1', port: localPort } } });
  });
  afterAll(async () => {
    await archive?.stop();
    removeTempDir(dir);
  });
  afterEach(() => vi.restoreAllMocks());

  it('check: passes a ready plan, names the checks, proves the move destination is known', async () => {
    const r = await pacshift('check', plan('ready', dimse()), '--json');
    expect(r.code).toBe(0);
    const j = JSON.parse(r.out) as {
      ok: boolean;
      checks: { name: string; outcome: string; status?: string }[];
    };
    expect(j.ok).toBe(true);
    expect(j.checks.map((c) => [c.name, c.outcome])).toEqual([
      ['files', 'pass'],
      ['state', 'pass'],
      ['listener', 'pass'],
      ['source echo', 'pass'],
      ['source find', 'pass'],
      ['source move-destination', 'pass'],
      ['target folder', 'pass'],
    ]);
    expect(j.checks.find((c) => c.name === 'source move-destination')?.status).toBe('0x0000');
    const text = await pacshift('check', plan('ready', dimse()));
    expect(text.out).toMatch(/^ok\s+source move-destination\s+C-MOVE to PACSHIFT accepted/m);
    expect(text.out).toMatch(/^ready$/m);
  });

  it('check: fails with A801 when the source does not know the move destination, exit 1', async () => {
    const r = await pacshift('check', plan('unknown-dest', dimse(', moveDestination: OTHER')));
    expect(r.code).toBe(1);
    expect(r.out).toMatch(
      /^FAIL\s+source move-destination\s+the source does not know OTHER as a move destination \(A801\)/m,
    );
    expect(r.out).toMatch(/^NOT ready/m);
  });

  it('check --move-test: one real instance moved to our listener proves C-MOVE end to end', async () => {
    const r = await pacshift('check', plan('ready', dimse()), '--move-test', '--json');
    expect(r.code).toBe(0);
    const j = JSON.parse(r.out) as { checks: { name: string; outcome: string; detail: string }[] };
    const rt = j.checks.find((c) => c.name === 'source move-round-trip')!;
    expect(rt.outcome).toBe('pass');
    expect(rt.detail).toMatch(/^instance \S+ arrived at PACSHIFT \(127\.0\.0\.1:\d+\) from ARCHIVE/);
    expect(archive.archive.stats.subOperations.completed).toBeGreaterThan(0);
  });

  it('check --move-test: fails when the source holds a wrong address for us, though it knows the title', async () => {
    const wrong = await startCorpusArchive({
      peers: { PACSHIFT: { host: '127.0.0.1', port: await freePort() } },
    });
    try {
      const path = plan(
        'wrong-address',
        `{ type: dimse, host: 127.0.0.1, port: ${wrong.archive.port}, calledAe: ARCHIVE }`,
      );
      const r = await pacshift('check', path, '--move-test');
      expect(r.code).toBe(1);
      expect(r.out).toMatch(/^ok\s+source move-destination/m);
      expect(r.out).toMatch(
        /^FAIL\s+source move-round-trip\s+C-MOVE of instance \S+ answered 0x[0-9A-F]{4} \(completed 0, failed 1\) but nothing arrived/m,
      );
    } finally {
      await wrong.stop();
    }
  });

  it('check: exit 2 for an invalid plan, 3 for a source nobody answers at', async () => {
    const bad = join(dir, 'bad.yaml');
    writeFileSync(
      bad,
      'name: bad\nversion: 1\nsource: { type: dimse, host: 127.0.0.1, port: 0, calledAe: X }\n',
    );
    const invalid = await pacshift('check', bad);
    expect(invalid.code).toBe(2);
    expect(invalid.err).toMatch(/source\.port/);
    const nobody = await freePort();
    const r = await pacshift(
      'check',
      plan('nobody', `{ type: dimse, host: 127.0.0.1, port: ${nobody}, calledAe: X }`),
      '--json',
    );
    expect(r.code).toBe(3);
    const j = JSON.parse(r.out) as { checks: { name: string; outcome: string }[] };
    expect(j.checks.find((c) => c.name === 'source echo')?.outcome).toBe('fail');
    expect(j.checks.some((c) => c.name === 'source find')).toBe(false);
  });

  it('inventory: prints the summary, --json the same numbers; exit 0 when complete, 1 when not', async () => {
    const path = plan('inv', dimse());
    const text = await pacshift('inventory', path);
    expect(text.code).toBe(0);
    expect(text.out).toMatch(/^inventory run 1 of ARCHIVE@127\.0\.0\.1:\d+: COMPLETE$/m);
    const studies = new Set(manifest().map((r) => r.studyInstanceUid)).size;
    expect(text.out).toMatch(/^ {2}found {6}\d+ studies · \d+ series · \d+ instances/m);
    const again = await pacshift('inventory', path, '--json');
    expect(again.code).toBe(0);
    const j = JSON.parse(again.out) as {
      runId: number;
      complete: boolean;
      studies: number;
      changes: { study: { new: number } };
    };
    expect(j).toMatchObject({ runId: 2, complete: true });
    expect(j.studies).toBeLessThanOrEqual(studies);
    expect(j.changes.study.new).toBe(0);
    expect(text.out).toMatch(new RegExp(`^ {2}found {6}${j.studies} studies`, 'm'));
    // No patient data in what is printed.
    const names = new Set(
      manifest()
        .map((r) => r.patientName)
        .filter((n) => n.length > 3),
    );
    for (const n of names) expect(text.out).not.toContain(n);

    const capped = await startCorpusArchive({ findLimit: 5 });
    try {
      const r = await pacshift(
        'inventory',
        plan(
          'inv-capped',
          `{ type: dimse, host: 127.0.0.1, port: ${capped.archive.port}, calledAe: ARCHIVE }`,
        ),
      );
      expect(r.code).toBe(1);
      expect(r.out).toMatch(/: INCOMPLETE: \d+ recorded queries not covered$/m);
      expect(r.out).toMatch(/capped \(split\)/);
    } finally {
      await capped.stop();
    }
    expect((await pacshift('inventory', path, '--undated-keys', 'Foo')).code).toBe(2);
  });

  it('scope: prints the per-rule table; --list shows UIDs and rules, patient data only with --log-phi', async () => {
    const path = plan(
      'inv',
      dimse(),
      `scope:\n  rules:\n    - { id: no-sr, action: exclude, description: reports stay, match: { modality: [SR] } }\n`,
    );
    const r = await pacshift('scope', path);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^ {2}rule\s+action\s+studies\s+instances$/m);
    expect(r.out).toMatch(/^ {2}no-sr\s+exclude\s+\d+\s+\d+$/m);
    expect(r.out).toMatch(/^ {2}\(default\)\s+include\s+\d+\s+\d+$/m);
    const j = JSON.parse((await pacshift('scope', path, '--json', '--dry-run')).out) as {
      rules: { ruleId: string; studies: number }[];
      studies: number;
      dryRun: boolean;
    };
    expect(j.dryRun).toBe(true);
    expect(j.rules.reduce((a, x) => a + x.studies, 0)).toBe(j.studies);
    const excluded = j.rules.find((x) => x.ruleId === 'no-sr')!.studies;
    expect(excluded).toBeGreaterThan(0);

    const list = await pacshift('scope', path, '--list', 'excluded', '--dry-run');
    const lines = list.out.split('\n').filter((l) => /^\d[\d.]*\t/.test(l));
    expect(lines).toHaveLength(excluded);
    expect(lines.every((l) => l.split('\t').length === 3 && l.endsWith('\texclude\tno-sr'))).toBe(true);
    const phi = await pacshift('scope', path, '--list', 'excluded', '--dry-run', '--log-phi');
    const phiLines = phi.out.split('\n').filter((l) => /^\d[\d.]*\t/.test(l));
    expect(phiLines.every((l) => l.split('\t').length === 6)).toBe(true);
    expect(existsSync(join(dir, 'inv.sqlite'))).toBe(true);
  });
});
