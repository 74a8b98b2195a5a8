/**
 * How a capped study-level C-FIND is split into parts (pure functions, no network).
 *
 * The root query (no date) either completes, or is split two ways at once:
 *
 * - the DATED pass: StudyDate ranges covering every date (below 1900, 1900 to the end of this year,
 *   later), each bisected (at a year boundary, else a month boundary, else the middle day) while
 *   capped, down to single days; a capped single day is split by StudyTime (halves, down to one
 *   minute), then by PatientName prefix, then by ModalitiesInStudy;
 * - the UNDATED pass: a study with an empty StudyDate matches no date range, and DICOM cannot ask for
 *   "empty" (an empty key is a universal match). So for each key in `undatedKeys` the root is split
 *   again, without any date, by that key (PatientID or PatientName prefixes, or ModalitiesInStudy),
 *   then by StudyTime. These parts return dated studies too; the inventory keeps what no dated part
 *   found (studies whose StudyDate is empty, or not a date any range can match).
 *
 * Prefix splits use A–Z, 0–9 and a few separators (PatientID also a–z), plus every character found at
 * that position in the capped answer being split or in any value of that key seen during the run;
 * each level also asks for the prefix itself as an exact value. A study
 * whose split key is empty (or starts with a character no answer showed) is in no part: the
 * inventory checks every capped answer against its parts and records what leaked (see tree.ts).
 */
import { MAX_DA, MIN_DA, daysFromCivil, civilFromDays, formatDA, parseDA } from './dates.js';

export type PrefixKey = 'PatientName' | 'PatientID';
export type SplitDim = 'StudyDate' | 'StudyTime' | PrefixKey | 'ModalitiesInStudy';
export type UndatedKey = PrefixKey | 'ModalitiesInStudy';

/** Inclusive day-number range (dates.ts day numbers). */
export interface DayRange {
  readonly from: number;
  readonly to: number;
}

/** Inclusive range of seconds since midnight (0–86399). */
export interface SecondRange {
  readonly from: number;
  readonly to: number;
}

export interface Prefix {
  readonly value: string;
  /** Match the value exactly instead of as a prefix. */
  readonly exact: boolean;
}

export interface StudyConstraints {
  readonly date?: DayRange;
  readonly time?: SecondRange;
  readonly prefix?: Readonly<Partial<Record<PrefixKey, Prefix>>>;
  readonly modality?: string;
}

export type StudyPass = 'all' | 'dated' | 'undated';

export interface StudyNode {
  readonly pass: StudyPass;
  readonly constraints: StudyConstraints;
  /** Dimensions this node may still be split along, in order. */
  readonly dims: readonly SplitDim[];
}

export const MIN_DAY = parseDA(MIN_DA)!;
export const MAX_DAY = parseDA(MAX_DA)!;
export const FULL_DAYS: DayRange = { from: MIN_DAY, to: MAX_DAY };
const DAY_SECONDS = 86_400;
/** A StudyTime range is not split below this many seconds. */
export const MIN_TIME_SPAN = 60;
export const DEFAULT_MAX_PREFIX = 8;

/** Split dimensions of a dated part, in order. */
export const DATED_DIMS: readonly SplitDim[] = ['StudyDate', 'StudyTime', 'ModalitiesInStudy', 'PatientName'];
export const DEFAULT_UNDATED_KEYS: readonly UndatedKey[] = ['ModalitiesInStudy', 'PatientID'];

const UPPER = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';
const DIGITS = '0123456789';
/**
 * Base alphabet of prefix splits, by key (PN matching is case-insensitive in practice; LO is not).
 * "^" and " " start names whose family name is empty or padded.
 */
export const BASE_ALPHABET: Readonly<Record<PrefixKey, string>> = {
  PatientName: UPPER + DIGITS + '^ ',
  PatientID: UPPER + UPPER.toLowerCase() + DIGITS + '-',
};

// ---------------------------------------------------------------------------------------------------
// Date ranges

/** The StudyDate matching value of a range: '' (universal), 'A-', '-B', 'A' or 'A-B'. */
export function dateKey(r: DayRange): string {
  const lo = r.from <= MIN_DAY ? '' : formatDA(r.from);
  const hi = r.to >= MAX_DAY ? '' : formatDA(r.to);
  if (lo === '' && hi === '') return '';
  if (r.from === r.to) return lo;
  return `${lo}-${hi}`;
}

/** Day number of 1 January of `y`. */
const jan1 = (y: number): number => daysFromCivil(y, 1, 1);

/** Split point s (first day of the upper part, from < s <= to), snapped to a calendar boundary. */
function dateSplitPoint(r: DayRange): number {
  const span = r.to - r.from + 1;
  const mid = r.from + Math.floor(span / 2);
  const nearest = (cands: number[]): number | undefined =>
    cands.filter((c) => c > r.from && c <= r.to).sort((a, b) => Math.abs(a - mid) - Math.abs(b - mid))[0];
  const m = civilFromDays(mid);
  if (span > 2 * 366) {
    const s = nearest([jan1(m.y), jan1(m.y + 1)]);
    if (s !== undefined) return s;
  }
  if (span > 62) {
    const next = m.m === 12 ? daysFromCivil(m.y + 1, 1, 1) : daysFromCivil(m.y, m.m + 1, 1);
    const s = nearest([daysFromCivil(m.y, m.m, 1), next]);
    if (s !== undefined) return s;
  }
  return mid;
}

/**
 * Parts of a capped date range: the open range becomes "before 1900", "1900 to the end of
 * `today`'s year" and "later"; any other range of two days or more is bisected; a single day cannot
 * be split (undefined).
 */
export function splitDays(r: DayRange, today: number): DayRange[] | undefined {
  if (r.from >= r.to) return undefined;
  if (r.from <= MIN_DAY && r.to >= MAX_DAY) {
    const y = civilFromDays(today).y;
    return [
      { from: MIN_DAY, to: jan1(1900) - 1 },
      { from: jan1(1900), to: jan1(y + 1) - 1 },
      { from: jan1(y + 1), to: MAX_DAY },
    ];
  }
  const s = dateSplitPoint(r);
  return [
    { from: r.from, to: s - 1 },
    { from: s, to: r.to },
  ];
}

// ---------------------------------------------------------------------------------------------------
// Time ranges

const hhmmss = (s: number): string =>
  [Math.floor(s / 3600), Math.floor((s % 3600) / 60), s % 60].map((n) => String(n).padStart(2, '0')).join('');

/** The StudyTime matching value of a range, e.g. "120000-235959". */
export function timeKey(r: SecondRange): string {
  return `${hhmmss(r.from)}-${hhmmss(r.to)}`;
}

/** Parts of a StudyTime range: the whole day into halves, then halves at hour or minute boundaries. */
export function splitSeconds(r: SecondRange | undefined): SecondRange[] | undefined {
  if (r === undefined)
    return [
      { from: 0, to: DAY_SECONDS / 2 - 1 },
      { from: DAY_SECONDS / 2, to: DAY_SECONDS - 1 },
    ];
  const span = r.to - r.from + 1;
  if (span <= MIN_TIME_SPAN) return undefined;
  const mid = r.from + Math.floor(span / 2);
  const unit = span > 2 * 3600 ? 3600 : 60;
  let s = Math.round(mid / unit) * unit;
  if (s <= r.from || s > r.to) s = mid;
  return [
    { from: r.from, to: s - 1 },
    { from: s, to: r.to },
  ];
}

// ---------------------------------------------------------------------------------------------------
// Prefixes and modalities

/**
 * Characters that cannot extend a prefix: wildcards, the value separator, control characters, and
 * "_" and "%": Orthanc 1.10 passes them to its database as SQL LIKE wildcards, so its capped lookup
 * counts candidates the DICOM match then drops, and answers FE00 with fewer matches than its limit
 * however far the prefix is split.
 */
const UNUSABLE = /[*?\\%_\p{Cc}]/u;

/**
 * The alphabet a prefix is extended with: the base alphabet plus the characters `observed` at that
 * position (case-folded for PatientName, whose matching is case-insensitive in practice).
 */
export function prefixAlphabet(key: PrefixKey, observed: Iterable<string> = []): string[] {
  const out = [...BASE_ALPHABET[key]];
  const seen = new Set(out.map((c) => (key === 'PatientName' ? c.toUpperCase() : c)));
  for (const c of observed) {
    if (c === '' || UNUSABLE.test(c)) continue;
    const k = key === 'PatientName' ? c.toUpperCase() : c;
    if (seen.has(k)) continue;
    seen.add(k);
    out.push(c);
  }
  return out;
}

/** The character after `prefix` in `value`, when `value` starts with it (case-insensitively for PN). */
export function nextChar(key: PrefixKey, prefix: string, value: string): string | undefined {
  const chars = [...value];
  const pre = [...prefix];
  if (chars.length <= pre.length) return undefined;
  const head = chars.slice(0, pre.length).join('');
  const same = key === 'PatientName' ? head.toUpperCase() === prefix.toUpperCase() : head === prefix;
  return same ? chars[pre.length] : undefined;
}

/** Parts of a prefix: every first character, then the prefix exactly plus every longer prefix. */
export function splitPrefix(
  current: Prefix | undefined,
  alphabet: readonly string[],
  maxLength = DEFAULT_MAX_PREFIX,
): Prefix[] | undefined {
  if (current === undefined) return alphabet.map((c) => ({ value: c, exact: false }));
  if (current.exact || [...current.value].length >= maxLength) return undefined;
  return [
    { value: current.value, exact: true },
    ...alphabet.map((c) => ({ value: current.value + c, exact: false })),
  ];
}

// ---------------------------------------------------------------------------------------------------
// Nodes

/** What a split needs besides the node: today, and what the source's answers have shown so far. */
export interface SplitContext {
  readonly today: number;
  /** Values of the split keys in the capped answer being split. */
  readonly observed: {
    readonly PatientName: readonly string[];
    readonly PatientID: readonly string[];
    readonly modalities: readonly string[];
  };
  /** Characters seen in these keys' values during the run, by position (added to splits at that position). */
  readonly characters?: {
    readonly PatientName: readonly ReadonlySet<string>[];
    readonly PatientID: readonly ReadonlySet<string>[];
  };
  /** Modality codes to split by (defined terms plus codes seen in this run). */
  readonly modalities: readonly string[];
  readonly maxPrefix?: number;
}

export interface NodeSplit {
  readonly dim: SplitDim;
  readonly children: StudyNode[];
}

function splitAlong(
  node: StudyNode,
  dim: SplitDim,
  ctx: SplitContext,
  dims: readonly SplitDim[],
): StudyNode[] | undefined {
  const c = node.constraints;
  const child = (constraints: StudyConstraints): StudyNode => ({ pass: node.pass, constraints, dims });
  switch (dim) {
    case 'StudyDate': {
      const parts = splitDays(c.date ?? FULL_DAYS, ctx.today);
      return parts?.map((date) => child({ ...c, date }));
    }
    case 'StudyTime':
      return splitSeconds(c.time)?.map((time) => child({ ...c, time }));
    case 'PatientName':
    case 'PatientID': {
      const current = c.prefix?.[dim];
      const prefixText = current?.value ?? '';
      const seenNext = ctx.observed[dim]
        .map((v) => nextChar(dim, prefixText, v))
        .filter((x): x is string => !!x);
      const atPosition = ctx.characters?.[dim][[...prefixText].length] ?? [];
      const alphabet = prefixAlphabet(dim, [...seenNext, ...atPosition]);
      const parts = splitPrefix(current, alphabet, ctx.maxPrefix);
      return parts?.map((p) => child({ ...c, prefix: { ...c.prefix, [dim]: p } }));
    }
    case 'ModalitiesInStudy': {
      if (c.modality !== undefined) return undefined;
      const codes = new Set<string>();
      for (const m of [...ctx.modalities, ...ctx.observed.modalities]) {
        const t = m.trim().toUpperCase();
        if (t && !UNUSABLE.test(t)) codes.add(t);
      }
      return [...codes].map((modality) => child({ ...c, modality }));
    }
  }
}

/** Split a capped node along the first of its dimensions that still splits; undefined when none does. */
export function splitNode(node: StudyNode, ctx: SplitContext): NodeSplit | undefined {
  for (let i = 0; i < node.dims.length; i++) {
    const dim = node.dims[i]!;
    const children = splitAlong(node, dim, ctx, node.dims.slice(i));
    if (children && children.length > 0) return { dim, children };
  }
  return undefined;
}

/** Parts of the capped root query: the dated pass and one undated tree per key. */
export function splitRoot(ctx: SplitContext, undatedKeys: readonly UndatedKey[]): StudyNode[] {
  const dated = splitDays(FULL_DAYS, ctx.today)!.map((date): StudyNode => ({
    pass: 'dated',
    constraints: { date },
    dims: DATED_DIMS,
  }));
  const undated = undatedKeys.flatMap(
    (key) => splitNode({ pass: 'undated', constraints: {}, dims: [key, 'StudyTime'] }, ctx)?.children ?? [],
  );
  return [...dated, ...undated];
}

/** The matching keys a node sends (besides the return keys). */
export function matchingKeys(node: StudyNode): Record<string, string> {
  const c = node.constraints;
  const keys: Record<string, string> = {};
  if (c.date) keys.StudyDate = dateKey(c.date);
  if (c.time) keys.StudyTime = timeKey(c.time);
  for (const [k, p] of Object.entries(c.prefix ?? {})) if (p) keys[k] = p.exact ? p.value : `${p.value}*`;
  if (c.modality !== undefined) keys.ModalitiesInStudy = c.modality;
  return keys;
}

/** True when a matching key holds characters outside ASCII (the request then declares ISO_IR 192). */
export const needsUtf8 = (keys: Record<string, string>): boolean =>
  Object.values(keys).some((v) => /[^\x20-\x7e]/.test(v));
