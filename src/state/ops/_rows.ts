/** Row mappers shared by the operations (snake_case columns → camelCase values). */
import { bool, fromJson, num, numOrNull, strOrNull, type Row } from '../db.js';
import type { JobState } from '../job-state.js';
import type {
  AuditEvent,
  ExceptionKind,
  ExceptionStatus,
  Instance,
  InstanceOutcome,
  InventoryChange,
  InventoryQuery,
  InventoryRun,
  Job,
  Json,
  LedgerException,
  QuarantineEntry,
  ScopeDecision,
  Series,
  Study,
  VerifyOutcome,
} from '../types.js';

export const JOB_COLUMNS =
  'id, kind, study_uid, state, priority, bumped_priority, bumped_at, study_date, attempts, max_attempts, ' +
  'next_run_at, lease_owner, lease_expires_at, last_error_code, last_error, created_at, updated_at';

export function jobFromRow(r: Row): Job {
  return {
    id: num(r.id),
    kind: String(r.kind),
    studyUid: String(r.study_uid),
    state: String(r.state) as JobState,
    priority: num(r.priority),
    bumpedPriority: num(r.bumped_priority),
    bumpedAt: numOrNull(r.bumped_at),
    studyDate: strOrNull(r.study_date),
    attempts: num(r.attempts),
    maxAttempts: num(r.max_attempts),
    nextRunAt: num(r.next_run_at),
    leaseOwner: strOrNull(r.lease_owner),
    leaseExpiresAt: numOrNull(r.lease_expires_at),
    lastErrorCode: strOrNull(r.last_error_code),
    lastError: strOrNull(r.last_error),
    createdAt: num(r.created_at),
    updatedAt: num(r.updated_at),
  };
}

function seen(r: Row) {
  return {
    firstSeenAt: numOrNull(r.first_seen_at),
    lastSeenAt: numOrNull(r.last_seen_at),
    firstRunId: numOrNull(r.first_run_id),
    lastRunId: numOrNull(r.last_run_id),
    vanishedAt: numOrNull(r.vanished_at),
    changedAt: numOrNull(r.changed_at),
  };
}

type Attrs = { [keyword: string]: Json };

export function studyFromRow(r: Row): Study {
  return {
    studyUid: String(r.study_uid),
    patientId: strOrNull(r.patient_id),
    patientName: strOrNull(r.patient_name),
    patientBirthDate: strOrNull(r.patient_birth_date),
    patientSex: strOrNull(r.patient_sex),
    accessionNumber: strOrNull(r.accession_number),
    studyDate: strOrNull(r.study_date),
    studyTime: strOrNull(r.study_time),
    studyDescription: strOrNull(r.study_description),
    modalitiesInStudy: strOrNull(r.modalities_in_study),
    institutionName: strOrNull(r.institution_name),
    referringPhysician: strOrNull(r.referring_physician),
    numSeries: numOrNull(r.num_series),
    numInstances: numOrNull(r.num_instances),
    attrs: fromJson<Attrs>(r.attrs),
    ...seen(r),
    firstSeenAt: num(r.first_seen_at),
    lastSeenAt: num(r.last_seen_at),
  };
}

export function seriesFromRow(r: Row): Series {
  return {
    seriesUid: String(r.series_uid),
    studyUid: String(r.study_uid),
    modality: strOrNull(r.modality),
    seriesNumber: numOrNull(r.series_number),
    seriesDescription: strOrNull(r.series_description),
    bodyPart: strOrNull(r.body_part),
    manufacturer: strOrNull(r.manufacturer),
    model: strOrNull(r.model),
    stationName: strOrNull(r.station_name),
    softwareVersions: strOrNull(r.software_versions),
    numInstances: numOrNull(r.num_instances),
    attrs: fromJson<Attrs>(r.attrs),
    ...seen(r),
    firstSeenAt: num(r.first_seen_at),
    lastSeenAt: num(r.last_seen_at),
  };
}

export function instanceFromRow(r: Row): Instance {
  return {
    sopInstanceUid: String(r.sop_instance_uid),
    seriesUid: String(r.series_uid),
    studyUid: String(r.study_uid),
    sopClassUid: strOrNull(r.sop_class_uid),
    instanceNumber: numOrNull(r.instance_number),
    transferSyntaxUid: strOrNull(r.transfer_syntax_uid),
    sizeBytes: numOrNull(r.size_bytes),
    attrs: fromJson<Attrs>(r.attrs),
    ...seen(r),
    receivedAt: numOrNull(r.received_at),
    spoolPath: strOrNull(r.spool_path),
    datasetSha256: strOrNull(r.dataset_sha256),
    pixelDigest: strOrNull(r.pixel_digest),
    pixelDigestTs: strOrNull(r.pixel_digest_ts),
    header: fromJson<Attrs>(r.header),
    storedAt: numOrNull(r.stored_at),
    storeStatus: numOrNull(r.store_status),
    verifiedAt: numOrNull(r.verified_at),
    verifyOutcome: strOrNull(r.verify_outcome) as VerifyOutcome | null,
    verifyDetail: fromJson<Json>(r.verify_detail),
  };
}

export function changeFromRow(r: Row): InventoryChange {
  return {
    id: num(r.id),
    runId: num(r.run_id),
    level: String(r.level) as InventoryChange['level'],
    uid: String(r.uid),
    studyUid: String(r.study_uid),
    kind: String(r.kind) as InventoryChange['kind'],
    oldValue: fromJson<Json>(r.old_value),
    newValue: fromJson<Json>(r.new_value),
    seenAt: num(r.seen_at),
  };
}

export function queryFromRow(r: Row): InventoryQuery {
  return {
    id: num(r.id),
    runId: numOrNull(r.run_id),
    parentId: numOrNull(r.parent_id),
    level: String(r.level) as InventoryQuery['level'],
    params: fromJson<Attrs>(r.params) ?? {},
    issuedAt: num(r.issued_at),
    finishedAt: numOrNull(r.finished_at),
    complete: bool(r.complete),
    status: numOrNull(r.status),
    resultCount: num(r.result_count),
    error: strOrNull(r.error),
  };
}

export function runFromRow(r: Row): InventoryRun {
  return {
    id: num(r.id),
    startedAt: num(r.started_at),
    finishedAt: numOrNull(r.finished_at),
    complete: r.complete === null || r.complete === undefined ? null : bool(r.complete),
    stopped: r.stopped === null || r.stopped === undefined ? null : bool(r.stopped),
    params: fromJson<Json>(r.params),
    note: strOrNull(r.note),
  };
}

export function scopeFromRow(r: Row): ScopeDecision {
  return {
    studyUid: String(r.study_uid),
    inScope: bool(r.in_scope),
    ruleId: strOrNull(r.rule_id),
    ruleDescription: strOrNull(r.rule_description),
    decidedAt: num(r.decided_at),
  };
}

export function eventFromRow(r: Row): AuditEvent {
  return {
    id: num(r.id),
    jobId: numOrNull(r.job_id),
    studyUid: strOrNull(r.study_uid),
    sopInstanceUid: strOrNull(r.sop_instance_uid),
    kind: String(r.kind),
    detail: fromJson<Json>(r.detail),
    at: num(r.at),
  };
}

export function outcomeFromRow(r: Row): InstanceOutcome {
  return {
    id: num(r.id),
    jobId: numOrNull(r.job_id),
    sopInstanceUid: String(r.sop_instance_uid),
    studyUid: String(r.study_uid),
    phase: String(r.phase) as InstanceOutcome['phase'],
    status: numOrNull(r.status),
    category: String(r.category),
    cause: strOrNull(r.cause),
    at: num(r.at),
  };
}

export function quarantineFromRow(r: Row): QuarantineEntry {
  return {
    sopInstanceUid: String(r.sop_instance_uid),
    studyUid: String(r.study_uid),
    seriesUid: strOrNull(r.series_uid),
    status: numOrNull(r.status),
    category: String(r.category),
    cause: strOrNull(r.cause),
    path: strOrNull(r.path),
    quarantinedAt: num(r.quarantined_at),
  };
}

export function exceptionFromRow(r: Row): LedgerException {
  return {
    id: num(r.id),
    kind: String(r.kind) as ExceptionKind,
    subject: String(r.subject),
    code: String(r.code),
    cause: String(r.cause),
    studyUid: strOrNull(r.study_uid),
    sopInstanceUid: strOrNull(r.sop_instance_uid),
    detail: fromJson<Json>(r.detail),
    firstSeenAt: num(r.first_seen_at),
    lastSeenAt: num(r.last_seen_at),
    firstRunId: numOrNull(r.first_run_id),
    lastRunId: numOrNull(r.last_run_id),
    status: String(r.status) as ExceptionStatus,
    statusAt: num(r.status_at),
    acceptedBy: strOrNull(r.accepted_by),
    acceptNote: strOrNull(r.accept_note),
  };
}

/** JSON with object keys sorted: equal values compare equal whatever the driver did to key order. */
export function stableStringify(v: unknown): string {
  if (v === undefined) return 'null';
  if (v === null || typeof v !== 'object') return JSON.stringify(v);
  if (Array.isArray(v)) return `[${v.map(stableStringify).join(',')}]`;
  const o = v as Record<string, unknown>;
  return `{${Object.keys(o)
    .filter((k) => o[k] !== undefined)
    .sort()
    .map((k) => `${JSON.stringify(k)}:${stableStringify(o[k])}`)
    .join(',')}}`;
}

/** A DICOM status as 0xHHHH, our own codes as given. */
export function formatErrorCode(code: number | string): string {
  if (typeof code === 'number') {
    if (!Number.isInteger(code) || code < 0 || code > 0xffff)
      throw new RangeError(`not a DIMSE status: ${code}`);
    return `0x${code.toString(16).toUpperCase().padStart(4, '0')}`;
  }
  return code;
}

/** Messages go to a database other people read: keep them bounded. */
export function clip(s: string | null | undefined, max = 2000): string | null {
  if (s === null || s === undefined) return null;
  return s.length > max ? `${s.slice(0, max - 1)}…` : s;
}
