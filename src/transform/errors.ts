/**
 * Why a transform could not be loaded. Each error names the plan path (`transform.corrections[0].csv`),
 * the CSV row and column where it applies — never a cell's value or a rule's value (patient data).
 *
 * | kind              | when                                                                           |
 * | ----------------- | ------------------------------------------------------------------------------ |
 * | csv-unreadable    | the file cannot be read, is not valid in its encoding, has no header, a quote never closes |
 * | csv-column        | a column named in match/set is missing from the header (or is there twice)     |
 * | csv-duplicate-key | two rows with the same match key set different values (same values: a warning) |
 * | csv-row           | a row is malformed, has no key, or a set value is not valid for the element's VR |
 * | keyword           | a keyword is not in the data dictionary, or names an element that cannot be set (binary, sequence) |
 * | value             | a rule's set value is not valid for the element's VR                           |
 */
export type TransformLoadErrorKind =
  'csv-unreadable' | 'csv-column' | 'csv-duplicate-key' | 'csv-row' | 'keyword' | 'value';

export interface TransformLoadError {
  readonly kind: TransformLoadErrorKind;
  /** Table or rule id. */
  readonly id: string;
  /** Plan path, e.g. `transform.corrections[0].csv` or `transform.rules[1].set.PatientName`. */
  readonly path: string;
  /** 1-based data row of the CSV (header = row 0). */
  readonly row?: number;
  /** Rows involved when there are several (csv-duplicate-key: both rows). */
  readonly rows?: readonly number[];
  /** CSV column name (not patient data). */
  readonly column?: string;
  /** Starts with the plan path; never holds a value. */
  readonly message: string;
}
