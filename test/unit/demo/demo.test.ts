import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '..', '..', '..');
const cwd = mkdtempSync(join(tmpdir(), 'pacshift-demo-test-'));
afterAll(() => rmSync(cwd, { recursive: true, force: true }));

describe('pacshift demo (no Debian package needed)', () => {
  it('migrates the generated archive between two built-in archives and ends with a consistent ledger', () => {
    const r = spawnSync(
      process.execPath,
      [
        '--import',
        join(root, 'node_modules/tsx/dist/esm/index.mjs'),
        join(root, 'src/cli/bin.ts'),
        'demo',
        '--json',
      ],
      {
        cwd,
        encoding: 'utf8',
        timeout: 180_000,
      },
    );
    const last = r.stdout.trim().split('\n').at(-1)!;
    const out = JSON.parse(last);
    expect(out, r.stderr).toMatchObject({
      done: true,
      testStudiesExcluded: true,
      refusedObjectQuarantined: true,
      sourceUnreadable: 1,
      consistent: true,
    });
    expect(r.status).toBe(0);
    const report = JSON.parse(readFileSync(join(cwd, 'pacshift-demo', 'demo-report', 'report.json'), 'utf8'));
    expect(report).toBeTruthy();
    expect(existsSync(join(cwd, 'pacshift-demo', 'demo-report', 'report.html'))).toBe(true);
    // No patient name from the generated data in the report (logPhi is off).
    const html = readFileSync(join(cwd, 'pacshift-demo', 'demo-report', 'report.html'), 'utf8');
    expect(html).not.toMatch(/Able\^Alice|Baker\^Bob|DEMO001/);
  }, 200_000);
});
