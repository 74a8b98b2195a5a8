/**
 * The Q/R hierarchy in memory: one summary per study (patient and study attributes, its series
 * with their attributes and counts), built from the index and refreshed per study when files
 * change. Patients are derived from studies (grouped by PatientID). Instances stay in SQLite.
 */
import { headerKeywordsAt } from './attributes.js';
import type { HeaderAttributes } from './header.js';
import type { ArchiveIndex } from './index-db.js';

export interface SeriesSummary {
  uid: string;
  studyUid: string;
  /** Series-level header attributes (from the series' first instance by path). */
  attrs: HeaderAttributes;
  instances: number;
}

/** The instances of a study that carry one PatientID (a study may carry several: a data-quality finding). */
export interface StudyPatientPart {
  /** Patient-level header attributes from the first such instance by path. */
  attrs: HeaderAttributes;
  instances: number;
  series: Set<string>;
}

export interface StudySummary {
  uid: string;
  /** The PatientID of the study's first instance by path. */
  patientId: string;
  /** Every PatientID the study's instances carry. */
  patients: Map<string, StudyPatientPart>;
  /** Patient- and study-level header attributes (from the study's first instance by path). */
  attrs: HeaderAttributes;
  series: Map<string, SeriesSummary>;
  instances: number;
  modalities: string[];
  sopClasses: string[];
}

export interface PatientSummary {
  patientId: string;
  attrs: HeaderAttributes;
  studies: StudySummary[];
  series: number;
  instances: number;
}

const pick = (from: HeaderAttributes, keys: readonly string[]): HeaderAttributes => {
  const out: HeaderAttributes = {};
  for (const k of keys) if (from[k] !== undefined) out[k] = from[k];
  if (from.SpecificCharacterSet !== undefined) out.SpecificCharacterSet = from.SpecificCharacterSet;
  return out;
};

const UPPER_KEYS = [...headerKeywordsAt('PATIENT'), ...headerKeywordsAt('STUDY')];
const SERIES_KEYS = headerKeywordsAt('SERIES');
const PATIENT_KEYS = headerKeywordsAt('PATIENT');

export function summarizeStudy(index: ArchiveIndex, studyUid: string): StudySummary | undefined {
  let study: StudySummary | undefined;
  const modalities = new Set<string>();
  const sopClasses = new Set<string>();
  for (const row of index.studyRows(studyUid)) {
    study ??= {
      uid: studyUid,
      patientId: row.patientId,
      patients: new Map(),
      attrs: pick(row.attrs, UPPER_KEYS),
      series: new Map(),
      instances: 0,
      modalities: [],
      sopClasses: [],
    };
    let part = study.patients.get(row.patientId);
    if (!part)
      study.patients.set(
        row.patientId,
        (part = { attrs: pick(row.attrs, PATIENT_KEYS), instances: 0, series: new Set() }),
      );
    part.instances++;
    part.series.add(row.seriesUid);
    let s = study.series.get(row.seriesUid);
    if (!s) {
      s = { uid: row.seriesUid, studyUid, attrs: pick(row.attrs, SERIES_KEYS), instances: 0 };
      study.series.set(row.seriesUid, s);
    }
    // From every instance: a series may mix modalities (an SR filed in a CT series).
    for (const m of (row.attrs.Modality ?? '').split('\\')) if (m) modalities.add(m);
    s.instances++;
    study.instances++;
    sopClasses.add(row.sopClassUid);
  }
  if (study) {
    study.modalities = [...modalities].sort();
    study.sopClasses = [...sopClasses].sort();
  }
  return study;
}

export class Hierarchy {
  private readonly studies = new Map<string, StudySummary>();
  private readonly dirty = new Set<string>();

  constructor(private readonly index: ArchiveIndex) {
    for (const uid of index.studyUids()) this.dirty.add(uid);
  }

  /** These studies changed in the index: their summaries are rebuilt before the next read. */
  invalidate(studyUids: Iterable<string>): void {
    for (const u of studyUids) this.dirty.add(u);
  }

  private refresh(): void {
    if (this.dirty.size === 0) return;
    for (const uid of this.dirty) {
      const s = summarizeStudy(this.index, uid);
      if (s) this.studies.set(uid, s);
      else this.studies.delete(uid);
    }
    this.dirty.clear();
  }

  study(uid: string): StudySummary | undefined {
    this.refresh();
    return this.studies.get(uid);
  }

  allStudies(): StudySummary[] {
    this.refresh();
    return [...this.studies.values()];
  }

  /**
   * Patients by PatientID; a study whose instances carry several PatientIDs is listed under each
   * (as an archive indexing instances does), counting only that patient's instances.
   */
  patients(): PatientSummary[] {
    const byId = new Map<string, PatientSummary>();
    for (const st of this.allStudies()) {
      for (const [pid, part] of st.patients) {
        let p = byId.get(pid);
        if (!p)
          byId.set(pid, (p = { patientId: pid, attrs: part.attrs, studies: [], series: 0, instances: 0 }));
        p.studies.push(st);
        p.series += part.series.size;
        p.instances += part.instances;
      }
    }
    return [...byId.values()];
  }

  counts(): { patients: number; studies: number; series: number; instances: number } {
    const studies = this.allStudies();
    return {
      patients: new Set(studies.flatMap((s) => [...s.patients.keys()])).size,
      studies: studies.length,
      series: studies.reduce((n, s) => n + s.series.size, 0),
      instances: studies.reduce((n, s) => n + s.instances, 0),
    };
  }
}
