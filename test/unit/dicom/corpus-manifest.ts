/** The corpus manifest (MANIFEST.tsv) as records, for ground-truth assertions. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { corpusDir } from '../../../src/util/corpus.js';

export interface ManifestRow {
  readonly path: string;
  readonly size: number;
  readonly sopClass: string;
  readonly transferSyntax: string;
  readonly studyInstanceUid: string;
  readonly seriesInstanceUid: string;
  readonly sopInstanceUid: string;
  readonly dcmdumpStatus: string;
  readonly sha256: string;
  /** Absolute path of the file. */
  readonly file: string;
}

export function readManifest(): ManifestRow[] {
  const dir = corpusDir();
  const lines = readFileSync(join(dir, 'MANIFEST.tsv'), 'utf8')
    .split('\n')
    .filter((l) => l.length > 0);
  const header = lines[0]!.split('\t');
  const col = (name: string): number => {
    const i = header.indexOf(name);
    if (i < 0) throw new Error(`MANIFEST.tsv has no column ${name}`);
    return i;
  };
  const c = {
    path: col('path'),
    size: col('size'),
    sopClass: col('sop_class'),
    ts: col('transfer_syntax'),
    study: col('study_instance_uid'),
    series: col('series_instance_uid'),
    sop: col('sop_instance_uid'),
    dcmdump: col('dcmdump_status'),
    sha: col('sha256'),
  };
  return lines.slice(1).map((l) => {
    const f = l.split('\t');
    const get = (i: number): string => f[i] ?? '';
    return {
      path: get(c.path),
      size: Number(get(c.size)),
      sopClass: get(c.sopClass),
      transferSyntax: get(c.ts),
      studyInstanceUid: get(c.study),
      seriesInstanceUid: get(c.series),
      sopInstanceUid: get(c.sop),
      dcmdumpStatus: get(c.dcmdump),
      sha256: get(c.sha),
      file: join(dir, get(c.path)),
    };
  });
}

/** The manifest says the file has no File Meta (or no Transfer Syntax UID in it). */
export const lacksMeta = (r: ManifestRow): boolean => r.transferSyntax.startsWith('(no file meta');
/** dcmdump stopped at a premature end of the file. */
export const isTruncated = (r: ManifestRow): boolean =>
  /premature end|than remaining bytes/i.test(r.dcmdumpStatus) && !lacksMeta(r);
/** A private SOP class given as "... (uid)". */
export const privateSopClassUid = (name: string): string | undefined => /\(([0-9.]+)\)$/.exec(name)?.[1];

/** Patient names, IDs and birth dates found in the manifest (to check they never leak into messages). */
export function readManifestPhi(): string[] {
  const lines = readFileSync(join(corpusDir(), 'MANIFEST.tsv'), 'utf8')
    .split('\n')
    .filter((l) => l.length > 0);
  const header = lines[0]!.split('\t');
  const cols = ['patient_id', 'patient_name', 'patient_birth_date'].map((n) => header.indexOf(n));
  const out = new Set<string>();
  for (const l of lines.slice(1)) {
    const f = l.split('\t');
    for (const c of cols) {
      for (const v of (f[c] ?? '').split('\\')) if (v.trim()) out.add(v.trim());
    }
  }
  return [...out];
}

/** One column of the manifest by path. */
export function readManifestColumn(name: string): Map<string, string> {
  const lines = readFileSync(join(corpusDir(), 'MANIFEST.tsv'), 'utf8')
    .split('\n')
    .filter((l) => l.length > 0);
  const header = lines[0]!.split('\t');
  const c = header.indexOf(name);
  if (c < 0) throw new Error(`MANIFEST.tsv has no column ${name}`);
  return new Map(lines.slice(1).map((l) => [l.split('\t')[0]!, l.split('\t')[c] ?? '']));
}
