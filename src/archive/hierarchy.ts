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

export interface StudySummary {
  uid: string;
  patientId: string;
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

export function summarizeStudy(index: ArchiveIndex, studyUid: string): StudySummary | undefined {
  let study: StudySummary | undefined;
  const modalities = new Set<string>();
  const sopClasses = new Set<string>();
  for (const row of index.studyRows(studyUid)) {
    study ??= { uid: studyUid, patientId: row.patientId, attrs: pick(row.attrs, UPPER_KEYS), series: new Map(), instances: 0, modalities: [], sopClasses: [] };
    let s = study.series.get(row.seriesUid);
    if (!s) {
      s = { uid: row.seriesUid, studyUid, attrs: pick(row.attrs, SERIES_KEYS), instances: 0 };
      study.series.set(row.seriesUid, s);
      if (s.attrs.Modality) for (const m of s.attrs.Modality.split('\\')) if (m) modalities.add(m);
    }
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

  /** Patients by PatientID; patient attributes from their first study. */
  patients(): PatientSummary[] {
    const byId = new Map<string, PatientSummary>();
    for (const st of this.allStudies()) {
      let p = byId.get(st.patientId);
      if (!p) {
        p = { patientId: st.patientId, attrs: pick(st.attrs, headerKeywordsAt('PATIENT')), studies: [], series: 0, instances: 0 };
        byId.set(st.patientId, p);
      }
      p.studies.push(st);
      p.series += st.series.size;
      p.instances += st.instances;
    }
    return [...byId.values()];
  }

  counts(): { patients: number; studies: number; series: number; instances: number } {
    const studies = this.allStudies();
    return {
      patients: new Set(studies.map((s) => s.patientId)).size,
      studies: studies.length,
      series: studies.reduce((n, s) => n + s.series.size, 0),
      instances: studies.reduce((n, s) => n + s.instances, 0),
    };
  }
}
