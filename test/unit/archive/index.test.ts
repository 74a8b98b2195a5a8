import { symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ArchiveIndex } from '../../../src/archive/index-db.js';
import { indexFolder } from '../../../src/archive/indexer.js';
import { Hierarchy } from '../../../src/archive/hierarchy.js';
import { corpusDir, hasCorpus, manifest } from '../../harness/corpus.js';
import { makeTempDir, removeTempDir } from '../../harness/tmp.js';
import { distinct } from './fixtures.js';

describe.skipIf(!hasCorpus())('archive index of the corpus', () => {
  let tmp: string;
  let index: ArchiveIndex;

  beforeAll(async () => {
    tmp = makeTempDir('archive-index');
    index = new ArchiveIndex(join(tmp, 'index.sqlite'));
    const r = await indexFolder(corpusDir(), index);
    expect(r.read).toBe(manifest().length + 2); // + MANIFEST.tsv and README.md
  });
  afterAll(() => {
    index.close();
    removeTempDir(tmp);
  });

  it('every file is either indexed or recorded with a typed error', () => {
    const problems = index.problems();
    const indexed = new Set(index.primaryWhere('study_uid', index.studyUids()).map((r) => r.path));
    const c = index.counts();
    expect(c.files + c.problems).toBe(manifest().length + 2);
    for (const p of problems) {
      expect(p.code).toMatch(
        /^(not-dicom|no-meta|unknown-transfer-syntax|lying-transfer-syntax|truncated|too-deep|missing-uid|deflate-error|malformed|io|missing-study-uid|missing-series-uid)$/,
      );
      expect(p.message).toContain(p.path.split('/').pop());
      expect(indexed.has(p.path)).toBe(false);
    }
    expect(problems.find((p) => p.path === 'MANIFEST.tsv')?.code).toBe('not-dicom');
    expect(problems.find((p) => p.path === 'dcm4che/3gb-bulk-data-truncated')?.code).toBe('truncated');
    // Readable files without a Study Instance UID cannot be placed in the hierarchy: recorded, not dropped.
    const noStudy = manifest()
      .filter((r) => r.studyInstanceUid === '' && r.sopInstanceUid !== '')
      .map((r) => r.path);
    for (const p of noStudy)
      expect(
        problems.find((x) => x.path === p),
        p,
      ).toBeDefined();
  });

  it('header attributes agree with the manifest (read with pydicom)', () => {
    const rows = index.primaryWhere('study_uid', index.studyUids());
    const byPath = new Map(manifest().map((r) => [r.path, r]));
    expect(rows.length).toBeGreaterThan(300);
    for (const row of rows) {
      const m = byPath.get(row.path)!;
      expect(row.sopInstanceUid, row.path).toBe(m.sopInstanceUid);
      expect(row.studyUid, row.path).toBe(m.studyInstanceUid);
      expect(row.seriesUid, row.path).toBe(m.seriesInstanceUid);
      expect(row.attrs.PatientID ?? '', row.path).toBe(m.patientId);
      expect(row.attrs.StudyDate ?? '', row.path).toBe(m.studyDate);
      expect(row.attrs.Modality ?? '', row.path).toBe(m.modality);
      expect(row.attrs.Manufacturer ?? '', row.path).toBe(m.manufacturer);
      expect(row.attrs.ManufacturerModelName ?? '', row.path).toBe(m.model);
      expect(row.attrs.SoftwareVersions ?? '', row.path).toBe(m.softwareVersions);
      expect(row.attrs.PatientBirthDate ?? '', row.path).toBe(m.patientBirthDate);
      expect(row.attrs.NumberOfFrames ?? '', row.path).toBe(
        m.numberOfFrames === null ? '' : String(m.numberOfFrames),
      );
    }
  });

  it('decodes names with the declared character set', () => {
    const rows = index.primaryWhere('study_uid', index.studyUids());
    const byPath = new Map(manifest().map((r) => [r.path, r]));
    const singleByte = rows.filter((r) =>
      /^ISO_IR (100|101|144|126|127|138|148|192)$/.test(r.attrs.SpecificCharacterSet ?? ''),
    );
    expect(singleByte.length).toBeGreaterThan(5);
    expect(singleByte.some((r) => /[^\x20-\x7e]/.test(r.attrs.PatientName ?? ''))).toBe(true);
    // pydicom drops empty trailing component groups ("Wang^XiaoDong=王^小東=" → "…小東"); the index keeps the value.
    for (const r of singleByte)
      expect((r.attrs.PatientName ?? '').replace(/=+$/, ''), r.path).toBe(byPath.get(r.path)!.patientName);
  });

  it('the hierarchy counts match the manifest', () => {
    const problems = new Set(index.problems().map((p) => p.path));
    const served = manifest().filter((r) => !problems.has(r.path));
    const h = new Hierarchy(index);
    const c = h.counts();
    expect(c.studies).toBe(distinct(served.map((r) => r.studyInstanceUid)));
    expect(c.series).toBe(distinct(served.map((r) => `${r.studyInstanceUid}|${r.seriesInstanceUid}`)));
    expect(c.instances).toBe(distinct(served.map((r) => r.sopInstanceUid)));
    expect(index.counts().duplicateCopies).toBe(served.length - c.instances);
    for (const st of h.allStudies()) {
      const rows = served.filter((r) => r.studyInstanceUid === st.uid);
      expect(st.instances, st.uid).toBe(distinct(rows.map((r) => r.sopInstanceUid)));
      expect(st.modalities, st.uid).toEqual([...new Set(rows.map((r) => r.modality).filter(Boolean))].sort());
    }
  });

  it('re-indexing reads nothing when nothing changed', async () => {
    const r = await indexFolder(corpusDir(), index);
    expect(r.read).toBe(0);
    expect(r.removed).toBe(0);
    expect(r.unchanged).toBe(manifest().length + 2);
  });
});

describe.skipIf(!hasCorpus())('incremental re-indexing', () => {
  it('reads new and changed files, drops removed ones, keeps problems typed', async () => {
    const tmp = makeTempDir('archive-incr');
    const dir = join(tmp, 'served');
    const index = new ArchiveIndex(join(tmp, 'index.sqlite'));
    try {
      const files = manifest()
        .filter(
          (r) =>
            r.transferSyntax === 'Explicit VR Little Endian' &&
            r.studyInstanceUid !== '' &&
            r.dcmdumpStatus === 'ok',
        )
        .slice(0, 3);
      const { mkdirSync } = await import('node:fs');
      mkdirSync(join(dir, 'sub'), { recursive: true });
      symlinkSync(files[0]!.absPath, join(dir, 'a.dcm'));
      symlinkSync(files[1]!.absPath, join(dir, 'sub', 'b.dcm'));
      writeFileSync(join(dir, 'notes.txt'), 'not DICOM');
      let r = await indexFolder(dir, index);
      expect(r).toMatchObject({ read: 3, problems: 1, removed: 0 });
      expect(index.problems().map((p) => [p.path, p.code])).toEqual([['notes.txt', 'not-dicom']]);

      symlinkSync(files[2]!.absPath, join(dir, 'c.dcm'));
      unlinkSync(join(dir, 'a.dcm'));
      writeFileSync(join(dir, 'notes.txt'), 'still not DICOM, but longer');
      r = await indexFolder(dir, index);
      expect(r).toMatchObject({ read: 2, unchanged: 1, removed: 1, problems: 1 });
      expect(r.touchedStudies).toEqual(new Set([files[0]!.studyInstanceUid, files[2]!.studyInstanceUid]));
      const paths = index
        .primaryWhere(
          'sop_instance_uid',
          files.map((f) => f.sopInstanceUid),
        )
        .map((x) => x.path);
      expect(paths.sort()).toEqual(['c.dcm', 'sub/b.dcm']);
    } finally {
      index.close();
      removeTempDir(tmp);
    }
  });
});

describe.skipIf(!hasCorpus())('index made with another set of attributes', () => {
  it('is emptied on open, so that every file is read again', async () => {
    const tmp = makeTempDir('archive-attrs');
    const dir = join(tmp, 'served');
    try {
      const { mkdirSync } = await import('node:fs');
      mkdirSync(dir);
      const row = manifest().find((r) => r.dcmdumpStatus === 'ok' && r.studyInstanceUid !== '')!;
      symlinkSync(row.absPath, join(dir, 'a.dcm'));
      let index = new ArchiveIndex(join(tmp, 'i.sqlite'), 'old-set');
      expect((await indexFolder(dir, index)).read).toBe(1);
      index.close();
      index = new ArchiveIndex(join(tmp, 'i.sqlite'), 'old-set');
      expect((await indexFolder(dir, index)).read).toBe(0);
      index.close();
      index = new ArchiveIndex(join(tmp, 'i.sqlite'), 'new-set');
      expect(index.counts()).toMatchObject({ files: 0, problems: 0 });
      expect((await indexFolder(dir, index)).read).toBe(1);
      index.close();
    } finally {
      removeTempDir(tmp);
    }
  });
});
