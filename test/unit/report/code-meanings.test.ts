import { readFileSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CODE_ACTIONS, CODE_MEANINGS, explainCode } from '../../../src/report/actions.js';

// Every job error code the code base can record (store.failJob's code, the codes the state layer writes
// itself) has a meaning and an action in the report's table. The codes are read from the sources, so
// a new code without a meaning fails here.

const SRC = resolve(import.meta.dirname, '..', '..', '..', 'src');

function sources(dir: string): { path: string; text: string }[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts'))
    .map((e) => join(e.parentPath, e.name))
    .map((path) => ({ path, text: readFileSync(path, 'utf8') }));
}

/** The text of the n-th (0-based) top-level argument of a call whose "(" is at `open`. */
function argument(text: string, open: number, n: number): string {
  let depth = 0;
  let index = 0;
  let start = open + 1;
  for (let i = open + 1; i < text.length; i++) {
    const c = text[i]!;
    if (c === '(' || c === '[' || c === '{') depth++;
    else if ((c === ')' || c === ']' || c === '}') && depth > 0) depth--;
    else if ((c === ',' && depth === 0) || (c === ')' && depth === 0)) {
      if (index === n) return text.slice(start, i);
      if (c === ')') return '';
      index++;
      start = i + 1;
    }
  }
  return '';
}

const literals = (s: string) => [...s.matchAll(/'([A-Za-z][A-Za-z0-9_-]*)'/g)].map((m) => m[1]!);

function codesInSources(): Map<string, string> {
  const found = new Map<string, string>();
  const add = (code: string, where: string) => found.set(code, found.get(code) ?? where);
  for (const { path, text } of sources(SRC)) {
    // failJob(jobId, owner, CODE, message, retryable): string literals in the code argument.
    for (const m of text.matchAll(/\bfailJob\(/g)) {
      const open = m.index + m[0].length - 1;
      for (const c of literals(argument(text, open, 2))) add(c, path);
    }
    // Codes the state layer writes itself: export const LEASE_EXPIRED = 'LEASE_EXPIRED'.
    if (path.includes(`${join('src', 'state')}`))
      for (const m of text.matchAll(/export const ([A-Z_]+) = '([A-Z_]+)'/g))
        if (m[1] === m[2]) add(m[2]!, path);
  }
  // The engine records a retrieve's network failure by its kind (rep.failure.kind).
  for (const m of readFileSync(join(SRC, 'net', 'errors.ts'), 'utf8').matchAll(/kind: '([a-z-]+)'/g))
    add(m[1]!, 'src/net/errors.ts');
  // Verification records its VerifyFailure codes (src/verify: code: '…').
  for (const { path, text } of sources(join(SRC, 'verify')))
    for (const m of text.matchAll(/\bcode: '([A-Z][A-Z_]+)'|'(VERIFY_[A-Z_]+)'/g)) add((m[1] ?? m[2])!, path);
  return found;
}

describe('report: meaning of every job error code', () => {
  const codes = codesInSources();

  it('finds the codes the engine, the state layer and verification record', () => {
    for (const c of [
      'NOT_DELIVERED',
      'NO_ANSWER',
      'INTERNAL',
      'LEASE_EXPIRED',
      'VANISHED',
      'connect-failed',
      'VERIFY_MISSING',
    ])
      expect([...codes.keys()]).toContain(c);
  });

  it.each([...codesInSources()].map(([code, where]) => ({ code, where })))(
    '$code ($where) has a meaning and an action',
    ({ code }) => {
      const e = explainCode(code);
      expect(e.meaning).not.toBe(code);
      expect(e.meaning.length).toBeGreaterThan(5);
      expect(e.action).not.toBe('See the cause.');
    },
  );

  it('HTTP statuses of a DICOMweb peer (HTTP_<status>) are explained by their class', () => {
    expect(explainCode('HTTP_404').meaning).toContain('404');
    expect(explainCode('HTTP_404').action).not.toBe('See the cause.');
    expect(explainCode('HTTP_503').action).not.toBe(explainCode('HTTP_404').action);
    expect(explainCode('HTTP_999').meaning).toContain('999');
  });

  it('the tables hold a meaning and an action for the same codes', () => {
    expect(Object.keys(CODE_ACTIONS).sort()).toEqual(Object.keys(CODE_MEANINGS).sort());
  });
});
