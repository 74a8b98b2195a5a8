/**
 * Option documentation, kept on the schema itself so the docs, the error messages and the example plan
 * (`pacshift init`) are generated from one definition and cannot drift apart.
 *
 * Every option is declared as `opt(schema, { what, why, example, ... })`: `what` also goes to zod's
 * `.describe()` (so `z.toJSONSchema` and editors see it), the rest goes to the `planDocs` registry.
 * This module also holds the small amount of zod introspection the generators need (unwrap wrappers,
 * find the schema at a path, read a static default).
 */
import * as z from 'zod';

/** Documentation of one plan option. */
export interface OptionDoc {
  /** What the option is (one or two sentences). Also given to zod's `.describe()`. */
  readonly what?: string;
  /** Why it exists or why the default is what it is: the operational reasoning an administrator needs. */
  readonly why?: string;
  /** An example value in the form written in YAML (e.g. "30s", not 30000). */
  readonly example?: unknown;
  /** A default that is not a constant (e.g. "local.aeTitle"); constant defaults are read from the schema. */
  readonly default?: string;
  /** What a valid value looks like, phrased to follow "must be ": used in error messages as the fix. */
  readonly rule?: string;
  /**
   * The option (and everything under it) may hold patient data (scope patterns, values set by rules):
   * error messages never print its values.
   */
  readonly phi?: boolean;
  /** In the generated example, write this optional option out (with its example) instead of commenting it. */
  readonly exampleActive?: boolean;
  /** In the generated example, the heading printed above an alternative (non-example) union variant. */
  readonly variantTitle?: string;
}

/** Registry of option documentation. Metadata registered on a schema is inherited by its clones. */
export const planDocs = z.registry<OptionDoc>();

type Doc = OptionDoc & { readonly what: string };

/** Declare a documented option: `what` becomes the zod description, the rest goes to `planDocs`. */
export function opt<T extends z.ZodType>(schema: T, doc: Doc): T {
  const described = schema.describe(doc.what) as T;
  planDocs.add(described, { ...(planDocs.get(schema) ?? {}), ...doc });
  return described;
}

/** Attach a rule (and example) to a primitive so every option built from it inherits the fix text. */
export function withRule<T extends z.ZodType>(schema: T, rule: string, example?: unknown): T {
  planDocs.add(schema, {
    ...(planDocs.get(schema) ?? {}),
    rule,
    ...(example === undefined ? {} : { example }),
  });
  return schema;
}

// ---------------------------------------------------------------------------------------------------
// Introspection (zod 4 internals are confined to this section).

/** The parts of a zod 4 definition the generators read. */
interface LooseDef {
  readonly type: string;
  readonly innerType?: z.core.$ZodType;
  readonly in?: z.core.$ZodType;
  readonly out?: z.core.$ZodType;
  readonly shape?: Record<string, z.core.$ZodType>;
  readonly catchall?: z.core.$ZodType;
  readonly element?: z.core.$ZodType;
  readonly valueType?: z.core.$ZodType;
  readonly options?: readonly z.core.$ZodType[];
  readonly discriminator?: string;
  readonly entries?: Record<string, string | number>;
  readonly values?: readonly unknown[];
  readonly defaultValue?: unknown;
  readonly getter?: () => z.core.$ZodType;
}

export const defOf = (s: z.core.$ZodType): LooseDef => s._zod.def as unknown as LooseDef;

/** Doc registered on exactly this schema instance (or inherited from the schema it was cloned from). */
export const docOf = (s: z.core.$ZodType): OptionDoc | undefined => planDocs.get(s);

/**
 * The wrapper chain from `s` down to the structural schema (object, array, union, enum, string...):
 * optional, nullable, default, prefault, lazy, and pipes (a preprocess pipe is followed to its output
 * schema, a `string → transform` pipe to its input schema).
 */
export function unwrapChain(s: z.core.$ZodType): z.core.$ZodType[] {
  const chain = [s];
  let cur = s;
  for (let i = 0; i < 32; i++) {
    const d = defOf(cur);
    let next: z.core.$ZodType | undefined;
    switch (d.type) {
      case 'optional':
      case 'nullable':
      case 'default':
      case 'prefault':
      case 'readonly':
      case 'nonoptional':
      case 'catch':
        next = d.innerType;
        break;
      case 'lazy':
        next = d.getter?.();
        break;
      case 'pipe': {
        const outIsTransform = d.out !== undefined && defOf(d.out).type === 'transform';
        next = outIsTransform ? d.in : d.out;
        break;
      }
    }
    if (!next) break;
    chain.push(next);
    cur = next;
  }
  return chain;
}

/** The structural schema under all wrappers. */
export const unwrap = (s: z.core.$ZodType): z.core.$ZodType => unwrapChain(s).at(-1) ?? s;

/** First doc field found along the wrapper chain (outermost wins). */
export function docField<K extends keyof OptionDoc>(s: z.core.$ZodType, key: K): OptionDoc[K] | undefined {
  for (const c of unwrapChain(s)) {
    const d = docOf(c);
    if (d && d[key] !== undefined) return d[key];
  }
  return undefined;
}

/** The static default of an option, in input form (what one would write in YAML), if it has one. */
export function staticDefault(s: z.core.$ZodType): { has: boolean; value?: unknown } {
  for (const c of unwrapChain(s)) {
    const d = defOf(c);
    if (d.type === 'default' || d.type === 'prefault') return { has: true, value: d.defaultValue };
  }
  return { has: false };
}

/** Whether an object key may be left out (optional, or defaulted). */
export const isOptional = (s: z.core.$ZodType): boolean =>
  s._zod.optin === 'optional' || (s._zod.optin as string | undefined) === 'defaulted';

/** For a discriminated union, the literal value of `discriminator` in each option. */
export function variantKey(option: z.core.$ZodType, discriminator: string): string | undefined {
  const shape = defOf(unwrap(option)).shape;
  const lit = shape?.[discriminator];
  if (!lit) return undefined;
  const v = defOf(unwrap(lit)).values?.[0];
  return typeof v === 'string' ? v : undefined;
}

/** What one step of a path leads to. */
export interface PathStep {
  /** The schema at this step (outermost, with its doc); undefined when the path leaves the schema. */
  readonly schema: z.core.$ZodType | undefined;
  /** True when this step or an ancestor is marked as holding patient data. */
  readonly phi: boolean;
}

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** Follow `path` through `root`, using the raw input to pick union variants by their discriminator. */
export function schemaAtPath(root: z.core.$ZodType, path: readonly PropertyKey[], raw: unknown): PathStep {
  let cur: z.core.$ZodType | undefined = root;
  let value: unknown = raw;
  let phi = docField(root, 'phi') === true;
  for (const seg of path) {
    if (!cur) return { schema: undefined, phi };
    cur = childSchema(cur, seg, value);
    value =
      isRecord(value) || Array.isArray(value) ? (value as Record<PropertyKey, unknown>)[seg] : undefined;
    if (cur && docField(cur, 'phi') === true) phi = true;
  }
  return { schema: cur, phi };
}

/** The schema of member `seg` of `s` (object key, array index, record value, union variant member). */
export function childSchema(
  s: z.core.$ZodType,
  seg: PropertyKey,
  value: unknown,
): z.core.$ZodType | undefined {
  const inner = unwrap(s);
  const d = defOf(inner);
  switch (d.type) {
    case 'object':
      return (typeof seg === 'string' ? d.shape?.[seg] : undefined) ?? d.catchall;
    case 'array':
      return d.element;
    case 'record':
      return d.valueType;
    case 'union': {
      const opts = d.options ?? [];
      if (d.discriminator && seg === d.discriminator) return s;
      if (d.discriminator && isRecord(value)) {
        const want = value[d.discriminator];
        const hit = opts.find((o) => variantKey(o, d.discriminator as string) === want);
        if (hit) return childSchema(hit, seg, value);
      }
      for (const o of opts) {
        const c = childSchema(o, seg, value);
        if (c) return c;
      }
      return undefined;
    }
    default:
      return undefined;
  }
}

/** Keys an object schema accepts (for "did you mean" and for listing the options of a section). */
export function objectKeys(s: z.core.$ZodType, value?: unknown): string[] {
  const inner = unwrap(s);
  const d = defOf(inner);
  if (d.type === 'object') return Object.keys(d.shape ?? {});
  if (d.type === 'union' && d.discriminator) {
    const want = isRecord(value) ? value[d.discriminator] : undefined;
    const hit = (d.options ?? []).find((o) => variantKey(o, d.discriminator as string) === want);
    if (hit) return objectKeys(hit);
  }
  return [];
}
