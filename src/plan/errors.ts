/**
 * Plan errors: each names the file, the option's path (e.g. `source.port`) and the fix
 * ("must be an integer 1–65535 (e.g. 104)"), with the line and column when known.
 *
 * Values are never echoed: messages are built from the schema's documentation (rule and example), not
 * from the input, so an error under a field that may hold patient data (scope patterns, correction
 * values) cannot leak it. YAML syntax errors use our own messages for the same reason (the YAML
 * library's messages quote the offending source line).
 */
import type { LineCounter, YAMLError } from 'yaml';
import { isMap, isPair, isScalar, isSeq, type Document, type Node } from 'yaml';
import * as YAML from 'yaml';
import type * as z from 'zod';
import {
  defOf,
  docField,
  docOf,
  objectKeys,
  schemaAtPath,
  staticDefault,
  unwrap,
  variantKey,
} from './doc.js';
import { closest } from './suggest.js';

/** One problem with a plan file. */
export interface PlanError {
  /** The plan file as the user named it. */
  readonly file: string;
  /** Dotted path of the option, e.g. "scope.rules[0].match.patientName"; "" for the whole file. */
  readonly path: string;
  /** What is wrong and how to fix it; never contains a value from the plan that may be patient data. */
  readonly message: string;
  /** 1-based position in the file, when known. */
  readonly line?: number;
  readonly column?: number;
  /** Where the problem was found. */
  readonly kind: 'io' | 'yaml' | 'schema';
}

/** `plan.yaml:12:9: source.port: must be an integer 1–65535 (e.g. 104)` (position omitted if unknown). */
export function formatPlanError(e: PlanError): string {
  const pos = e.line !== undefined ? `:${e.line}${e.column !== undefined ? `:${e.column}` : ''}` : '';
  return `${e.file}${pos}: ${e.path ? `${e.path}: ` : ''}${e.message}`;
}

/** All errors, one per line. */
export const formatPlanErrors = (errors: readonly PlanError[]): string =>
  errors.map(formatPlanError).join('\n');

// ---------------------------------------------------------------------------------------------------
// YAML syntax errors

export const YAML_MESSAGES: Partial<Record<YAMLError['code'], string>> = {
  BAD_ALIAS:
    'a value starting with * is read as a YAML alias: put patterns in quotes, e.g. studyDescription: "*RESEARCH*"',
  ALIAS_PROPS: 'an alias (*name) cannot have a tag or anchor: put values starting with * or & in quotes',
  BAD_INDENT: 'bad indentation: options of one section must line up under each other, indented with spaces',
  TAB_AS_INDENT: 'a tab is used for indentation: YAML indents with spaces only',
  DUPLICATE_KEY: 'this option is given twice in the same section: keep one',
  MISSING_CHAR: 'a closing quote, bracket or brace is missing',
  BAD_SCALAR_START:
    'a value starts with a reserved character (@ ` | > % ! & * …): put the value in quotes, e.g. "@home"',
  UNEXPECTED_TOKEN: 'unexpected text: check indentation and that every option is written "name: value"',
  BLOCK_AS_IMPLICIT_KEY:
    'a nested block is used as a key: check the indentation of this line and the one above',
  MULTILINE_IMPLICIT_KEY: 'a key spans several lines: a ":" is probably missing on the line above',
  MULTIPLE_DOCS: 'the plan must be a single YAML document: remove the "---" separator',
  BAD_DQ_ESCAPE:
    "invalid escape sequence in a double-quoted value: write regular expressions in single quotes, e.g. '/^A\\d+/'",
  BLOCK_IN_FLOW: 'a block (indented lines) inside [ ] or { }: write the list or mapping in one style',
  MULTIPLE_ANCHORS: 'a value has two anchors (&): put values starting with & in quotes',
  MULTIPLE_TAGS: 'a value has two tags (!): put values starting with ! in quotes',
  TAG_RESOLVE_FAILED: 'a value with a YAML tag (!) that cannot be read: put values starting with ! in quotes',
  KEY_OVER_1024_CHARS: 'a key is longer than 1024 characters',
  NON_STRING_KEY: 'option names must be plain words',
  RESOURCE_EXHAUSTION: 'too many aliases: the plan expands beyond a sensible size',
  BAD_DIRECTIVE: 'unknown directive (%): remove the line',
  BAD_PROP_ORDER: 'anchor and tag in the wrong order',
  BAD_COLLECTION_TYPE: 'a list or mapping of the wrong kind',
};

/** A PlanError for a YAML syntax error, without the library's quoted source line. */
export function yamlError(file: string, e: YAMLError, lc?: LineCounter): PlanError {
  const pos = e.linePos?.[0] ?? (lc && e.pos ? lc.linePos(e.pos[0]) : undefined);
  return {
    file,
    path: '',
    message: `YAML syntax: ${YAML_MESSAGES[e.code] ?? `cannot parse (${e.code})`}`,
    ...(pos ? { line: pos.line, column: pos.col } : {}),
    kind: 'yaml',
  };
}

// ---------------------------------------------------------------------------------------------------
// Positions

/** Locates a path in the YAML document (the value's node, or for `key` the key's node). */
export class PositionIndex {
  constructor(
    private readonly doc: Document.Parsed | undefined,
    private readonly lc: LineCounter | undefined,
  ) {}

  /** Position of the node at `path`, or of its nearest existing ancestor. */
  at(path: readonly PropertyKey[], key = false): { line: number; column: number } | undefined {
    if (!this.doc || !this.lc) return undefined;
    let node: unknown = this.doc.contents;
    let best: Node | undefined = node as Node | undefined;
    for (let i = 0; i < path.length; i++) {
      const seg = path[i];
      const last = i === path.length - 1;
      if (isMap(node)) {
        const pair = node.items.find(
          (p) => isPair(p) && isScalar(p.key) && String(p.key.value) === String(seg),
        );
        if (!pair) break;
        const k = pair.key as Node;
        if (last && key) {
          best = k;
          break;
        }
        node = pair.value ?? undefined;
        best = (pair.value as Node | null) ?? k;
      } else if (isSeq(node) && typeof seg === 'number') {
        node = node.items[seg];
        if (!node) break;
        best = node as Node;
      } else break;
    }
    const off = best?.range?.[0];
    if (off === undefined) return undefined;
    const p = this.lc.linePos(off);
    return { line: p.line, column: p.col };
  }
}

// ---------------------------------------------------------------------------------------------------
// Schema issues

const IDENT = /^[A-Za-z_][A-Za-z0-9_-]{0,63}$/;

/**
 * "scope.rules[0].match.patientName". A key that is not a plain name (option names and DICOM keywords
 * always are) is shown as […]: it is a mistake anyway, and it might be patient data pasted as a key.
 */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const seg of path) {
    const s = String(seg);
    if (typeof seg === 'number') out += `[${seg}]`;
    else if (IDENT.test(s)) out += out ? `.${s}` : s;
    else out += '[…]';
  }
  return out;
}

function valueAt(raw: unknown, path: readonly PropertyKey[]): unknown {
  let v = raw;
  for (const seg of path) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<PropertyKey, unknown>)[seg];
  }
  return v;
}

/** Short flow-YAML rendering of an example for "(e.g. …)"; undefined when too long to help. */
export function exampleText(example: unknown, maxLength = 70): string | undefined {
  if (example === undefined) return undefined;
  const s = YAML.stringify(example, { collectionStyle: 'flow', lineWidth: 0 }).trim();
  return s.length <= maxLength ? s : undefined;
}

/** The fix text for the option `schema`: its documented rule, or one derived from its structure. */
function ruleFor(schema: z.core.$ZodType): string {
  const rule = docField(schema, 'rule');
  if (rule) return rule;
  const inner = unwrap(schema);
  const d = defOf(inner);
  if (d.type === 'object') return `a mapping with options: ${objectKeys(inner).join(', ')}`;
  if (d.type === 'union' && d.discriminator) {
    const kinds = (d.options ?? []).map((o) => variantKey(o, d.discriminator as string)).filter(Boolean);
    return `a mapping with ${d.discriminator}: ${kinds.join(' or ')}`;
  }
  if (d.type === 'array') return 'a list';
  if (d.type === 'record') return 'a mapping';
  return 'a valid value';
}

function fixFor(schema: z.core.$ZodType | undefined, missing: boolean): string {
  if (!schema) return 'is not valid here';
  const rule = ruleFor(schema);
  // The option's own example, else its default, else the example of the value type it is built from.
  const ex = exampleText(
    docOf(schema)?.example ?? staticDefault(schema).value ?? docField(schema, 'example'),
    100,
  );
  const redundant =
    ex === undefined || rule === ex || rule.startsWith(`${ex} `) || rule.includes(`e.g. ${ex}`);
  const eg = redundant ? '' : ` (e.g. ${ex})`;
  return `${missing ? 'is required; it must be' : 'must be'} ${rule}${eg}`;
}

type Issue = z.core.$ZodIssue;

/** Replace a union failure by the issues of the branch that got furthest, if one did. */
function flattenUnion(issue: Issue): Issue[] {
  if (issue.code !== 'invalid_union' || !('errors' in issue) || issue.errors.length === 0) return [issue];
  const score = (branch: Issue[]) =>
    branch.some((i) => i.code === 'custom' && !(i.params as { useRule?: boolean } | undefined)?.useRule)
      ? 3
      : branch.some((i) => i.path.length > 0)
        ? 2
        : branch.some((i) => i.code !== 'invalid_type' && i.code !== 'invalid_value')
          ? 1
          : 0;
  let best: Issue[] | undefined;
  let bestScore = 0;
  for (const b of issue.errors) {
    const s = score(b);
    if (s > bestScore) {
      best = b;
      bestScore = s;
    }
  }
  if (!best || bestScore < 2) return [issue];
  return best.flatMap((i) => flattenUnion({ ...i, path: [...issue.path, ...i.path] } as Issue));
}

/** Turn zod issues into PlanErrors with paths, fixes and positions. `raw` is the parsed YAML data. */
export function issuesToPlanErrors(
  file: string,
  issues: readonly Issue[],
  root: z.core.$ZodType,
  raw: unknown,
  positions: PositionIndex,
): PlanError[] {
  const out: PlanError[] = [];
  const add = (path: readonly PropertyKey[], message: string, keyPos = false) => {
    const pos = positions.at(path, keyPos);
    out.push({ file, path: formatPath(path), message, ...(pos ?? {}), kind: 'schema' });
  };

  for (const top of issues)
    for (const issue of flattenUnion(top)) {
      const path = issue.path;
      if (issue.code === 'unrecognized_keys') {
        const here = schemaAtPath(root, path, raw).schema;
        const keys = here ? objectKeys(here, valueAt(raw, path)) : [];
        for (const k of issue.keys) {
          const near = closest(k, keys);
          add(
            [...path, k],
            `is not an option here${near ? `: did you mean ${near}?` : ''}${keys.length ? ` (options: ${keys.join(', ')})` : ''}`,
            true,
          );
        }
        continue;
      }
      if (issue.code === 'invalid_union' && 'note' in issue && issue.note === 'No matching discriminator') {
        const kinds = (issue as { options?: unknown[] }).options ?? [];
        add(path, `must be one of ${kinds.map(String).join(', ')} (e.g. ${String(kinds[0])})`);
        continue;
      }
      const params =
        issue.code === 'custom'
          ? (issue.params as { useRule?: boolean; atKey?: boolean } | undefined)
          : undefined;
      if (issue.code === 'custom' && !params?.useRule) {
        add(path, issue.message, params?.atKey === true);
        continue;
      }
      const missing = valueAt(raw, path) === undefined;
      add(path, fixFor(schemaAtPath(root, path, raw).schema, missing));
    }

  // One message per path and text, in file order.
  const seen = new Set<string>();
  return out
    .filter((e) => {
      const k = `${e.path}\0${e.message}`;
      if (seen.has(k)) return false;
      seen.add(k);
      return true;
    })
    .map((e, i) => ({ e, i }))
    .sort((a, b) => (a.e.line ?? Infinity) - (b.e.line ?? Infinity) || a.i - b.i)
    .map(({ e }) => e);
}
