/**
 * The exit code table (src/cli/exit-codes.ts): the README's paragraph is the table's, and no exit path
 * under src/cli uses a literal code instead of `Exit.<name>`.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  EXIT_CODES,
  Exit,
  exitCodeParagraph,
  exitForSignal,
  exitMeaning,
} from '../../../src/cli/exit-codes.js';

const ROOT = resolve(import.meta.dirname, '..', '..', '..');

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sources(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

describe('exit code table', () => {
  it('codes are distinct, each with a meaning; signals are 128 + their number', () => {
    const codes = Object.values(EXIT_CODES).map((e) => e.code);
    expect(new Set(codes).size).toBe(codes.length);
    for (const e of Object.values(EXIT_CODES)) expect(e.meaning.length).toBeGreaterThan(3);
    expect(Exit).toMatchObject({ ok: 0, partial: 1, usage: 2, peer: 3, internal: 70 });
    expect(exitForSignal('SIGINT')).toBe(128 + 2);
    expect(exitForSignal('SIGTERM')).toBe(128 + 15);
    expect(exitMeaning(3)).toBe(EXIT_CODES.peer.meaning);
    expect(exitMeaning(42)).toBeUndefined();
  });

  it("the README's exit code paragraph is the table's", () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8').replace(/\s+/g, ' ');
    expect(readme).toContain(exitCodeParagraph());
    // No second, stale statement of the codes.
    expect(readme.split('Exit codes:').length - 1).toBe(1);
  });

  it('no exit path under src/cli returns or sets a literal exit code', () => {
    const offenders: string[] = [];
    for (const file of sources(join(ROOT, 'src', 'cli'))) {
      if (file.endsWith('exit-codes.ts')) continue;
      readFileSync(file, 'utf8')
        .split('\n')
        .forEach((line, i) => {
          if (
            /\breturn\s+-?\d+\s*[;)]/.test(line) ||
            /exitCode\s*=\s*-?\d/.test(line) ||
            /process\.exit\(\s*-?\d/.test(line) ||
            /\?\s*-?\d+\s*:\s*-?\d+\s*;/.test(line)
          )
            offenders.push(`${file.slice(ROOT.length + 1)}:${i + 1}: ${line.trim()}`);
        });
    }
    expect(offenders).toEqual([]);
  });
});

describe('--timeout of the peer tools', () => {
  it('no phase of an association waits longer than --timeout', async () => {
    const { peerFrom } = await import('../../../src/cli/common.js');
    const { DEFAULT_TIMEOUTS } = await import('../../../src/net/association/types.js');
    const p = peerFrom('X@127.0.0.1:104', { timeout: '3' });
    // What the association applies: its defaults where the peer names none.
    const applied = { ...DEFAULT_TIMEOUTS, ...p.timeouts };
    for (const [phase, ms] of Object.entries(applied)) expect(ms, phase).toBeLessThanOrEqual(3000);
    expect(p.dimseTimeoutMs).toBe(3000);
    expect(() => peerFrom('X@127.0.0.1:104', { timeout: 'soon' })).toThrow('--timeout');
  });
});
