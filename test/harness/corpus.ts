import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { corpusDir, hasCorpus } from '../../src/util/corpus.js';

/**
 * The shared real-world corpus (../shared/corpus), read in place: MANIFEST.tsv as typed rows.
 * Column meanings: the corpus README. Empty cells are '' (numbers: null).
 */

export interface ManifestRow {
  /** Relative to the corpus root. */
  path: string;
  /** Absolute path of the file. */
  absPath: string;
  size: number;
  source: string;
  license: string;
  /** SOP class name as pydicom names it, e.g. "MR Image Storage", or "unknown/private (<uid>)". */
  sopClass: string;
  modality: string;
  manufacturer: string;
  model: string;
  softwareVersions: string;
  studyDate: string;
  /** Transfer syntax name, e.g. "Explicit VR Little Endian"; files without File Meta say so. */
  transferSyntax: string;
  specificCharacterSet: string;
  patientId: string;
  studyInstanceUid: string;
  seriesInstanceUid: string;
  sopInstanceUid: string;
  numberOfFrames: number | null;
  /** "ok", "ok; warning: …", or "error (rc=N): …". */
  dcmdumpStatus: string;
  dciodvfyErrors: number | null;
  patientName: string;
  patientBirthDate: string;
  sourcePath: string;
  sha256: string;
  /** Hash of all data elements except group 0002 and Pixel Data. */
  headerSha256: string;
}

export const MANIFEST_COLUMNS = [
  'path',
  'size',
  'source',
  'license',
  'sop_class',
  'modality',
  'manufacturer',
  'model',
  'software_versions',
  'study_date',
  'transfer_syntax',
  'specific_character_set',
  'patient_id',
  'study_instance_uid',
  'series_instance_uid',
  'sop_instance_uid',
  'number_of_frames',
  'dcmdump_status',
  'dciodvfy_errors',
  'patient_name',
  'patient_birth_date',
  'source_path',
  'sha256',
  'header_sha256',
] as const;

const toNumber = (cell: string): number | null => {
  if (cell.trim() === '') return null;
  const n = Number(cell);
  return Number.isFinite(n) ? n : null;
};

/** Parses MANIFEST.tsv text; throws if its header is not the one documented. */
export function parseManifest(text: string, root = corpusDir()): ManifestRow[] {
  const lines = text.split('\n').map((l) => l.replace(/\r$/, ''));
  const header = lines.shift()?.split('\t') ?? [];
  const index = new Map(header.map((name, i) => [name, i]));
  const missing = MANIFEST_COLUMNS.filter((c) => !index.has(c));
  if (missing.length > 0) throw new Error(`MANIFEST.tsv: missing columns ${missing.join(', ')}`);
  const rows: ManifestRow[] = [];
  for (const line of lines) {
    if (line === '') continue;
    const cells = line.split('\t');
    const get = (column: (typeof MANIFEST_COLUMNS)[number]): string => cells[index.get(column)!] ?? '';
    rows.push({
      path: get('path'),
      absPath: join(root, get('path')),
      size: toNumber(get('size')) ?? 0,
      source: get('source'),
      license: get('license'),
      sopClass: get('sop_class'),
      modality: get('modality'),
      manufacturer: get('manufacturer'),
      model: get('model'),
      softwareVersions: get('software_versions'),
      studyDate: get('study_date'),
      transferSyntax: get('transfer_syntax'),
      specificCharacterSet: get('specific_character_set'),
      patientId: get('patient_id'),
      studyInstanceUid: get('study_instance_uid'),
      seriesInstanceUid: get('series_instance_uid'),
      sopInstanceUid: get('sop_instance_uid'),
      numberOfFrames: toNumber(get('number_of_frames')),
      dcmdumpStatus: get('dcmdump_status'),
      dciodvfyErrors: toNumber(get('dciodvfy_errors')),
      patientName: get('patient_name'),
      patientBirthDate: get('patient_birth_date'),
      sourcePath: get('source_path'),
      sha256: get('sha256'),
      headerSha256: get('header_sha256'),
    });
  }
  return rows;
}

let cached: ManifestRow[] | undefined;

/** All manifest rows (parsed once per process). Throws when the corpus is missing: guard with hasCorpus(). */
export function manifest(): ManifestRow[] {
  cached ??= parseManifest(readFileSync(join(corpusDir(), 'MANIFEST.tsv'), 'utf8'));
  return cached;
}

/** Absolute paths of every corpus file, in manifest order. */
export function corpusFiles(): string[] {
  return manifest().map((row) => row.absPath);
}

/** The row of a corpus file by its relative path. */
export function corpusRow(path: string): ManifestRow {
  const row = manifest().find((r) => r.path === path);
  if (!row) throw new Error(`corpus: no file ${path}`);
  return row;
}

const UNCOMPRESSED = new Set([
  'Explicit VR Little Endian',
  'Implicit VR Little Endian',
  'Explicit VR Big Endian',
]);

/**
 * Rows DCMTK sends and parses without trouble: uncompressed with File Meta, dcmdump "ok", a known storage SOP class
 * (no DICOMDIR, no unknown or private class).
 */
export function wellFormedUncompressed(): ManifestRow[] {
  return manifest().filter(
    (r) =>
      UNCOMPRESSED.has(r.transferSyntax) &&
      r.dcmdumpStatus === 'ok' &&
      r.sopClass !== '' &&
      r.sopClass !== 'Media Storage Directory Storage' &&
      !r.sopClass.startsWith('unknown') &&
      !r.sopClass.includes('private'),
  );
}

export { corpusDir, hasCorpus };
