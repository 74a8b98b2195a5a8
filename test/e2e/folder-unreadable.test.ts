/**
 * Issue 7 item 3: unreadable source files stay in the definition of done. A folder source (symlinks
 * to corpus files) holding good files, dcm4che's truncated 3gb-bulk-data file, pydicom's no_meta.dcm
 * and a dangling symlink, migrated to a folder through the real CLI: each unreadable file is an open
 * exception of the ledger (id, kind, path, cause, first seen, status), the report says NOT DONE and
 * lists them, `migrate` exits 1. Before the fix the dangling symlink crashed the folder walk (ENOENT)
 * and, without it, the two unreadable files left the report DONE, clean, and migrate exiting 0.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openSqliteStore } from '../../src/state/index.js';
import { corpusRow, hasCorpus, wellFormedUncompressed } from '../harness/corpus.js';
import { e2eDir, runMigrate, type MigrateRun } from '../harness/migration.js';

const ROOT = resolve(import.meta.dirname, '..', '..');
const BAD = ['dcm4che/3gb-bulk-data-truncated', 'pydicom/debian_test_files/no_meta.dcm'];

function cli(args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'src/cli/bin.ts'), ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 120_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe.skipIf(!hasCorpus())('unreadable files of a folder source (issue 7 item 3)', () => {
  const t = e2eDir('folder-unreadable');
  let plan: string;
  let migrate: MigrateRun;
  const good = wellFormedUncompressed()
    .filter((r) => r.studyInstanceUid && r.size < 200_000)
    .slice(0, 4);

  beforeAll(async () => {
    const src = join(t.dir, 'in');
    mkdirSync(src, { recursive: true });
    good.forEach((r, i) => symlinkSync(r.absPath, join(src, `good-${i}.dcm`)));
    symlinkSync(corpusRow(BAD[0]!).absPath, join(src, 'truncated'));
    symlinkSync(corpusRow(BAD[1]!).absPath, join(src, 'no_meta.dcm'));
    symlinkSync(join(t.dir, 'no-such-file.dcm'), join(src, 'dangling.dcm'));
    plan = join(t.dir, 'plan.yaml');
    writeFileSync(
      plan,
      JSON.stringify({
        name: 'unreadable',
        version: 1,
        source: { type: 'folder', path: src },
        target: { type: 'folder', path: join(t.dir, 'out') },
        state: { sqlite: join(t.dir, 'state.sqlite') },
        spool: { dir: join(t.dir, 'spool') },
        report: { dir: join(t.dir, 'report') },
        verify: { sample: { percent: 100 } },
      }),
    );
    migrate = await runMigrate(plan, ['--json'], { logFile: join(t.dir, 'migrate.log'), timeoutMs: 180_000 });
  }, 200_000);
  afterAll(() => t.remove());

  it('records each unreadable file as an open exception: migrate exits 1, the report is NOT DONE and lists them', async () => {
    expect(migrate.log).not.toMatch(/ENOENT|\n\s+at /);
    expect(migrate.code, migrate.log.slice(-2000)).toBe(1);
    const summary = JSON.parse(migrate.stdout.trim().split('\n').at(-1)!) as {
      done: boolean;
      instancesStored: number;
      reasons: string[];
    };
    expect(summary.done).toBe(false);
    expect(summary.instancesStored).toBe(good.length);
    expect(summary.reasons.join('; ')).toMatch(/3 open exceptions/);

    const store = await openSqliteStore({ path: join(t.dir, 'state.sqlite') });
    try {
      const ex = await store.listExceptions();
      expect(ex.map((e) => [e.kind, e.subject, e.status]).sort()).toEqual(
        [
          ['unreadable-source-file', 'dangling.dcm', 'open'],
          ['unreadable-source-file', 'no_meta.dcm', 'open'],
          ['unreadable-source-file', 'truncated', 'open'],
        ].sort(),
      );
      for (const e of ex) {
        expect(e.id).toBeGreaterThan(0);
        expect(e.code).toMatch(/\S/);
        expect(e.cause).toMatch(/\S/);
        expect(e.firstSeenAt).toBeGreaterThan(0);
      }
      expect(ex.find((e) => e.subject === 'dangling.dcm')?.code).toBe('ENOENT');
      const done = await store.isDone();
      expect(done).toMatchObject({ done: false, clean: false });
    } finally {
      await store.close();
    }

    const report = cli(['report', plan, '--json']);
    expect(report.code).toBe(0);
    expect(JSON.parse(report.stdout).done.done).toBe(false);
    const json = JSON.parse(readFileSync(join(t.dir, 'report', 'report.json'), 'utf8')) as {
      exceptions: { subject: string; status: string }[];
    };
    expect(json.exceptions.map((e) => e.subject).sort()).toEqual([
      'dangling.dcm',
      'no_meta.dcm',
      'truncated',
    ]);
    expect(readFileSync(join(t.dir, 'report', 'report.html'), 'utf8')).toMatch(/no_meta\.dcm/);
  });
});
