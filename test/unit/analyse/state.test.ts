/**
 * The analysis tables (migration 004) through the Store, on SQLite and, when the local server
 * answers, PostgreSQL: paging the inventory, copies read by the analysis (one row per content),
 * runs with findings and the studies they touch, the pseudonym secret.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { ManualClock, openPgStore, openSqliteStore, type Store } from '../../../src/state/index.js';
import { TEST_PG as PG, pgReachable } from '../../harness/pg.js';

type Open = (clock: ManualClock) => Promise<{ store: Store; cleanup(): Promise<void> }>;

const sqlite: Open = async (clock) => {
  const dir = mkdtempSync(join(tmpdir(), 'pacshift-analyse-state-'));
  const store = await openSqliteStore({ path: join(dir, 'state.db'), clock });
  return {
    store,
    cleanup: async () => {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
};

const postgres: Open = async (clock) => {
  const schema = `pacshift_test_${randomBytes(6).toString('hex')}`;
  const store = await openPgStore({ connectionString: PG, schema, clock, max: 2 });
  return {
    store,
    cleanup: async () => {
      await store.close();
      const admin = new pg.Client({ connectionString: PG });
      await admin.connect();
      await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`).finally(() => admin.end());
    },
  };
};

function suite(name: string, open: Open): void {
  describe(`analysis state: ${name}`, () => {
    it('pages studies, series and instances by UID', async () => {
      const clock = new ManualClock(1_000);
      const { store, cleanup } = await open(clock);
      try {
        const run = await store.startInventoryRun();
        const studies = Array.from({ length: 25 }, (_, i) => ({
          studyUid: `1.2.3.${100 + i}`,
          patientId: `P${i}`,
        }));
        await store.upsertStudies(run, studies);
        await store.upsertSeries(
          run,
          studies.map((s) => ({ seriesUid: `${s.studyUid}.1`, studyUid: s.studyUid })),
        );
        await store.upsertInstances(
          run,
          studies.map((s) => ({
            sopInstanceUid: `${s.studyUid}.1.1`,
            seriesUid: `${s.studyUid}.1`,
            studyUid: s.studyUid,
          })),
        );
        const all: string[] = [];
        for (
          let after: string | undefined, page;
          (page = await store.pageStudies({ after, limit: 7 })).length > 0;
          after = page.at(-1)!.studyUid
        )
          all.push(...page.map((s) => s.studyUid));
        expect(all).toEqual(studies.map((s) => s.studyUid));
        expect((await store.pageSeries({ limit: 100 })).map((s) => s.seriesUid)).toHaveLength(25);
        const second = await store.pageInstances({ after: '1.2.3.110.1.1', limit: 2 });
        expect(second.map((i) => i.sopInstanceUid)).toEqual(['1.2.3.111.1.1', '1.2.3.112.1.1']);
      } finally {
        await cleanup();
      }
    });

    it('keeps one header row per SOP Instance UID and content, counting copies read again', async () => {
      const clock = new ManualClock(1_000);
      const { store, cleanup } = await open(clock);
      try {
        const copy = (digest: string) => ({
          sopInstanceUid: '1.2.3.4',
          contentDigest: digest,
          studyUid: '1.2.3',
          seriesUid: '1.2.3.1',
          origin: 'sample',
          header: { SeriesNumber: 3 },
          problems: [{ code: 'CHARSET_MISSING', tags: ['PatientName'] }],
        });
        expect(await store.recordAnalysisHeaders([copy('aa'), copy('aa')])).toEqual({
          inserted: 1,
          again: 0,
        });
        clock.advance(5);
        expect(await store.recordAnalysisHeaders([copy('aa'), copy('bb')])).toEqual({
          inserted: 1,
          again: 1,
        });
        const rows = await store.listAnalysisHeaders();
        expect(rows.map((r) => [r.contentDigest, r.timesSeen, r.firstSeenAt, r.lastSeenAt])).toEqual([
          ['aa', 2, 1_000, 1_005],
          ['bb', 1, 1_005, 1_005],
        ]);
        expect(rows[0]!.header).toEqual({ SeriesNumber: 3 });
        expect(rows[0]!.problems).toEqual([{ code: 'CHARSET_MISSING', tags: ['PatientName'] }]);
        expect(await store.listAnalysisHeaders({ afterId: rows[0]!.id })).toHaveLength(1);
      } finally {
        await cleanup();
      }
    });

    it('saves runs with findings and the studies each touches; the latest run by default', async () => {
      const clock = new ManualClock(1_000);
      const { store, cleanup } = await open(clock);
      try {
        expect(await store.getAnalysisRun()).toBeUndefined();
        const first = await store.saveAnalysisRun({ startedAt: 900, params: { perSeries: 1 } }, []);
        clock.advance(10);
        const id = await store.saveAnalysisRun({ startedAt: 1_000, summary: { total: 2 } }, [
          {
            code: 'PATIENT_NAME_CONFLICT',
            severity: 'error',
            subject: 'pid#ab',
            studyUids: ['1.2', '1.1', '1.2'],
            detail: { names: 2 },
          },
          {
            code: 'UID_INVALID',
            severity: 'error',
            subject: '1.01',
            studyUids: ['1.1'],
            seriesUid: '1.01',
            sopInstanceUid: null,
          },
        ]);
        expect(id).toBeGreaterThan(first);
        const run = await store.getAnalysisRun();
        expect(run).toMatchObject({ id, startedAt: 1_000, finishedAt: 1_010, summary: { total: 2 } });
        expect((await store.getAnalysisRun(first))!.params).toEqual({ perSeries: 1 });
        const all = await store.listAnalysisFindings(id);
        expect(all.map((f) => [f.code, f.studyUids, f.seriesUid])).toEqual([
          ['PATIENT_NAME_CONFLICT', ['1.1', '1.2'], null],
          ['UID_INVALID', ['1.1'], '1.01'],
        ]);
        expect((await store.listAnalysisFindings(id, { studyUid: '1.2' })).map((f) => f.code)).toEqual([
          'PATIENT_NAME_CONFLICT',
        ]);
      } finally {
        await cleanup();
      }
    });

    it('makes the pseudonym secret once', async () => {
      const { store, cleanup } = await open(new ManualClock(1));
      try {
        const a = await store.analysisSecret();
        expect(a).toMatch(/^[0-9a-f]{64}$/);
        expect(await store.analysisSecret()).toBe(a);
      } finally {
        await cleanup();
      }
    });
  });
}

suite('sqlite', sqlite);
if (await pgReachable()) suite('postgres', postgres);
