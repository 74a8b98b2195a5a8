/**
 * The commented example plan written by `pacshift init`, generated from the schema's documentation
 * (what, default, example, why) so it cannot drift from what the loader accepts.
 *
 * Rules: a required option is written with its example; an option with a constant default is written
 * with that default; other options are written commented out, with their example (unless the doc says
 * `exampleActive`). For `source` and `target`, the other kinds (e.g. folder) follow, commented out.
 * Uncommenting a block means removing one "# " from each of its lines.
 */
import * as YAML from 'yaml';
import type * as z from 'zod';
import { defOf, docOf, docField, isOptional, staticDefault, unwrap, variantKey } from './doc.js';
import { exampleText } from './errors.js';
import { PLAN_VERSION, PlanSchema } from './schema.js';

const WIDTH = 100;

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** Wrap `text` into comment lines at `indent`. */
function comment(text: string, indent: string): string[] {
  const out: string[] = [];
  const max = Math.max(40, WIDTH - indent.length - 2);
  for (const para of text.split('\n')) {
    let line = '';
    for (const word of para.split(/\s+/).filter(Boolean)) {
      if (line && line.length + 1 + word.length > max) {
        out.push(`${indent}# ${line}`);
        line = word;
      } else line = line ? `${line} ${word}` : word;
    }
    out.push(line ? `${indent}# ${line}` : `${indent}#`);
  }
  return out;
}

/** `key: value` as block YAML lines at `indent`. */
function yamlLines(key: string, value: unknown, indent: string): string[] {
  const text = YAML.stringify({ [key]: value }, { lineWidth: 0, indent: 2 }).trimEnd();
  return text.split('\n').map((l) => indent + l);
}

const commentOut = (lines: string[], indent: string): string[] =>
  lines.map((l) => (l.startsWith(indent) ? `${indent}# ${l.slice(indent.length)}` : `# ${l}`));

/** Doc comment block for an option: what, default, example (if not already shown), why. */
function docComment(field: z.core.$ZodType, indent: string, shown: unknown, showsExample: boolean): string[] {
  const doc = docOf(field) ?? {};
  const lines: string[] = [];
  if (doc.what) lines.push(doc.what);
  const def = staticDefault(field);
  const defText =
    doc.default ??
    (def.has && !(isPlainObject(def.value) && Object.keys(def.value).length === 0)
      ? (exampleText(def.value) ?? undefined)
      : undefined);
  if (defText !== undefined) lines.push(`Default: ${defText}.`);
  const ex = docField(field, 'example');
  if (ex !== undefined && !showsExample && JSON.stringify(ex) !== JSON.stringify(shown)) {
    const t = exampleText(ex);
    if (t) lines.push(`Example: ${t}`);
  }
  if (doc.why) lines.push(`Why: ${doc.why}`);
  return lines.flatMap((l) => comment(l, indent));
}

interface Shown {
  active: boolean;
  value: unknown;
  hasValue: boolean;
}

/** Decide whether an option is written out, and with which value. */
function decide(field: z.core.$ZodType, override: { has: boolean; value?: unknown }): Shown {
  if (override.has) return { active: true, value: override.value, hasValue: true };
  const ex = docField(field, 'example');
  const def = staticDefault(field);
  const exActive = docOf(field)?.exampleActive === true;
  const inner = defOf(unwrap(field)).type;
  if (!isOptional(field)) return { active: true, value: ex, hasValue: ex !== undefined };
  if (def.has) {
    const emptyList = Array.isArray(def.value) && def.value.length === 0;
    if (emptyList && ex !== undefined) return { active: exActive, value: ex, hasValue: true };
    if (isPlainObject(def.value) && inner === 'object')
      return { active: true, value: undefined, hasValue: false };
    return { active: true, value: def.value, hasValue: true };
  }
  return { active: exActive, value: ex, hasValue: ex !== undefined };
}

/** Lines for the members of an object schema, with `values` overriding the doc-driven choices. */
function renderShape(
  obj: z.core.$ZodType,
  indent: string,
  values: Record<string, unknown> | undefined,
): string[] {
  const d = defOf(unwrap(obj));
  const out: string[] = [];
  for (const [key, field] of Object.entries(d.shape ?? {})) {
    const has = values !== undefined && key in values;
    out.push(...renderField(key, field, indent, { has, value: has ? values?.[key] : undefined }));
  }
  if (d.catchall && defOf(d.catchall).type !== 'never') {
    const ex = docField(d.catchall, 'example');
    out.push(...docComment(d.catchall, indent, undefined, true));
    out.push(...commentOut(yamlLines('StationName', ex, indent), indent));
  }
  return out;
}

/** Lines for one option: its doc comment, then the option (or its commented-out example). */
function renderField(
  key: string,
  field: z.core.$ZodType,
  indent: string,
  override: { has: boolean; value?: unknown },
): string[] {
  const inner = unwrap(field);
  const d = defOf(inner);
  const shown = decide(field, override);
  const out = docComment(field, indent, shown.value, shown.hasValue);
  let body: string[];

  if (d.type === 'union' && d.discriminator) {
    const disc = d.discriminator;
    const value = isPlainObject(shown.value) ? shown.value : {};
    const options = d.options ?? [];
    const chosen = options.find((o) => variantKey(o, disc) === value[disc]) ?? options[0];
    body = [`${indent}${key}:`];
    if (chosen) body.push(...renderVariant(chosen, disc, `${indent}  `, value));
    if (shown.active) {
      out.push(...body);
      // The other kinds, commented out.
      for (const o of options) {
        if (o === chosen) continue;
        const title = docOf(o)?.variantTitle;
        const ex = docField(o, 'example');
        out.push(...comment(title ?? `Or: ${String(variantKey(o, disc))}`, indent));
        const alt = [
          `${indent}${key}:`,
          ...renderVariant(o, disc, `${indent}  `, isPlainObject(ex) ? ex : {}),
        ];
        out.push(...commentOut(alt, indent));
      }
      return out;
    }
  } else if (
    d.type === 'object' &&
    (shown.value === undefined || isPlainObject(shown.value)) &&
    !shown.hasValue
  ) {
    body = [`${indent}${key}:`, ...renderShape(inner, `${indent}  `, undefined)];
    if (!body.slice(1).some((l) => !l.trimStart().startsWith('#'))) {
      // Nothing active inside: comment the key too (an empty section means "all defaults").
      return [...out, ...commentOut(body, indent)];
    }
  } else if (d.type === 'object' && isPlainObject(shown.value) && !defOf(inner).catchall) {
    body = [`${indent}${key}:`, ...renderShape(inner, `${indent}  `, shown.value)];
  } else if (d.type === 'object' && isPlainObject(shown.value)) {
    // Objects with extra keys (match conditions): document every option, show the given ones.
    body = [`${indent}${key}:`, ...renderShape(inner, `${indent}  `, shown.value)];
    const extra = Object.keys(shown.value).filter((k) => !(k in (defOf(inner).shape ?? {})));
    for (const k of extra) body.push(...yamlLines(k, shown.value[k], `${indent}  `));
  } else if (
    d.type === 'array' &&
    Array.isArray(shown.value) &&
    shown.value.length > 0 &&
    isObjectSchema(d.element)
  ) {
    body = [`${indent}${key}:`, ...renderItems(d.element as z.core.$ZodType, `${indent}  `, shown.value)];
  } else if (shown.hasValue) {
    body = yamlLines(key, shown.value, indent);
  } else {
    body = [`${indent}${key}:`];
  }
  return [...out, ...(shown.active ? body : commentOut(body, indent))];
}

const isObjectSchema = (s: z.core.$ZodType | undefined): boolean => !!s && defOf(unwrap(s)).type === 'object';

/** The members of one union variant: the discriminator first, then the variant's options. */
function renderVariant(
  variant: z.core.$ZodType,
  disc: string,
  indent: string,
  value: Record<string, unknown>,
): string[] {
  const out = [
    ...comment(docOf(variant)?.what ?? '', indent),
    `${indent}${disc}: ${String(variantKey(variant, disc))}`,
  ];
  const rest = { ...value };
  delete rest[disc];
  const d = defOf(unwrap(variant));
  for (const [key, field] of Object.entries(d.shape ?? {})) {
    if (key === disc) continue;
    const has = key in rest;
    out.push(...renderField(key, field, indent, { has, value: has ? rest[key] : undefined }));
  }
  return out;
}

/** A list of mappings: the first item fully documented, the others as plain YAML. */
function renderItems(item: z.core.$ZodType, indent: string, values: unknown[]): string[] {
  const out: string[] = [];
  values.forEach((v, i) => {
    const lines =
      i === 0 && isPlainObject(v)
        ? renderShape(item, `${indent}  `, v)
        : YAML.stringify([v], { lineWidth: 0, indent: 2 })
            .trimEnd()
            .split('\n')
            .map((l) => `${indent}${l}`);
    if (i === 0) {
      // Put "- " on the first line that is not a comment.
      const first = lines.findIndex((l) => !l.trimStart().startsWith('#'));
      if (first >= 0) lines[first] = `${indent}- ${(lines[first] as string).slice(indent.length + 2)}`;
    }
    out.push(...lines);
  });
  return out;
}

/** Header of the generated file. */
function header(): string[] {
  return [
    '# pacshift migration plan',
    '#',
    ...comment(
      'One file describes the whole migration: the archives, what is in scope, what changes on the way, when and how fast studies move, how the target is verified and where the reports go. Check it with "pacshift check <plan>".',
      '',
    ),
    '#',
    ...comment(
      'Every option is documented above itself: what it does, its default, an example and why it exists. Options written out are required or show their default; commented-out ones are optional (remove one "# " to use them).',
      '',
    ),
    '#',
    ...comment(
      'Durations are written with a unit ("30s", "5m", "2h", "7d"); sizes with a unit ("512MiB", "20GiB"); dates as YYYY-MM-DD; times of day as "HH:MM". Relative paths are resolved against the folder of this file. Put patterns in quotes.',
      '',
    ),
    '',
  ];
}

/**
 * The fully commented example plan (what `pacshift init` writes). It loads back without errors.
 * `name` replaces the example plan name.
 */
export function examplePlanYaml(opts: { name?: string } = {}): string {
  const root = defOf(unwrap(PlanSchema));
  const lines = header();
  for (const [key, field] of Object.entries(root.shape ?? {})) {
    const override =
      key === 'name' && opts.name !== undefined
        ? { has: true, value: opts.name }
        : key === 'version'
          ? { has: true, value: PLAN_VERSION }
          : { has: false };
    const section = renderField(key, field, '', override);
    lines.push(...section, '');
  }
  return `${lines.join('\n').trimEnd()}\n`;
}
