/** `pacshift <command> --help` prints that command's usage and exits 0, for every command. */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { main } from '../../../src/cli/main.js';

const COMMANDS = [
  'echo',
  'find',
  'store',
  'receive',
  'verify',
  'status',
  'report',
  'serve',
  'migrate',
  'prioritize',
  'demo',
  'init',
  'check',
  'inventory',
  'scope',
  'preflight',
  'sample',
  'analyze',
  'audit',
];

describe('per-command help', () => {
  afterEach(() => vi.restoreAllMocks());
  it.each(
    COMMANDS.flatMap((c) => [
      [c, '--help'],
      [c, '-h'],
    ]),
  )('%s %s prints its usage, exit 0', async (cmd, flag) => {
    const out: string[] = [];
    vi.spyOn(console, 'log').mockImplementation((s: unknown) => void out.push(String(s)));
    const errs = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    expect(await main([cmd, flag])).toBe(0);
    expect(out.join('\n')).toMatch(new RegExp(`pacshift ${cmd}\\b`));
    expect(errs).not.toHaveBeenCalled();
  });
  it('the global help lists every command', async () => {
    const out: string[] = [];
    vi.spyOn(console, 'log').mockImplementation((s: unknown) => void out.push(String(s)));
    expect(await main(['--help'])).toBe(0);
    for (const c of COMMANDS) expect(out.join('\n')).toMatch(new RegExp(`pacshift ${c}\\b`));
  });
});
