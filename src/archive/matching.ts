/**
 * C-FIND attribute matching (PS3.4 C.2.2.2): universal, single value, wildcard (`*`, `?`), range
 * (DA, TM, DT: `A-B`, `A-`, `-B`), list of UIDs. A query value with `\` matches when any of its
 * values matches (the usual practice for ModalitiesInStudy and the like); a multi-valued attribute
 * matches when any of its values does. Person names match case-insensitively (common practice).
 */

export type MatchKind = 'universal' | 'single' | 'wildcard' | 'range' | 'uid-list';

export interface Matcher {
  readonly kind: MatchKind;
  /** `value` is the attribute's value as indexed ('' or undefined when empty or absent). */
  test(value: string | undefined): boolean;
}

/** VRs on which `*` and `?` are wildcards (PS3.4 C.2.2.2.4). */
const WILDCARD_VRS = new Set(['AE', 'CS', 'LO', 'LT', 'PN', 'SH', 'ST', 'UC', 'UR', 'UT']);
const RANGE_VRS = new Set(['DA', 'TM', 'DT']);
const NUMERIC_VRS = new Set(['IS', 'DS']);

/** Legacy forms (`1997.04.24`, `10:12:00`) and padding removed. */
export function normalizeDateTime(vr: string, s: string): string {
  const t = s.trim();
  if (vr === 'DA') return t.replace(/\./g, '');
  if (vr === 'TM') return t.replace(/:/g, '');
  return t.replace(/[+-]\d{4}$/, ''); // DT: the UTC offset is not compared
}

/** Pad a (partial) date/time so that strings compare in time order; `fill` 0 for a lower bound, 9 for an upper. */
function padDateTime(vr: string, s: string, fill: '0' | '9'): string {
  const [whole, frac = ''] = s.split('.');
  const width = vr === 'DA' ? 8 : vr === 'TM' ? 6 : 14;
  if (vr === 'DA') return whole!.padEnd(width, fill);
  return `${whole!.padEnd(width, fill)}.${frac.padEnd(6, fill)}`;
}

const values = (v: string | undefined): string[] =>
  v === undefined || v === '' ? [] : v.split('\\').map((x) => x.trim());

function wildcardRegex(pattern: string, caseInsensitive: boolean): RegExp {
  const body = pattern
    .split('')
    .map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[.+^${}()|[\]\\]/g, '\\$&')))
    .join('');
  return new RegExp(`^${body}$`, caseInsensitive ? 'is' : 's');
}

function oneValueMatcher(vr: string, q: string): ((v: string) => boolean) & { kind: MatchKind } {
  const ci = vr === 'PN';
  const tag = <F extends (v: string) => boolean>(kind: MatchKind, f: F) => Object.assign(f, { kind });
  if (RANGE_VRS.has(vr)) {
    const n = normalizeDateTime(vr, q);
    const dash = n.indexOf('-');
    const lo = dash < 0 ? n : n.slice(0, dash);
    const hi = dash < 0 ? n : n.slice(dash + 1);
    const loP = lo === '' ? undefined : padDateTime(vr, lo, '0');
    const hiP = hi === '' ? undefined : padDateTime(vr, hi, '9');
    return tag(dash < 0 ? 'single' : 'range', (v: string) => {
      const x = normalizeDateTime(vr, v);
      if (x === '') return false;
      const p = padDateTime(vr, x, '0');
      return (loP === undefined || p >= loP) && (hiP === undefined || p <= hiP);
    });
  }
  if (WILDCARD_VRS.has(vr) && /[*?]/.test(q)) {
    const re = wildcardRegex(q, ci);
    return tag('wildcard', (v: string) => re.test(v));
  }
  if (NUMERIC_VRS.has(vr) && q !== '' && Number.isFinite(Number(q))) {
    const n = Number(q);
    return tag('single', (v: string) => v !== '' && Number(v) === n);
  }
  if (ci) {
    const lq = q.toLowerCase();
    return tag('single', (v: string) => v.toLowerCase() === lq);
  }
  return tag('single', (v: string) => v === q);
}

/** A matcher for one query key. `query` is the value as received (padding already removed). */
export function compileMatcher(vr: string, query: string): Matcher {
  const q = query.trim();
  if (q === '' || /^\*+$/.test(q)) return { kind: 'universal', test: () => true };
  if (vr === 'UI') {
    const set = new Set(values(q));
    return { kind: 'uid-list', test: (v) => values(v).some((x) => set.has(x)) };
  }
  const alternatives = values(q)
    .filter((x) => x !== '')
    .map((x) => oneValueMatcher(vr, x));
  const kind =
    alternatives.length === 1
      ? alternatives[0]!.kind
      : alternatives.some((a) => a.kind !== 'single')
        ? alternatives[0]!.kind
        : 'single';
  return { kind, test: (v) => values(v).some((x) => alternatives.some((m) => m(x))) };
}

/** A single value with no wildcard, range or list: what a unique key above the query level must be. */
export function isSingleValue(vr: string, query: string): boolean {
  const q = query.trim();
  if (q === '' || q.includes('\\')) return false;
  if (vr === 'UI' && /[*?]/.test(q)) return false;
  if (WILDCARD_VRS.has(vr) && /[*?]/.test(q)) return false;
  if (RANGE_VRS.has(vr) && q.includes('-')) return false;
  return true;
}
