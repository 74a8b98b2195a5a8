/** How each inventory level maps onto its table; shared by the upsert and markVanished operations. */
import type { InventoryLevel } from '../types.js';

export type FieldKind = 'text' | 'int' | 'multi' | 'json';

export interface FieldSpec {
  /** Property of the input object. */
  readonly prop: string;
  readonly column: string;
  readonly kind: FieldKind;
  /** A change here is a counts-changed delta (and sets changed_at). */
  readonly count?: boolean;
}

export interface LevelSpec {
  readonly level: InventoryLevel;
  readonly table: 'studies' | 'series' | 'instances';
  readonly keyProp: string;
  readonly keyColumn: string;
  /** Column naming the parent study ('study_uid' in all three tables). */
  readonly studyColumn: 'study_uid';
  /** Written at insert, never changed by an upsert (the level's parents). */
  readonly parents: readonly FieldSpec[];
  readonly fields: readonly FieldSpec[];
  /** Record a `new` change row per insert (not for instances: first_run_id says it, at a fraction of the rows). */
  readonly recordNew: boolean;
}

const t = (prop: string, column: string): FieldSpec => ({ prop, column, kind: 'text' });
const i = (prop: string, column: string, count = false): FieldSpec => ({ prop, column, kind: 'int', count });

export const STUDY_LEVEL: LevelSpec = {
  level: 'study',
  table: 'studies',
  keyProp: 'studyUid',
  keyColumn: 'study_uid',
  studyColumn: 'study_uid',
  parents: [],
  fields: [
    t('patientId', 'patient_id'),
    t('patientName', 'patient_name'),
    t('patientBirthDate', 'patient_birth_date'),
    t('patientSex', 'patient_sex'),
    t('accessionNumber', 'accession_number'),
    t('studyDate', 'study_date'),
    t('studyTime', 'study_time'),
    t('studyDescription', 'study_description'),
    { prop: 'modalitiesInStudy', column: 'modalities_in_study', kind: 'multi' },
    t('institutionName', 'institution_name'),
    t('referringPhysician', 'referring_physician'),
    i('numSeries', 'num_series', true),
    i('numInstances', 'num_instances', true),
    { prop: 'attrs', column: 'attrs', kind: 'json' },
  ],
  recordNew: true,
};

export const SERIES_LEVEL: LevelSpec = {
  level: 'series',
  table: 'series',
  keyProp: 'seriesUid',
  keyColumn: 'series_uid',
  studyColumn: 'study_uid',
  parents: [t('studyUid', 'study_uid')],
  fields: [
    t('modality', 'modality'),
    i('seriesNumber', 'series_number'),
    t('seriesDescription', 'series_description'),
    t('bodyPart', 'body_part'),
    t('manufacturer', 'manufacturer'),
    t('model', 'model'),
    t('stationName', 'station_name'),
    { prop: 'softwareVersions', column: 'software_versions', kind: 'multi' },
    i('numInstances', 'num_instances', true),
    { prop: 'attrs', column: 'attrs', kind: 'json' },
  ],
  recordNew: true,
};

export const INSTANCE_LEVEL: LevelSpec = {
  level: 'instance',
  table: 'instances',
  keyProp: 'sopInstanceUid',
  keyColumn: 'sop_instance_uid',
  studyColumn: 'study_uid',
  parents: [t('seriesUid', 'series_uid'), t('studyUid', 'study_uid')],
  fields: [
    t('sopClassUid', 'sop_class_uid'),
    i('instanceNumber', 'instance_number'),
    t('transferSyntaxUid', 'transfer_syntax_uid'),
    i('sizeBytes', 'size_bytes'),
    { prop: 'attrs', column: 'attrs', kind: 'json' },
  ],
  recordNew: false,
};

export const LEVELS: Readonly<Record<InventoryLevel, LevelSpec>> = {
  study: STUDY_LEVEL,
  series: SERIES_LEVEL,
  instance: INSTANCE_LEVEL,
};
