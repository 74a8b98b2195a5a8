/**
 * Inventory against the built-in archive serving the corpus in place: uncapped, capped by Cancel
 * (FE00) and by B001, and capped by the plan's findLimit alone. Ground truth: the manifest rows of
 * the files the archive serves.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseDA } from '../../../src/inventory/dates.js';
import { type InventoryOptions, runInventory } from '../../../src/inventory/index.js';
import { hasCorpus } from '../../harness/corpus.js';
import { type CorpusArchive, servedRows, startCorpusArchive } from '../archive/fixtures.js';
import { dimseSource, expectHonestCappedInventory, inventoried, migration, truthOf } from './fixtures.js';

async function inventoryOf(
  archive: CorpusArchive,
  sourceMore = '',
  planMore = '',
  opts: InventoryOptions = {},
) {
  const m = await migration(dimseSource(archive.archive.port, 'ARCHIVE', sourceMore), planMore);
  const summary = await runInventory(m.ctx, opts);
  const truth = truthOf(servedRows(archive.archive));
  const found = await inventoried(m.ctx.store, truth);
  const queries = await m.ctx.store.listQueries(summary.runId);
  return { m, summary, truth, found, queries };
}

describe.skipIf(!hasCorpus())('inventory of the built-in archive', () => {
  describe('uncapped', () => {
    let archive: CorpusArchive;
    beforeAll(async () => {
      archive = await startCorpusArchive();
    });
    afterAll(async () => archive?.stop());

    it('lists every study, series and instance with one study-level query, complete, with the counts the source reports', async () => {
      const r = await inventoryOf(archive);
      try {
        expect(r.found.studies).toEqual(new Set(r.truth.studies.keys()));
        expect(r.found.series).toEqual(new Set(r.truth.series.keys()));
        expect(r.found.instances).toEqual(new Set(r.truth.instances.keys()));
        expect(r.summary.complete).toBe(true);
        expect(r.summary).toMatchObject({
          studies: r.truth.studies.size,
          series: r.truth.series.size,
          instances: r.truth.instances.size,
          vanishChecked: { study: true, series: true, instance: true },
          findings: {},
        });
        expect(r.summary.undatedStudies).toBe(
          [...r.truth.studies.values()].filter((s) => parseDA(s.studyDate) === undefined).length,
        );
        expect(r.summary.changes.study.new).toBe(r.truth.studies.size);
        expect(r.summary.changes.instance.new).toBe(r.truth.instances.size);
        expect(r.queries.filter((q) => q.level === 'STUDY')).toHaveLength(1);
        // Values: a study's row holds what its files say; ModalitiesInStudy as the source computed it.
        const row = r.truth.studies.get(
          [...r.truth.studies.keys()].find((u) => r.truth.studies.get(u)!.studyDate !== '')!,
        )!;
        const st = await r.m.ctx.store.getStudy(row.studyInstanceUid);
        expect(st?.studyDate).toBe(row.studyDate);
        expect(st?.patientId ?? '').toBe(row.patientId);
        const inst = await r.m.ctx.store.getInstance(row.sopInstanceUid);
        expect(inst?.seriesUid).toBe(row.seriesInstanceUid);
        expect(inst?.transferSyntaxUid).toMatch(/^1\.2\./);
      } finally {
        await r.m.stop();
      }
    });
  });

  describe('a scope rule on a series-level attribute', () => {
    let archive: CorpusArchive;
    beforeAll(async () => {
      archive = await startCorpusArchive();
    });
    afterAll(async () => archive?.stop());

    it('asks for it at study level; when the strict archive refuses the key (A900), asks again without it', async () => {
      const scope =
        'scope:\n  rules:\n    - { id: no-station-7, action: exclude, match: { StationName: STATION7 } }\n';
      const r = await inventoryOf(archive, '', scope);
      try {
        expect(r.summary.queries?.droppedKeys).toContain('StationName');
        expect(r.summary.complete).toBe(true);
        expect(r.found.studies).toEqual(new Set(r.truth.studies.keys()));
        const params = (await r.m.ctx.store.getInventoryRun(r.summary.runId))?.params as {
          extraKeys: string[];
        };
        expect(params.extraKeys).toEqual(['StationName']);
        // The values come from the series instead, named as derived.
        let derived = 0;
        for (const [uid, row] of r.truth.studies) {
          const st = await r.m.ctx.store.getStudy(uid);
          const stations = new Set<string>();
          for (const [series, study] of r.truth.series)
            if (study === uid) {
              const se = await r.m.ctx.store.getSeries(series);
              if (se?.stationName) stations.add(se.stationName);
            }
          if (stations.size === 0) continue;
          derived++;
          expect(new Set(String(st?.attrs?.StationName).split('\\')), row.path).toEqual(stations);
          expect(st?.attrs?.derivedFromSeries).toContain('StationName');
        }
        expect(derived).toBeGreaterThan(0);
      } finally {
        await r.m.stop();
      }
    });
  });

  describe('capped by Cancel (FE00) after 5 matches at every level', () => {
    let archive: CorpusArchive;
    beforeAll(async () => {
      archive = await startCorpusArchive({ findLimit: 5 });
    });
    afterAll(async () => archive?.stop());

    it('splits until every part completes, finds every dated study, and never claims a completeness it lacks', async () => {
      const r = await inventoryOf(archive);
      try {
        expectHonestCappedInventory(r);
        expect(r.summary.queries!.capped).toBeGreaterThan(0);
        expect(r.summary.queries!.studyLevel.dated).toBeGreaterThan(0);
        expect(r.summary.queries!.studyLevel.undated).toBeGreaterThan(0);
        // Capped series and instance lists were split too (Modality, InstanceNumber).
        expect(r.queries.some((q) => q.level === 'IMAGE' && q.params.InstanceNumber !== undefined)).toBe(
          true,
        );
      } finally {
        await r.m.stop();
      }
    });

    it('without an undated pass, says the studies without a date were not listed', async () => {
      const r = await inventoryOf(archive, '', '', { undatedKeys: [] });
      try {
        expect(r.summary.queries!.studyLevel.undated).toBe(0);
        expect(r.summary.complete).toBe(false);
        const root = r.queries.find((q) => q.level === 'STUDY' && q.parentId === null)!;
        expect(r.queries.filter((q) => q.parentId === root.id && q.params.undated === true)).toHaveLength(1);
        expect(r.summary.uncoveredQueries).toContain(root.id);
        const missing = [...r.truth.studies.values()].filter(
          (st) => !r.found.studies.has(st.studyInstanceUid),
        );
        expect(missing.length).toBeGreaterThan(0);
        expect(missing.filter((st) => parseDA(st.studyDate) !== undefined)).toEqual([]);
        expect([...r.found.studies].filter((u) => !r.truth.studies.has(u))).toEqual([]);
      } finally {
        await r.m.stop();
      }
    });
  });

  describe('capped by B001 after 10 matches', () => {
    let archive: CorpusArchive;
    beforeAll(async () => {
      archive = await startCorpusArchive({ findLimit: 10, findLimitStatus: 'warning' });
    });
    afterAll(async () => archive?.stop());

    it('treats B001 as incomplete and splits', async () => {
      const r = await inventoryOf(archive);
      try {
        expect(r.queries.find((q) => q.parentId === null && q.level === 'STUDY')?.status).toBe(0xb001);
        expectHonestCappedInventory(r);
      } finally {
        await r.m.stop();
      }
    });
  });

  describe('capped only by the plan (source.findLimit) on a source that answers everything', () => {
    let archive: CorpusArchive;
    beforeAll(async () => {
      archive = await startCorpusArchive();
    });
    afterAll(async () => archive?.stop());

    it('treats an answer of findLimit matches as incomplete, splits it, and still lists every study', async () => {
      const r = await inventoryOf(archive, 'findLimit: 40');
      try {
        const root = r.queries.find((q) => q.parentId === null && q.level === 'STUDY')!;
        expect(root.status).toBe(0);
        expect(root.complete).toBe(false);
        expect(root.error).toMatch(/source\.findLimit \(40\)/);
        // The source answered in full, so every study was in some answer.
        expect(r.found.studies).toEqual(new Set(r.truth.studies.keys()));
        expectHonestCappedInventory(r);
      } finally {
        await r.m.stop();
      }
    });
  });
});
