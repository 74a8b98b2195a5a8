import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { parsePlan, type Plan, type PlanError } from '../../../src/plan/index.js';

/** Smallest valid plan. */
export const MINIMAL = `name: test-migration
version: 1
source:
  type: dimse
  host: pacs-old.hospital.local
  port: 104
  calledAe: OLDPACS
target:
  type: dimse
  host: pacs-new.hospital.local
  port: 104
  calledAe: NEWPACS
`;

export const PLAN_DIR = '/srv/migrations/site-a';

/** Parse YAML text as if it were /srv/migrations/site-a/plan.yaml. */
export function parse(text: string): ReturnType<typeof parsePlan> {
  return parsePlan(text, { file: 'plan.yaml', planDir: PLAN_DIR });
}

export function mustParse(text: string): Plan {
  const r = parse(text);
  if (!r.ok) throw new Error(r.error.map((e) => `${e.path}: ${e.message}`).join('\n'));
  return r.value;
}

export function mustFail(text: string): PlanError[] {
  const r = parse(text);
  if (r.ok) throw new Error('expected the plan to be rejected');
  return r.error;
}

/** A fresh temporary folder holding `files` (relative path → content). */
export function tempDir(files: Record<string, string> = {}): string {
  const dir = mkdtempSync(join(tmpdir(), 'pacshift-plan-'));
  for (const [rel, content] of Object.entries(files)) {
    const p = join(dir, rel);
    mkdirSync(dirname(p), { recursive: true });
    writeFileSync(p, content);
  }
  return dir;
}
