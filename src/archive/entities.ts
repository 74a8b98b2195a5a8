/**
 * The values of one Q/R entity (a patient, study, series or instance) by keyword: header
 * attributes from the summaries or the instance row, computed ones (counts, modalities in study,
 * available transfer syntax) from the hierarchy. Undefined when the attribute is not known at
 * that level.
 */
import type { QueryLevel } from '../net/services/sop-classes.js';
import { attributeByKeyword } from './attributes.js';
import type { PatientSummary, SeriesSummary, StudySummary } from './hierarchy.js';
import type { InstanceRow } from './index-db.js';

export interface Entity {
  level: QueryLevel;
  patient?: PatientSummary;
  study?: StudySummary;
  series?: SeriesSummary;
  row?: InstanceRow;
}

const COMPUTED: Record<string, (e: Entity) => string | undefined> = {
  NumberOfPatientRelatedStudies: (e) => (e.patient ? String(e.patient.studies.length) : undefined),
  NumberOfPatientRelatedSeries: (e) => (e.patient ? String(e.patient.series) : undefined),
  NumberOfPatientRelatedInstances: (e) => (e.patient ? String(e.patient.instances) : undefined),
  ModalitiesInStudy: (e) => e.study?.modalities.join('\\'),
  SOPClassesInStudy: (e) => e.study?.sopClasses.join('\\'),
  NumberOfStudyRelatedSeries: (e) => (e.study ? String(e.study.series.size) : undefined),
  NumberOfStudyRelatedInstances: (e) => (e.study ? String(e.study.instances) : undefined),
  NumberOfSeriesRelatedInstances: (e) => (e.series ? String(e.series.instances) : undefined),
  AvailableTransferSyntaxUID: (e) => e.row?.transferSyntaxUid,
};

export function entityValue(e: Entity, keyword: string): string | undefined {
  const attr = attributeByKeyword.get(keyword);
  if (!attr) return undefined;
  if (attr.source === 'computed') return COMPUTED[keyword]?.(e);
  switch (attr.level) {
    case 'PATIENT':
      // In the patient root, the patient the study was reached through; in the study root, the study's.
      return (e.patient ?? e.study)?.attrs[keyword];
    case 'STUDY':
      if (keyword === 'StudyInstanceUID') return e.study?.uid;
      return e.study?.attrs[keyword];
    case 'SERIES':
      if (keyword === 'SeriesInstanceUID') return e.series?.uid;
      return e.series?.attrs[keyword];
    case 'IMAGE':
      if (!e.row) return undefined;
      if (keyword === 'SOPInstanceUID') return e.row.sopInstanceUid;
      if (keyword === 'SOPClassUID') return e.row.sopClassUid;
      return e.row.attrs[keyword];
  }
}
