/**
 * Calendar arithmetic on DICOM dates (DA, "YYYYMMDD") for years 1–9999, in whole days, without
 * `Date` (whose years 0–99 mean 1900–1999). Proleptic Gregorian calendar, as DICOM uses.
 */

/** Smallest and largest DA values: the ends of an open date range. */
export const MIN_DA = '00010101';
export const MAX_DA = '99991231';

/** Days since 1970-01-01 of a civil date (H. Hinnant's days_from_civil). */
export function daysFromCivil(y: number, m: number, d: number): number {
  const yy = m <= 2 ? y - 1 : y;
  const era = Math.floor(yy / 400);
  const yoe = yy - era * 400;
  const doy = Math.floor((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

/** The civil date of a day number (inverse of daysFromCivil). */
export function civilFromDays(z: number): { y: number; m: number; d: number } {
  const zz = z + 719468;
  const era = Math.floor(zz / 146097);
  const doe = zz - era * 146097;
  const yoe = Math.floor(
    (doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365,
  );
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const d = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const m = mp + (mp < 10 ? 3 : -9);
  return { y: yoe + era * 400 + (m <= 2 ? 1 : 0), m, d };
}

const isLeap = (y: number): boolean => (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
const MONTH_DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
const daysInMonth = (y: number, m: number): number => (m === 2 && isLeap(y) ? 29 : MONTH_DAYS[m - 1]!);

/**
 * A DA value as a day number, or undefined when it is not a real calendar date. Accepts the legacy
 * form "YYYY.MM.DD" (ACR-NEMA) and surrounding spaces.
 */
export function parseDA(value: string | null | undefined): number | undefined {
  if (!value) return undefined;
  const s = value.trim().replace(/^(\d{4})\.(\d{2})\.(\d{2})$/, '$1$2$3');
  const m = /^(\d{4})(\d{2})(\d{2})$/.exec(s);
  if (!m) return undefined;
  const y = Number(m[1]);
  const mo = Number(m[2]);
  const d = Number(m[3]);
  if (y < 1 || mo < 1 || mo > 12 || d < 1 || d > daysInMonth(y, mo)) return undefined;
  return daysFromCivil(y, mo, d);
}

/** The DA value ("YYYYMMDD") of a day number. */
export function formatDA(day: number): string {
  const { y, m, d } = civilFromDays(day);
  return `${String(y).padStart(4, '0')}${String(m).padStart(2, '0')}${String(d).padStart(2, '0')}`;
}

/** The DA value of a JavaScript date, in UTC. */
export function daOf(date: Date): string {
  return formatDA(daysFromCivil(date.getUTCFullYear(), date.getUTCMonth() + 1, date.getUTCDate()));
}

/**
 * The day `years` after `day` (the same month and day). A 29 February that does not exist in the
 * target year becomes 1 March: a retention period ends one day later rather than one day early.
 */
export function addYears(day: number, years: number): number {
  const { y, m, d } = civilFromDays(day);
  const ty = y + years;
  if (m === 2 && d === 29 && !isLeap(ty)) return daysFromCivil(ty, 3, 1);
  return daysFromCivil(ty, m, d);
}
