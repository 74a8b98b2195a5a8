/**
 * Reading a plan file: YAML → data → schema → Plan, with every problem reported as a PlanError
 * (path, fix, line and column) and none of them quoting plan values.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { LineCounter, parseDocument, visit } from 'yaml';
import { err, ok, type Result } from '../util/result.js';
import { issuesToPlanErrors, PositionIndex, YAML_MESSAGES, yamlError, type PlanError } from './errors.js';
import { planSchema, type Plan } from './schema.js';

export interface ParsePlanOptions {
  /** Name of the file in messages (e.g. "plan.yaml"). */
  readonly file: string;
  /** Folder relative paths in the plan are resolved against (the plan file's folder). */
  readonly planDir: string;
}

/** Read, validate and complete the plan at `path`. Relative paths in it resolve against its folder. */
export function loadPlan(path: string): Result<Plan, PlanError[]> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why =
      code === 'ENOENT'
        ? 'no such file: check the path, or create a plan with pacshift init'
        : code === 'EACCES'
          ? 'permission denied: the plan file must be readable by the user running pacshift'
          : code === 'EISDIR'
            ? 'is a folder: give the plan file (e.g. plan.yaml)'
            : `cannot be read (${code ?? 'unknown error'})`;
    return err([{ file: path, path: '', message: why, kind: 'io' }]);
  }
  return parsePlan(text, { file: path, planDir: dirname(resolve(path)) });
}

/** Validate and complete a plan given as YAML text. */
export function parsePlan(text: string, opts: ParsePlanOptions): Result<Plan, PlanError[]> {
  const { file } = opts;
  const lineCounter = new LineCounter();
  const doc = parseDocument(text.replace(/^\uFEFF/, ''), {
    lineCounter,
    prettyErrors: false,
    uniqueKeys: true,
    strict: true,
    version: '1.2',
  });
  if (doc.errors.length > 0) {
    // Later errors on the same line are usually consequences of the first: report one per line.
    const errors = doc.errors.map((e) => yamlError(file, e, lineCounter));
    return err(errors.filter((e, i) => errors.findIndex((o) => o.line === e.line) === i));
  }

  // An alias without its anchor is almost always an unquoted pattern such as *RESEARCH*.
  let unresolved: number | undefined;
  visit(doc, {
    Alias(_, node) {
      if (node.resolve(doc) === undefined) {
        unresolved = node.range?.[0] ?? 0;
        return visit.BREAK;
      }
      return undefined;
    },
  });
  if (unresolved !== undefined) {
    const pos = lineCounter.linePos(unresolved);
    return err([
      {
        file,
        path: '',
        message: `YAML syntax: ${YAML_MESSAGES.BAD_ALIAS}`,
        line: pos.line,
        column: pos.col,
        kind: 'yaml',
      },
    ]);
  }

  let raw: unknown;
  try {
    raw = doc.toJS({ maxAliasCount: 100 });
  } catch {
    return err([
      { file, path: '', message: 'YAML syntax: aliases expand beyond a sensible size', kind: 'yaml' },
    ]);
  }
  if (raw === null || raw === undefined)
    return err([
      {
        file,
        path: '',
        message: 'is empty: start from the example written by pacshift init',
        kind: 'schema',
      },
    ]);
  if (typeof raw !== 'object' || Array.isArray(raw))
    return err([
      {
        file,
        path: '',
        message:
          'must be a YAML mapping of sections (name, version, source, target, …): start from pacshift init',
        line: 1,
        column: 1,
        kind: 'schema',
      },
    ]);

  const schema = planSchema({ planDir: resolve(opts.planDir) });
  const parsed = schema.safeParse(raw);
  if (parsed.success) return ok(parsed.data);
  return err(issuesToPlanErrors(file, parsed.error.issues, schema, raw, new PositionIndex(doc, lineCounter)));
}

/**
 * Files and folders the plan reads that do not exist (checked separately from loadPlan, so a plan can be
 * written and validated before the certificates and CSV exports are in place). Paths are printed: they
 * are configuration, not patient data.
 */
export function checkPlanFiles(plan: Plan, file: string): PlanError[] {
  const need: Array<[string, string | undefined, 'file' | 'dir']> = [];
  const tls = (prefix: string, t: { ca?: string; cert?: string; key?: string } | undefined) => {
    for (const k of ['ca', 'cert', 'key'] as const) need.push([`${prefix}.tls.${k}`, t?.[k], 'file']);
  };
  tls('local', plan.local.tls);
  if (plan.source.type === 'dimse') tls('source', plan.source.tls);
  else need.push(['source.path', plan.source.path, 'dir']);
  if (plan.target.type === 'dimse') tls('target', plan.target.tls);
  plan.transform.corrections.forEach((c, i) => need.push([`transform.corrections[${i}].csv`, c.csv, 'file']));
  need.push(['transfer.appointments.csv', plan.transfer.appointments?.csv, 'file']);

  const out: PlanError[] = [];
  for (const [path, p, kind] of need) {
    if (p === undefined) continue;
    if (!existsSync(p)) out.push({ file, path, message: `${p} does not exist`, kind: 'io' });
    else if (kind === 'dir' && !statSync(p).isDirectory())
      out.push({ file, path, message: `${p} is not a folder`, kind: 'io' });
    else if (kind === 'file' && !statSync(p).isFile())
      out.push({ file, path, message: `${p} is not a file`, kind: 'io' });
  }
  return out;
}
