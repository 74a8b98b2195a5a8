/**
 * The full-header scan on the real corpus, against MANIFEST.tsv: the content digest groups the files
 * exactly as the manifest's header_sha256 does (a re-encoded copy or another File Meta is the same
 * content, any other difference is not); misspelt or unknown character set terms and top-level UIDs
 * breaking the UID rules are reported where the manifest's values say so.
 */
import { describe, expect, it } from 'vitest';
import { scanHeader, type HeaderScan } from '../../../src/analyse/scan.js';
import { hasCorpus, manifest, type ManifestRow } from '../../harness/corpus.js';

/** Defined terms of (0008,0005), PS3.3 Tables C.12-2 to C.12-5. */
const DEFINED_TERMS = new Set([
  'ISO_IR 6',
  'ISO_IR 100',
  'ISO_IR 101',
  'ISO_IR 109',
  'ISO_IR 110',
  'ISO_IR 144',
  'ISO_IR 127',
  'ISO_IR 126',
  'ISO_IR 138',
  'ISO_IR 148',
  'ISO_IR 203',
  'ISO_IR 13',
  'ISO_IR 166',
  'ISO_IR 192',
  'GB18030',
  'GBK',
  'ISO 2022 IR 6',
  'ISO 2022 IR 100',
  'ISO 2022 IR 101',
  'ISO 2022 IR 109',
  'ISO 2022 IR 110',
  'ISO 2022 IR 144',
  'ISO 2022 IR 127',
  'ISO 2022 IR 126',
  'ISO 2022 IR 138',
  'ISO 2022 IR 148',
  'ISO 2022 IR 203',
  'ISO 2022 IR 13',
  'ISO 2022 IR 166',
  'ISO 2022 IR 87',
  'ISO 2022 IR 159',
  'ISO 2022 IR 149',
  'ISO 2022 IR 58',
]);

/** PS3.5 9.1, written independently of src/analyse/uid.ts. */
const validUid = (u: string): boolean => u.length <= 64 && /^(0|[1-9][0-9]*)(\.(0|[1-9][0-9]*))*$/.test(u);

describe.skipIf(!hasCorpus())('scanHeader on the corpus', () => {
  const scans = new Map<string, HeaderScan>();
  let rows: ManifestRow[] = [];

  it('reads every file whose data set can be walked to its end', { timeout: 120_000 }, async () => {
    rows = manifest();
    for (const r of rows) {
      const s = await scanHeader(r.absPath);
      if (s.ok && !s.value.incomplete) scans.set(r.path, s.value);
    }
    // dcmdump reads 356 files; the rest have no File Meta or are broken (the manifest says which).
    const ok = rows.filter(
      (r) =>
        r.dcmdumpStatus.startsWith('ok') &&
        r.transferSyntax !== '' &&
        !/no (file )?meta/i.test(r.transferSyntax),
    );
    expect(scans.size).toBeGreaterThanOrEqual(ok.length - 10);
  });

  it('groups files by content exactly as header_sha256 does', () => {
    const groups = (key: (r: ManifestRow) => string) => {
      const m = new Map<string, string[]>();
      for (const r of rows) if (scans.has(r.path)) m.set(key(r), [...(m.get(key(r)) ?? []), r.path]);
      return new Set([...m.values()].map((v) => v.sort().join('|')));
    };
    const byManifest = groups((r) => r.headerSha256);
    const byScan = groups((r) => scans.get(r.path)!.contentDigest);
    expect([...byScan].sort()).toEqual([...byManifest].sort());
    // The manifest's duplicate SOP Instance UIDs are among them: re-encoded copies equal, conflicts not.
    const bySop = new Map<string, ManifestRow[]>();
    for (const r of rows)
      if (r.sopInstanceUid && scans.has(r.path))
        bySop.set(r.sopInstanceUid, [...(bySop.get(r.sopInstanceUid) ?? []), r]);
    const dups = [...bySop.values()].filter((g) => g.length > 1);
    expect(dups.length).toBeGreaterThanOrEqual(3);
    for (const g of dups)
      expect(new Set(g.map((r) => scans.get(r.path)!.contentDigest)).size, g[0]!.sopInstanceUid).toBe(
        new Set(g.map((r) => r.headerSha256)).size,
      );
  });

  it('reports character set terms that are not defined terms', () => {
    for (const r of rows) {
      const s = scans.get(r.path);
      if (!s) continue;
      const terms = r.specificCharacterSet
        .split('\\')
        .map((t) => t.trim())
        .filter((t, i) => t !== '' || i > 0);
      const bad = terms.filter((t) => t !== '' && !DEFINED_TERMS.has(t));
      const reported = [...(s.problems.charset.misspelt ?? []), ...(s.problems.charset.unknown ?? [])];
      expect(reported.sort(), r.path).toEqual(bad.sort());
    }
  });

  it('reports top-level Study, Series and SOP Instance UIDs that break the UID rules', () => {
    let seen = 0;
    for (const r of rows) {
      const s = scans.get(r.path);
      if (!s) continue;
      const expected = (
        [
          ['StudyInstanceUID', r.studyInstanceUid],
          ['SeriesInstanceUID', r.seriesInstanceUid],
          ['SOPInstanceUID', r.sopInstanceUid],
        ] as const
      )
        .filter(([, u]) => u !== '' && !validUid(u))
        .map(([k]) => k);
      const reported = s.problems.uids
        .filter((u) => !u.nested && expected.includes(u.keyword as (typeof expected)[number]))
        .map((u) => u.keyword);
      expect(reported.sort(), r.path).toEqual([...expected].sort());
      seen += expected.length;
    }
    expect(seen).toBeGreaterThan(0);
  });
});
