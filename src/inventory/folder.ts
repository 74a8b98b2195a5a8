/**
 * Inventory of a folder source: every file is identified (readInstanceInfo: UIDs, transfer syntax,
 * structure) and its header values read (readHeaderAttributes, decoded with its character set), and
 * the same study / series / instance rows as a network inventory are written. Counts are those of the
 * files found. Each instance records the file it comes from in attrs.path (relative to source.path),
 * which is where a folder source retrieves it from. A file that cannot be read (or a path that cannot
 * be opened: a dangling symlink) is a finding (its typed error code) and an exception of the ledger
 * (its path and cause), which keeps the migration from DONE until it is accepted; DICOMDIR files are
 * skipped.
 */
import { stat } from 'node:fs/promises';
import { basename, relative } from 'node:path';
import { readHeaderAttributes, type HeaderAttribute } from '../dicom/digest.js';
import { lookupKeyword } from '../dicom/keyword.js';
import type { DicomFileError } from '../dicom/errors.js';
import { readInstanceInfo } from '../dicom/part10.js';
import type { ExceptionInput, InstanceInput, Json, SeriesInput, StudyInput } from '../state/index.js';
import { listFiles, type UnlistablePath } from '../util/files.js';
import type { Findings } from './findings.js';
import type { Flusher } from './flush.js';
import { SERIES_KEYS, STUDY_KEYS, intOf } from './keys.js';

const MEDIA_STORAGE_DIRECTORY = '1.2.840.10008.1.3.10';
/** Study-level values read from the files (counts and ModalitiesInStudy are computed). */
const COMPUTED = new Set([
  'ModalitiesInStudy',
  'NumberOfStudyRelatedSeries',
  'NumberOfStudyRelatedInstances',
  'NumberOfSeriesRelatedInstances',
]);

export interface FolderInventoryOptions {
  readonly dir: string;
  readonly extraKeys: readonly string[];
  readonly findings: Findings;
  readonly flusher: Flusher;
  /** Files read at once (default 4). */
  readonly concurrency?: number;
  readonly signal?: AbortSignal;
  readonly onProgress?: (p: { files: number; total: number; instances: number }) => void;
}

export interface FolderOutcome {
  readonly files: number;
  readonly instances: number;
  readonly studies: number;
  readonly series: number;
  readonly skipped: number;
  readonly unreadable: number;
  readonly duplicates: number;
  readonly undatedStudies: number;
  readonly stopped: boolean;
  /** One per unreadable file (the ledger's exceptions): its path relative to the folder and its cause. */
  readonly exceptions: readonly ExceptionInput[];
}

/** Causes of a path the walk could not look into, by system error code. */
const UNLISTABLE_CAUSES: Readonly<Record<string, string>> = {
  ENOENT: 'cannot be opened: a dangling symbolic link, or removed during the inventory',
  EACCES: 'cannot be opened: permission denied',
  EPERM: 'cannot be opened: operation not permitted',
  ELOOP: 'cannot be opened: a loop of symbolic links',
  EIO: 'cannot be read: input/output error',
};

const unlistableCause = (u: UnlistablePath): string =>
  UNLISTABLE_CAUSES[u.code] ?? `cannot be opened (${u.code})`;

interface StudyAcc {
  row: StudyInput;
  patients: Set<string>;
  series: Set<string>;
  instances: number;
  modalities: Set<string>;
  institutions: Set<string>;
}

interface SeriesAcc {
  row: SeriesInput;
  instances: number;
}

const tagOf = (kw: string): number => lookupKeyword(kw)!.tag;

function textOf(a: HeaderAttribute | undefined): string | null | undefined {
  if (!a) return undefined;
  if (a.text !== undefined) return a.text.trim() === '' ? null : a.text.trim();
  if (a.numbers) return a.numbers.length ? a.numbers.map(String).join('\\') : null;
  return null;
}

/**
 * What an unreadable file's finding records: its path and error code, and the SOP Instance UID it
 * holds — from the data set when it was read that far, else from the File Meta's (0002,0003) (a file
 * whose data set is not in the transfer syntax its meta names is not read at all), with `uidFrom`.
 * A transfer-syntax mismatch also records what the meta says and what the data set is.
 */
function unreadableDetail(
  rel: string,
  e: DicomFileError,
): { detail: { [k: string]: Json }; uid: string | null } {
  const d = e.detail ?? {};
  const str = (v: unknown) => (typeof v === 'string' && v !== '' ? v : undefined);
  const fromData = str(d.sopInstanceUid);
  const fromMeta = str(d.mediaStorageSopInstanceUid);
  const detail: { [k: string]: Json } = { path: rel, code: e.code };
  if (!fromData && fromMeta) detail.uidFrom = 'meta';
  if (e.code === 'lying-transfer-syntax') {
    detail.declared = str(d.transferSyntaxUid) ?? null;
    detail.actualEncoding = str(d.actualEncoding) ?? null;
  }
  return { detail, uid: fromData ?? fromMeta ?? null };
}

export async function inventoryFolder(o: FolderInventoryOptions): Promise<FolderOutcome> {
  const out = { files: 0, instances: 0, skipped: 0, unreadable: 0, duplicates: 0 };
  await stat(o.dir); // the folder itself must be there (a plan error otherwise), not an exception
  const exceptions: ExceptionInput[] = [];
  const unreadable = (
    rel: string,
    code: string,
    cause: string,
    studyUid?: string | null,
    sop?: string | null,
  ) =>
    exceptions.push({
      kind: 'unreadable-source-file',
      subject: rel,
      code,
      cause,
      studyUid: studyUid ?? null,
      sopInstanceUid: sop ?? null,
    });
  const files = await listFiles([o.dir], (u) => {
    const rel = relative(o.dir, u.path);
    out.unreadable++;
    o.findings.add('inventory.unreadable-file', { path: rel, code: u.code });
    unreadable(rel, u.code, unlistableCause(u));
  });
  const studyKeys = [
    ...STUDY_KEYS.filter((k) => !COMPUTED.has(k.keyword)).map((k) => k.keyword),
    ...o.extraKeys,
  ];
  const seriesKeys = SERIES_KEYS.filter((k) => !COMPUTED.has(k.keyword)).map((k) => k.keyword);
  const wanted = [...new Set([...studyKeys, ...seriesKeys, 'InstanceNumber'])];
  const tags = wanted.map(tagOf);
  const studies = new Map<string, StudyAcc>();
  const series = new Map<string, SeriesAcc>();
  const sops = new Set<string>();
  let next = 0;

  const one = async (path: string): Promise<void> => {
    const rel = relative(o.dir, path);
    if (basename(path).toUpperCase() === 'DICOMDIR') {
      out.skipped++;
      return;
    }
    const info = await readInstanceInfo(path);
    if (!info.ok) {
      out.unreadable++;
      const { detail, uid } = unreadableDetail(rel, info.error);
      o.findings.add('inventory.unreadable-file', detail, null, uid);
      unreadable(rel, info.error.code, info.error.message, null, uid);
      return;
    }
    const i = info.value;
    if (i.sopClassUid === MEDIA_STORAGE_DIRECTORY) {
      out.skipped++;
      return;
    }
    if (!i.studyInstanceUid || !i.seriesInstanceUid) {
      out.unreadable++;
      const code = i.studyInstanceUid ? 'missing-series-uid' : 'missing-study-uid';
      o.findings.add('inventory.unreadable-file', { path: rel, code }, null, i.sopInstanceUid);
      unreadable(
        rel,
        code,
        `no ${i.studyInstanceUid ? 'SeriesInstanceUID' : 'StudyInstanceUID'}: the file cannot be placed in a study`,
        i.studyInstanceUid,
        i.sopInstanceUid,
      );
      return;
    }
    if (sops.has(i.sopInstanceUid)) {
      out.duplicates++;
      o.findings.add('inventory.duplicate-instance', { path: rel }, i.studyInstanceUid, i.sopInstanceUid);
      return;
    }
    sops.add(i.sopInstanceUid);
    const h = await readHeaderAttributes(path, tags);
    if (!h.ok) {
      sops.delete(i.sopInstanceUid);
      out.unreadable++;
      o.findings.add(
        'inventory.unreadable-file',
        { path: rel, code: h.error.code },
        i.studyInstanceUid,
        i.sopInstanceUid,
      );
      unreadable(rel, h.error.code, h.error.message, i.studyInstanceUid, i.sopInstanceUid);
      return;
    }
    const v = (kw: string) => textOf(h.value.get(tagOf(kw)));
    const studyUid = i.studyInstanceUid;
    let st = studies.get(studyUid);
    const patient = `${v('PatientID') ?? ''}\u0000${v('IssuerOfPatientID') ?? ''}`;
    if (!st) {
      const attrs: Record<string, Json> = {};
      const row: Record<string, unknown> = { studyUid };
      for (const k of STUDY_KEYS) {
        if (COMPUTED.has(k.keyword)) continue;
        const val = v(k.keyword) ?? null;
        if (k.prop) row[k.prop] = val;
        else attrs[k.keyword] = val;
      }
      for (const kw of o.extraKeys) attrs[kw] = v(kw) ?? null;
      st = {
        row: { ...(row as unknown as StudyInput), attrs },
        patients: new Set([patient]),
        series: new Set(),
        instances: 0,
        modalities: new Set(),
        institutions: new Set(),
      };
      studies.set(studyUid, st);
    } else if (!st.patients.has(patient)) {
      st.patients.add(patient);
      o.findings.add('inventory.study-in-several-patients', { patients: st.patients.size }, studyUid);
    }
    st.instances++;
    st.series.add(i.seriesInstanceUid);
    const modality = v('Modality');
    if (modality) st.modalities.add(modality);
    const inst = v('InstitutionName');
    if (inst) st.institutions.add(inst);
    let se = series.get(i.seriesInstanceUid);
    if (!se) {
      const row: Record<string, unknown> = { seriesUid: i.seriesInstanceUid, studyUid };
      const attrs: Record<string, Json> = {};
      for (const k of SERIES_KEYS) {
        if (COMPUTED.has(k.keyword)) continue;
        const val = v(k.keyword) ?? null;
        if (k.prop) row[k.prop] = k.kind === 'int' ? intOf(val) : val;
        else attrs[k.keyword] = val;
      }
      se = { row: { ...(row as unknown as SeriesInput), attrs }, instances: 0 };
      series.set(i.seriesInstanceUid, se);
    }
    se.instances++;
    const size = (await stat(path)).size;
    const instance: InstanceInput = {
      sopInstanceUid: i.sopInstanceUid,
      seriesUid: i.seriesInstanceUid,
      studyUid,
      sopClassUid: i.sopClassUid,
      instanceNumber: intOf(v('InstanceNumber')) ?? null,
      transferSyntaxUid: i.transferSyntaxUid,
      sizeBytes: size,
      attrs: { path: rel },
    };
    out.instances++;
    await o.flusher.add(undefined, [], [instance]);
  };

  const worker = async (): Promise<void> => {
    while (next < files.length && !o.signal?.aborted) {
      const path = files[next++]!;
      await one(path);
      out.files++;
      o.onProgress?.({ files: out.files, total: files.length, instances: out.instances });
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, o.concurrency ?? 4) }, worker));

  let undated = 0;
  for (const st of studies.values()) {
    const row: StudyInput = {
      ...st.row,
      numSeries: st.series.size,
      numInstances: st.instances,
      modalitiesInStudy: st.modalities.size ? [...st.modalities].sort().join('\\') : null,
      institutionName:
        st.row.institutionName ?? (st.institutions.size ? [...st.institutions].join('\\') : null),
    };
    if (!row.studyDate) undated++;
    await o.flusher.add(row, [], []);
  }
  for (const se of series.values())
    await o.flusher.add(undefined, [{ ...se.row, numInstances: se.instances }], []);
  await o.flusher.flush();
  return {
    ...out,
    studies: studies.size,
    series: series.size,
    undatedStudies: undated,
    stopped: o.signal?.aborted ?? false,
    exceptions,
  };
}
