/**
 * Every option is documented where it is defined (what, why, a default or an example, and the rule an
 * error prints), and every documented example is itself a valid value for its option.
 */
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import type * as z from 'zod';
import { PlanSchema } from '../../../src/plan/index.js';
import { defOf, docField, docOf, staticDefault, unwrap, variantKey } from '../../../src/plan/doc.js';
import { MINIMAL, parse } from './helpers.js';
import { stringify } from 'yaml';

interface Option {
  path: string[];
  field: z.core.$ZodType;
  underArray: boolean;
  /** For union variants: [section path, discriminator value]. */
  variant?: string;
}

function* walk(
  schema: z.core.$ZodType,
  path: string[],
  underArray: boolean,
  variant?: string,
): Generator<Option> {
  const d = defOf(unwrap(schema));
  if (d.type === 'object') {
    for (const [k, f] of Object.entries(d.shape ?? {})) {
      if (variant !== undefined && k === 'type') continue; // the discriminator is documented by its union
      yield { path: [...path, k], field: f, underArray, ...(variant ? { variant } : {}) };
      yield* walk(f, [...path, k], underArray, undefined);
    }
    if (d.catchall && defOf(d.catchall).type !== 'never') {
      yield { path: [...path, '<Keyword>'], field: d.catchall, underArray };
      yield* walk(d.catchall, [...path, '<Keyword>'], underArray);
    }
  } else if (d.type === 'union' && d.discriminator) {
    for (const o of d.options ?? []) yield* walk(o, path, underArray, variantKey(o, d.discriminator));
  } else if (d.type === 'array' && d.element) {
    yield* walk(d.element, [...path, '[]'], true);
  } else if (d.type === 'record' && d.valueType) {
    yield* walk(d.valueType, [...path, '<Keyword>'], true);
  }
}

const all = [...walk(PlanSchema, [], false)];
const name = (o: Option) => o.path.join('.') + (o.variant ? ` (${o.variant})` : '');

describe('option documentation', () => {
  it('covers the whole schema', () => {
    expect(all.length).toBeGreaterThan(120);
  });

  it.each(all.map((o) => [name(o), o] as const))('%s has what, why, default or example, rule', (_n, o) => {
    const doc = docOf(o.field);
    expect(doc?.what, 'what').toBeTruthy();
    expect(doc?.why, 'why').toBeTruthy();
    // .describe() was applied with the same text (zod's description, used by JSON Schema and editors).
    expect((o.field as unknown as { description?: string }).description).toBe(doc?.what);
    const inner = defOf(unwrap(o.field)).type;
    const structural = inner === 'object' || inner === 'union';
    if (!structural) {
      const hasValue =
        docField(o.field, 'example') !== undefined ||
        staticDefault(o.field).has ||
        doc?.default !== undefined;
      expect(hasValue, 'default or example').toBe(true);
      expect(docField(o.field, 'rule'), 'rule (the fix printed in errors)').toBeTruthy();
    }
  });
});

/** Set `value` at `path` in a copy of `base`, creating mappings as needed. */
function setIn(base: Record<string, unknown>, path: string[], value: unknown): Record<string, unknown> {
  const root = structuredClone(base);
  let cur: Record<string, unknown> = root;
  path.slice(0, -1).forEach((k) => {
    if (typeof cur[k] !== 'object' || cur[k] === null) cur[k] = {};
    cur = cur[k] as Record<string, unknown>;
  });
  cur[path.at(-1) as string] = value;
  return root;
}

describe('documented examples', () => {
  const base = parseYaml(MINIMAL) as Record<string, unknown>;
  const testable = all.filter(
    (o) =>
      !o.underArray && !o.path.includes('<Keyword>') && (o.variant === undefined || o.variant === 'dimse'),
  );

  /** Options that are only valid together with another one. */
  const COMPANIONS: Record<string, Record<string, string>> = {
    cert: { key: 'tls/pacshift.key' },
    key: { cert: 'tls/pacshift.crt' },
  };
  const fieldAt = (path: string[]) =>
    all.find((o) => o.path.join('.') === path.join('.') && o.variant !== 'folder');

  it.each(testable.map((o) => [name(o), o] as const))('%s: its example is valid', (_n, o) => {
    const ex = docOf(o.field)?.example;
    if (ex === undefined) return;
    // Inside an optional mapping, start from the mapping's own example (its required siblings).
    const parentPath = o.path.slice(0, -1);
    const parent = parentPath.length ? fieldAt(parentPath) : undefined;
    const parentEx = parent ? docOf(parent.field)?.example : undefined;
    const companions = COMPANIONS[o.path.at(-1) as string];
    const plan =
      parentEx !== undefined ? setIn(base, parentPath, { ...(parentEx as object), ...companions }) : base;
    const r = parse(stringify(setIn(plan, o.path, ex)));
    expect(r.ok ? [] : r.error.map((e) => `${e.path}: ${e.message}`)).toEqual([]);
  });

  it.each(['source', 'target'])('the other kinds of %s have valid examples', (section) => {
    const opts = defOf(unwrap(defOf(unwrap(PlanSchema)).shape?.[section] as z.core.$ZodType)).options ?? [];
    for (const o of opts) {
      const ex = docOf(o)?.example;
      if (ex === undefined) continue;
      const r = parse(stringify({ ...base, [section]: ex }));
      expect(r.ok ? [] : r.error.map((e) => `${e.path}: ${e.message}`)).toEqual([]);
    }
  });
});
