/**
 * The Q/R information models as tables (PS3.4 C.6.1, C.6.2): which levels each model has and the
 * unique key of each level. Requests are checked against them (hierarchical, baseline behaviour).
 */
import { QR, type QueryLevel, type QueryModel } from '../net/services/sop-classes.js';

export const MODEL_LEVELS: Readonly<Record<QueryModel, readonly QueryLevel[]>> = {
  patient: ['PATIENT', 'STUDY', 'SERIES', 'IMAGE'],
  study: ['STUDY', 'SERIES', 'IMAGE'],
};

export const UNIQUE_KEY: Readonly<Record<QueryLevel, { tag: number; keyword: string; vr: string }>> = {
  PATIENT: { tag: 0x00100020, keyword: 'PatientID', vr: 'LO' },
  STUDY: { tag: 0x0020000d, keyword: 'StudyInstanceUID', vr: 'UI' },
  SERIES: { tag: 0x0020000e, keyword: 'SeriesInstanceUID', vr: 'UI' },
  IMAGE: { tag: 0x00080018, keyword: 'SOPInstanceUID', vr: 'UI' },
};

export type QrService = 'find' | 'move' | 'get';

/** SOP Class UID → model and service, for the Q/R classes the archive serves. */
export const QR_SOP_CLASSES: ReadonlyMap<string, { model: QueryModel; service: QrService }> = new Map(
  (Object.keys(QR) as QueryModel[]).flatMap((model) =>
    (['find', 'move', 'get'] as const).map((service) => [QR[model][service], { model, service }] as const),
  ),
);

/** In a model, the level an attribute level is matched at: in the study root, patient attributes belong to the study. */
export const effectiveLevel = (model: QueryModel, level: QueryLevel): QueryLevel =>
  model === 'study' && level === 'PATIENT' ? 'STUDY' : level;

export const isQueryLevel = (s: string): s is QueryLevel =>
  s === 'PATIENT' || s === 'STUDY' || s === 'SERIES' || s === 'IMAGE';
