/** Shared set-up for the transform tests: a plan's transform section parsed as the plan loader parses it. */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parsePlan, type TransformPlan } from '../../../src/plan/index.js';

const BASE = `name: transform-test
version: 1
source: { type: folder, path: ./source }
target: { type: folder, path: ./target }
`;

/** Parses `transform:` YAML (indented by the caller) with the plan folder `dir`. */
export function transformOf(yaml: string, dir: string): TransformPlan {
  const r = parsePlan(`${BASE}transform:\n${yaml}`, { file: 'plan.yaml', planDir: dir });
  if (!r.ok) throw new Error(r.error.map((e) => `${e.path}: ${e.message}`).join('\n'));
  return r.value.transform;
}

/** Writes a file into dir (string: UTF-8; Buffer: as is) and returns its name. */
export function put(dir: string, name: string, content: string | Buffer): string {
  writeFileSync(join(dir, name), content);
  return name;
}
