/**
 * What the inventory found wrong with the source's answers, recorded as audit events (one kind per
 * problem, UIDs and counts only: no patient data) and counted for the summary. A finding is never
 * "fixed": the inventory records what the source said and what disagrees with it.
 */
import type { EventInput, Json, Store } from '../state/index.js';

/** Event kinds the inventory writes, and what each means. */
export const FINDING_KINDS = {
  'inventory.study-in-several-patients':
    "one StudyInstanceUID was answered under more than one PatientID (or issuer); the first answer's values are kept, the reported counts of all answers added up",
  'inventory.count-mismatch':
    'the number of series or instances the source reported for a study or series differs from what its lower-level queries listed',
  'inventory.split-leak':
    'a capped answer contained studies (or series) that none of its split parts returned: their split keys are empty or unmatched; the query is not covered',
  'inventory.unsplittable': 'a capped query could not be split any further: part of the source is not listed',
  'inventory.proven-by-totals':
    "study-level parts no split could list, checked against the source's patient totals (NumberOfPatientRelatedStudies): how many were proven (nothing missing) and how many not",
  'inventory.query-failed':
    'a C-FIND failed (status or network) after its retries: that part of the source is not listed',
  'inventory.date-gap':
    'a study with a StudyDate was found only by the undated pass: the source did not match it to any date range (malformed date?)',
  'inventory.match-without-uid':
    'an answer carried no UID for its level: it cannot be listed or retrieved (detail: the query id and the index of the answer); at study level the query is not covered and the run not complete',
  'inventory.unreadable-file':
    'a file in the source folder could not be read as DICOM (typed error code in the detail)',
  'inventory.duplicate-instance':
    'several files in the source folder hold the same SOP Instance UID; the first is listed',
} as const;

export type FindingKind = keyof typeof FINDING_KINDS;

export class Findings {
  readonly counts = new Map<FindingKind, number>();
  private buffer: EventInput[] = [];

  constructor(private readonly store: Store) {}

  add(
    kind: FindingKind,
    detail: { readonly [k: string]: Json },
    studyUid?: string | null,
    sopInstanceUid?: string | null,
  ): void {
    this.counts.set(kind, (this.counts.get(kind) ?? 0) + 1);
    this.buffer.push({ kind, detail, studyUid: studyUid ?? null, sopInstanceUid: sopInstanceUid ?? null });
  }

  get pending(): number {
    return this.buffer.length;
  }

  async flush(): Promise<void> {
    const events = this.buffer;
    this.buffer = [];
    for (let i = 0; i < events.length; i += 500) await this.store.appendEvents(events.slice(i, i + 500));
  }

  summary(): Record<string, number> {
    return Object.fromEntries([...this.counts].sort(([a], [b]) => a.localeCompare(b)));
  }
}
