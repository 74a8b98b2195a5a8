/**
 * The dimensions of the longitudinal sample ("all types of images from all types and versions of
 * equipment over time"), as a table: what one instance contributes to its combination, and where the
 * value comes from. A combination is one value per dimension; every combination present in the
 * source must be migrated (and verified) at least once in the pilot.
 */

export const DIMENSIONS = [
  { id: 'sopClass', what: 'SOP Class UID', from: 'inventory (IMAGE level), else the header' },
  { id: 'modality', what: 'Modality', from: 'inventory (series), else the header' },
  { id: 'manufacturer', what: 'Manufacturer', from: 'inventory (series), else the header' },
  { id: 'model', what: 'Manufacturer Model Name', from: 'inventory (series), else the header' },
  { id: 'softwareVersions', what: 'Software Versions', from: 'inventory (series), else the header' },
  { id: 'year', what: 'year of the Study Date', from: 'inventory (study)' },
  {
    id: 'transferSyntax',
    what: 'transfer syntax as stored',
    from: 'inventory (AvailableTransferSyntaxUID or the file), else the header',
  },
  {
    id: 'charset',
    what: 'Specific Character Set',
    from: 'the header (recorded at migration, pre-flight, or read from one instance per series)',
  },
] as const;

export type DimensionId = (typeof DIMENSIONS)[number]['id'];
export const DIMENSION_IDS: readonly DimensionId[] = DIMENSIONS.map((d) => d.id);

export type Combination = Readonly<Record<DimensionId, string>>;

/** A value that was reported empty. */
export const NONE = '(none)';
/** A value nothing told us (the header was not read). */
export const UNKNOWN = '(unknown)';

/** Trimmed, inner whitespace collapsed, multi-values joined with "\"; empty → NONE; undefined → UNKNOWN. */
export function normalise(v: string | null | undefined): string {
  if (v === undefined) return UNKNOWN;
  if (v === null) return NONE;
  const s = v
    .split('\\')
    .map((x) => x.trim().replace(/\s+/g, ' '))
    .filter((x) => x !== '')
    .join('\\');
  return s === '' ? NONE : s;
}

/** YYYY of a DA value, NONE when empty, 'invalid' when not a date. */
export function yearOf(studyDate: string | null | undefined): string {
  if (studyDate === undefined) return UNKNOWN;
  const s = (studyDate ?? '').trim();
  if (s === '') return NONE;
  const m = /^(\d{4})\.?\d{2}\.?\d{2}$/.exec(s);
  return m ? m[1]! : 'invalid';
}

/** The combination as one stable string. */
export const combinationKey = (c: Combination): string => JSON.stringify(DIMENSION_IDS.map((d) => c[d]));

export const combinationOfKey = (k: string): Combination => {
  const values = JSON.parse(k) as string[];
  return Object.fromEntries(DIMENSION_IDS.map((d, i) => [d, values[i] ?? UNKNOWN])) as Combination;
};
