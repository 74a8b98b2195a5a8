/** What is wrong with a StudyDate, and the year it falls in (for the breakdown by year). */

export type StudyDateProblem = 'missing' | 'invalid' | 'future' | 'too-old';

export interface StudyDateVerdict {
  /** 'undated' when the date is empty or not a calendar date. */
  readonly year: string;
  readonly problem?: StudyDateProblem;
}

/** Default lower bound of a plausible StudyDate (CT came in 1971, ACR-NEMA in 1985). */
export const DEFAULT_OLDEST_PLAUSIBLE = '19700101';

function calendar(v: string): { y: number; m: number; d: number } | undefined {
  const s = v.trim().replace(/^(\d{4})\.(\d{2})\.(\d{2})$/, '$1$2$3');
  const m = /^(\d{4})(\d{2})(\d{2})$/.exec(s);
  if (!m) return undefined;
  const y = Number(m[1]);
  const mo = Number(m[2]);
  const d = Number(m[3]);
  const date = new Date(Date.UTC(2000, mo - 1, d));
  date.setUTCFullYear(y);
  if (y < 1 || date.getUTCFullYear() !== y || date.getUTCMonth() !== mo - 1 || date.getUTCDate() !== d)
    return undefined;
  return { y, m: mo, d };
}

const da = (c: { y: number; m: number; d: number }): string =>
  `${String(c.y).padStart(4, '0')}${String(c.m).padStart(2, '0')}${String(c.d).padStart(2, '0')}`;

/**
 * `today` is YYYYMMDD (UTC of the analysis clock, plus one day of slack for time zones);
 * dates before `oldest` (YYYYMMDD) are implausibly old.
 */
export function judgeStudyDate(
  value: string | null | undefined,
  today: string,
  oldest = DEFAULT_OLDEST_PLAUSIBLE,
): StudyDateVerdict {
  if (!value || value.trim() === '') return { year: 'undated', problem: 'missing' };
  const c = calendar(value);
  if (!c) return { year: 'undated', problem: 'invalid' };
  const s = da(c);
  const year = String(c.y);
  if (s > today) return { year, problem: 'future' };
  if (s < oldest) return { year, problem: 'too-old' };
  return { year };
}

/** YYYYMMDD of the day after `ms` (UTC): dates up to then are not "in the future". */
export function tomorrowOf(ms: number): string {
  const d = new Date(ms + 86_400_000);
  return `${d.getUTCFullYear()}${String(d.getUTCMonth() + 1).padStart(2, '0')}${String(d.getUTCDate()).padStart(2, '0')}`;
}
