/**
 * How patient data is compared (after normalising case, spaces and `^` / `=` padding) and how a
 * PatientID group is named in findings without showing it: `pid#` and 12 hex digits of an HMAC keyed
 * by the migration's secret (store.analysisSecret), stable across runs, not reversible by hashing
 * guessed IDs.
 */
import { createHmac } from 'node:crypto';

/** "Doe^John^^^" = "DOE ^ JOHN" = "doe^john": upper case, spaces collapsed, empty trailing components dropped. */
export function normaliseName(v: string | null | undefined): string {
  if (!v) return '';
  return v
    .split('=')
    .map((group) =>
      group
        .split('^')
        .map((c) => c.trim().replace(/\s+/g, ' ').toUpperCase())
        .join('^')
        .replace(/\^+$/, ''),
    )
    .join('=')
    .replace(/=+$/, '');
}

/** The words of a name (any component), for telling a spelling variant from another person. */
export function nameWords(normalised: string): Set<string> {
  return new Set(normalised.split(/[\^= ,.-]+/).filter((w) => w.length > 1));
}

export const normaliseDate = (v: string | null | undefined): string =>
  (v ?? '').trim().replace(/^(\d{4})\.(\d{2})\.(\d{2})$/, '$1$2$3');
export const normaliseSex = (v: string | null | undefined): string => (v ?? '').trim().toUpperCase();
export const normaliseId = (v: string | null | undefined): string => (v ?? '').trim();

/** IDs that look like a placeholder rather than a person's number. */
const PLACEHOLDER_PATTERNS: readonly RegExp[] = [
  /^(\d)\1{3,}$/, // 0000, 99999999
  /^0*12345(6(7(89?)?)?)?$/, // 12345, 123456, 123456789
  /^(UNKNOWN|UNK|ANON(YMOUS|YMIZED)?|NONE|NULL|NA|N\/A|TEST|DUMMY|NOID|NO_ID|NO ID|TMP|TEMP|X+|-+|\?+|\.+)$/i,
];

export function looksLikePlaceholder(id: string): boolean {
  const s = id.trim();
  return s.length <= 2 || PLACEHOLDER_PATTERNS.some((p) => p.test(s));
}

/** Names that identify nobody (anonymised data, test objects). */
const PLACEHOLDER_NAMES =
  /^(ANONYMOUS|ANONYMIZED|ANON|UNKNOWN|TEST|DOE\^JOHN|JOHN DOE|DOE\^JANE|JANE DOE|NONE|X)$/;
export const isPlaceholderName = (normalised: string): boolean =>
  normalised === '' || PLACEHOLDER_NAMES.test(normalised);

/** The group key of a patient: PatientID and IssuerOfPatientID (empty issuer: none given). */
export const groupKey = (patientId: string, issuer: string): string => `${patientId}\u0000${issuer}`;

/** `pid#` + 12 hex digits: the PatientID group's pseudonym. */
export function pseudonym(secret: string, key: string): string {
  return `pid#${createHmac('sha256', secret).update(key).digest('hex').slice(0, 12)}`;
}
