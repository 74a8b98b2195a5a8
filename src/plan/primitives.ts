/**
 * Value types used across the plan: AE titles, ports, durations, sizes, paths, patterns, DICOM keywords,
 * dates, times of day, UIDs. Each carries its rule (the fix printed in an error) and a default example.
 *
 * Custom issues raised while parsing a value carry `params.useRule` when the generic fix ("must be <rule>
 * (e.g. <example>)") is the right message; other custom messages are printed as written and must never
 * contain the offending value when it may be patient data.
 */
import { isAbsolute, resolve } from 'node:path';
import * as z from 'zod';
import { withRule } from './doc.js';

/** Where the plan lives: relative paths in the plan are resolved against `planDir`. */
export interface PlanContext {
  readonly planDir: string;
}

const USE_RULE = { useRule: true } as const;

/** Raise "must be <rule of this option>" from inside a transform. */
export function ruleIssue(ctx: z.core.$RefinementCtx<unknown>, path: PropertyKey[] = []): typeof z.NEVER {
  ctx.addIssue({ code: 'custom', message: 'invalid value', params: USE_RULE, path });
  return z.NEVER;
}

const NUMBER_NEEDS_QUOTES =
  'must be written in quotes: YAML reads unquoted digits as a number and drops leading zeros';

// ---------------------------------------------------------------------------------------------------
// Integers, booleans, enums

/** An integer in [min, max]. */
export const intIn = (min: number, max: number, example?: number) =>
  withRule(z.int().min(min).max(max), `an integer ${min}–${max}`, example);

/** A number in [min, max] (decimals allowed). */
export const numberIn = (min: number, max: number, example?: number) =>
  withRule(z.number().min(min).max(max), `a number ${min}–${max}`, example);

export const bool = () => withRule(z.boolean(), 'true or false');

/** An enumeration; the rule lists the choices. */
export const oneOf = <const T extends readonly [string, ...string[]]>(values: T) =>
  withRule(z.enum(values), `one of ${values.join(', ')}`, values[0]);

// ---------------------------------------------------------------------------------------------------
// Network

/** TCP port. */
export const port = () => intIn(1, 65535, 104);

/**
 * Application Entity title (VR AE, PS3.5 6.2): at most 16 characters of the default repertoire,
 * no backslash or control characters; leading and trailing spaces are not significant (trimmed here);
 * a value of only spaces is not allowed.
 */
export const aeTitle = () =>
  withRule(
    z.union([z.string(), z.number()]).transform((v, ctx) => {
      if (typeof v === 'number') {
        ctx.addIssue({ code: 'custom', message: `${NUMBER_NEEDS_QUOTES} (e.g. "0104")` });
        return z.NEVER;
      }
      const t = v.trim();
      if (t.length < 1 || t.length > 16 || !/^[\x20-\x5b\x5d-\x7e]+$/.test(t)) return ruleIssue(ctx);
      return t;
    }),
    'an AE title: 1–16 characters, letters, digits, spaces and punctuation except backslash',
    'PACSHIFT',
  );

/** Host name or IP address (no scheme, no port). */
export const host = () =>
  withRule(
    z
      .string()
      .min(1)
      .max(253)
      .regex(/^[A-Za-z0-9._:%-]+$/),
    'a host name or IP address without scheme or port',
    'pacs.example.org',
  );

// ---------------------------------------------------------------------------------------------------
// Durations and sizes

const DURATION_UNITS: Record<string, number> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
};

/**
 * Parse a duration such as "30s", "5m", "2h", "1h30m", "500ms", "7d", "1w" into milliseconds.
 * Units are required (a bare number is ambiguous: seconds or milliseconds?). Returns undefined if malformed.
 */
export function parseDuration(text: string): number | undefined {
  const s = text.trim();
  if (s === '') return undefined;
  const re = /(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)\s*/y;
  let total = 0;
  let pos = 0;
  while (pos < s.length) {
    re.lastIndex = pos;
    const m = re.exec(s);
    if (!m) return undefined;
    total += Number(m[1]) * (DURATION_UNITS[m[2] as string] as number);
    pos = re.lastIndex;
  }
  return Math.round(total);
}

/** Format milliseconds back to the shortest duration text ("90000" → "1m30s"). */
export function formatDuration(ms: number): string {
  if (ms === 0) return '0s';
  let rest = ms;
  let out = '';
  for (const [unit, size] of [
    ['w', 604_800_000],
    ['d', 86_400_000],
    ['h', 3_600_000],
    ['m', 60_000],
    ['s', 1000],
    ['ms', 1],
  ] as const) {
    const n = Math.floor(rest / size);
    if (n > 0) {
      out += `${n}${unit}`;
      rest -= n * size;
    }
  }
  return out;
}

const DURATION_RULE =
  'a duration with a unit, such as "30s", "5m", "2h" or "1h30m" (units ms, s, m, h, d, w)';

function durationBounds(min: number, max: number | undefined): string {
  if (max !== undefined) return ` between ${formatDuration(min)} and ${formatDuration(max)}`;
  return min > 0 ? `, at least ${formatDuration(min)}` : '';
}

/** A duration string parsed to milliseconds, within [min, max] milliseconds. */
export function duration(opts: { min?: number; max?: number; example?: string } = {}) {
  const min = opts.min ?? 0;
  const max = opts.max ?? 365 * 86_400_000;
  const bounds = durationBounds(min, opts.max);
  return withRule(
    z.string().transform((s, ctx) => {
      const ms = parseDuration(s);
      if (ms === undefined || ms < min || ms > max) return ruleIssue(ctx);
      return ms;
    }),
    DURATION_RULE + bounds,
    opts.example ?? '30s',
  );
}

/** Like `duration`, but the word "off" (or `false`) disables the feature and yields null. */
export function durationOrOff(opts: { min?: number; example?: string } = {}) {
  const inner = duration(opts);
  return withRule(
    z
      .union([z.literal('off'), z.literal(false), inner])
      .transform((v) => (v === 'off' || v === false ? null : v)),
    `${DURATION_RULE}${durationBounds(opts.min ?? 0, undefined)}, or off`,
    opts.example ?? '7d',
  );
}

const SIZE_UNITS: Record<string, number> = {
  b: 1,
  kb: 1e3,
  mb: 1e6,
  gb: 1e9,
  tb: 1e12,
  kib: 1024,
  mib: 1024 ** 2,
  gib: 1024 ** 3,
  tib: 1024 ** 4,
};

/**
 * Parse a size such as "512MiB", "20GiB", "1.5 TB", "4096" into bytes. Binary units (KiB, MiB, GiB, TiB)
 * are powers of 1024, decimal units (kB, MB, GB, TB) powers of 1000; units are case-insensitive but the
 * "i" matters. A unit without "B" ("20G") is rejected as ambiguous. Returns undefined if malformed.
 */
export function parseSize(text: string | number): number | undefined {
  if (typeof text === 'number') return Number.isSafeInteger(text) && text >= 0 ? text : undefined;
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$/.exec(text);
  if (!m) return undefined;
  const unit = (m[2] as string).toLowerCase();
  const mult = unit === '' ? 1 : SIZE_UNITS[unit];
  if (mult === undefined) return undefined;
  const bytes = Math.floor(Number(m[1]) * mult);
  return Number.isSafeInteger(bytes) ? bytes : undefined;
}

/** A size (string with unit or a number of bytes) parsed to bytes, at least `min` bytes. */
export function size(opts: { min?: number; example?: string } = {}) {
  const min = opts.min ?? 0;
  return withRule(
    z.union([z.number(), z.string()]).transform((v, ctx) => {
      const b = parseSize(v);
      if (b === undefined || b < min) return ruleIssue(ctx);
      return b;
    }),
    'a size such as "512MiB" or "20GiB" (units B, kB, KiB, MB, MiB, GB, GiB, TB, TiB) or a number of bytes' +
      (min > 0 ? `, at least ${min} bytes` : ''),
    opts.example ?? '20GiB',
  );
}

// ---------------------------------------------------------------------------------------------------
// Paths

/** A file or folder path; relative paths are resolved against the plan's folder. `~/` is the home folder. */
export function filePath(ctx: PlanContext, example = 'data/file') {
  return withRule(
    z
      .string()
      .min(1)
      .transform((p) => {
        const home = process.env.HOME;
        if (home && (p === '~' || p.startsWith('~/'))) return resolve(home, p.slice(2));
        return isAbsolute(p) ? p : resolve(ctx.planDir, p);
      }),
    "a file or folder path (a relative path is resolved against the plan file's folder)",
    example,
  );
}

// ---------------------------------------------------------------------------------------------------
// Patterns (may hold patient data: never echoed)

/** A compiled value pattern. `source` is the text as written (treat as patient data: do not log it). */
export interface Pattern {
  readonly kind: 'glob' | 'regex';
  readonly source: string;
  /** Matches a whole attribute value (globs are anchored; regexes are as written). */
  readonly regex: RegExp;
}

/** Convert a glob (`*` any characters, `?` one character, `\` escapes) to an anchored, case-insensitive RegExp. */
export function globToRegExp(glob: string): RegExp {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i] as string;
    if (c === '\\' && i + 1 < glob.length) {
      re += (glob[++i] as string).replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');
    } else if (c === '*') re += '.*';
    else if (c === '?') re += '.';
    else re += c.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');
  }
  return new RegExp(`^${re}$`, 'is');
}

/** Short reason from a V8 RegExp SyntaxError, without the pattern (which may be patient data). */
function regexReason(e: unknown, pattern: string): string {
  const msg = e instanceof Error ? e.message : '';
  const reason = msg.slice(msg.lastIndexOf(': ') + 2);
  const safe =
    reason.length > 0 &&
    reason.length <= 48 &&
    /^[A-Za-z ()'[\]{}\\-]+$/.test(reason) &&
    !pattern.includes(reason);
  return safe ? ` (${reason.toLowerCase()})` : '';
}

export type PatternResult = { ok: true; pattern: Pattern } | { ok: false; message: string };

/**
 * Compile a pattern: `/regex/flags` (flags i, m, s, u) or a glob. The error message never contains the
 * pattern text.
 */
export function compilePattern(text: string): PatternResult {
  const m = /^\/(.*)\/([a-z]*)$/s.exec(text);
  if (m) {
    const body = m[1] as string;
    const flags = m[2] as string;
    const bad = [...flags].filter((f) => !'imsu'.includes(f));
    if (bad.length > 0 || new Set(flags).size !== flags.length)
      return {
        ok: false,
        message:
          'has unsupported regular-expression flags: use only i, m, s, u (g and y make matching stateful), e.g. "/^TEST/i"',
      };
    try {
      return { ok: true, pattern: { kind: 'regex', source: text, regex: new RegExp(body, flags) } };
    } catch (e) {
      return {
        ok: false,
        message: `is not a valid regular expression${regexReason(e, text)}: check brackets and escapes, e.g. "/^TEST\\^/i"`,
      };
    }
  }
  return { ok: true, pattern: { kind: 'glob', source: text, regex: globToRegExp(text) } };
}

const PATTERN_RULE =
  'a pattern in quotes: a glob such as "TEST*" (* any characters, ? one character, case-insensitive, whole value) or a regular expression such as "/^ZZ/i"';

function patternFrom(
  v: unknown,
  ctx: z.core.$RefinementCtx<unknown>,
  path: PropertyKey[],
): Pattern | undefined {
  if (typeof v === 'number') {
    ctx.addIssue({ code: 'custom', message: `${NUMBER_NEEDS_QUOTES} (e.g. "000123*")`, path });
    return undefined;
  }
  if (typeof v !== 'string') {
    ruleIssue(ctx, path);
    return undefined;
  }
  const r = compilePattern(v);
  if (!r.ok) {
    ctx.addIssue({ code: 'custom', message: r.message, path });
    return undefined;
  }
  return r.pattern;
}

/** One pattern. */
export const pattern = (example = 'TEST*') =>
  withRule(
    z.union([z.string(), z.number()]).transform((v, ctx) => patternFrom(v, ctx, []) ?? z.NEVER),
    PATTERN_RULE,
    example,
  );

/** One pattern or a list of patterns (any may match), normalised to a list. */
export const patterns = (example: unknown = 'TEST*') =>
  withRule(
    z.union([z.string(), z.number(), z.array(z.unknown())]).transform((v, ctx) => {
      const list: unknown[] = Array.isArray(v) ? v : [v];
      if (list.length === 0) return ruleIssue(ctx);
      const out: Pattern[] = [];
      list.forEach((item, i) => {
        const p = patternFrom(item, ctx, Array.isArray(v) ? [i] : []);
        if (p) out.push(p);
      });
      return out.length === list.length ? out : z.NEVER;
    }),
    `${PATTERN_RULE}, or a list of them`,
    example,
  );

/** A text value that may be patient data (set by a transform rule); numbers must be quoted. */
export const phiText = (example = 'NEW HOSPITAL') =>
  withRule(
    z.union([z.string(), z.number(), z.null()]).transform((v, ctx) => {
      if (typeof v === 'number') {
        ctx.addIssue({ code: 'custom', message: NUMBER_NEEDS_QUOTES });
        return z.NEVER;
      }
      return v ?? '';
    }),
    'a text value in quotes, or null for an empty value',
    example,
  );

// ---------------------------------------------------------------------------------------------------
// DICOM identifiers

/** DICOM attribute keyword (PS3.6), e.g. PatientID, StationName: UpperCamelCase letters and digits. */
export const KEYWORD_RE = /^[A-Z][A-Za-z0-9]{0,63}$/;

export const keyword = (example = 'StationName') =>
  withRule(
    z.string().regex(KEYWORD_RE),
    'a DICOM attribute keyword such as PatientID or StationName',
    example,
  );

/** DICOM UID: components of digits separated by dots, no leading zeros, at most 64 characters. */
export const UID_RE = /^(?:0|[1-9][0-9]*)(?:\.(?:0|[1-9][0-9]*))+$/;

export const uid = (example = '1.2.840.10008.1.2.1') =>
  withRule(
    z.string().max(64).regex(UID_RE),
    'a DICOM UID: digits and dots, at most 64 characters, e.g. 1.2.840.10008.1.2.1',
    example,
  );

/** Modality code (CS), normalised to upper case. */
export const modality = () =>
  withRule(
    z
      .string()
      .regex(/^[A-Za-z0-9_ ]{1,16}$/)
      .transform((s) => s.trim().toUpperCase()),
    'a modality code such as CT, MR, US, CR, DX, MG, SR',
    'CT',
  );

/** One modality or a list, normalised to a list. */
export const modalities = (example: unknown = ['CT', 'MR']) =>
  withRule(
    z.union([modality(), z.array(modality()).min(1)]).transform((v) => (Array.isArray(v) ? v : [v])),
    'a modality code such as CT, or a list such as [CT, MR]',
    example,
  );

// ---------------------------------------------------------------------------------------------------
// Dates and times

function validYmd(y: number, m: number, d: number): boolean {
  if (m < 1 || m > 12 || d < 1) return false;
  const days = new Date(Date.UTC(y, m, 0)).getUTCDate();
  return d <= days;
}

/** A calendar date written YYYY-MM-DD (or YYYYMMDD), normalised to DICOM DA form "YYYYMMDD". */
export const date = (example = '2010-01-01') =>
  withRule(
    z.union([z.string(), z.int()]).transform((v, ctx) => {
      const m = /^(\d{4})-?(\d{2})-?(\d{2})$/.exec(String(v).trim());
      if (!m || !validYmd(Number(m[1]), Number(m[2]), Number(m[3]))) return ruleIssue(ctx);
      return `${m[1]}${m[2]}${m[3]}`;
    }),
    'a date written YYYY-MM-DD',
    example,
  );

/** A local time of day "HH:MM" (00:00–24:00), parsed to minutes since midnight. */
export const timeOfDay = (example = '19:00') =>
  withRule(
    z.string().transform((s, ctx) => {
      const m = /^(\d{1,2}):(\d{2})$/.exec(s.trim());
      const h = Number(m?.[1]);
      const min = Number(m?.[2]);
      if (!m || h > 24 || min > 59 || (h === 24 && min !== 0)) return ruleIssue(ctx);
      return h * 60 + min;
    }),
    'a local time HH:MM between 00:00 and 24:00',
    example,
  );

/** An IANA time zone name, validated against the runtime's time-zone database. */
export const timeZone = () =>
  withRule(
    z.string().refine(
      (tz) => {
        try {
          new Intl.DateTimeFormat('en', { timeZone: tz });
          return true;
        } catch {
          return false;
        }
      },
      { params: USE_RULE },
    ),
    'an IANA time zone such as Europe/London',
    'Europe/London',
  );

/** A short identifier (rule ids, plan name): letters, digits, dot, dash, underscore. */
export const ident = (example: string) =>
  withRule(
    z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/),
    'an identifier of 1–64 letters, digits, ".", "-" or "_", starting with a letter or digit',
    example,
  );

/** Free text (descriptions). */
export const text = (example = 'Why this exists') => withRule(z.string().max(2000), 'text', example);
