/**
 * The Store contract: one suite, run against every implementation (sqlite.test.ts, postgres.test.ts),
 * in the manner of hono's `common.case.test.ts`. Time only moves when a test moves the ManualClock.
 */
import { spawnSync } from 'node:child_process';
import { hostname } from 'node:os';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  JOB_STATE_TABLE,
  LEASE_EXPIRED,
  MIGRATIONS,
  ManualClock,
  PROGRESS_STATES,
  VANISHED,
  type BackoffPolicy,
  type Db,
  type Job,
  type Store,
  type StudyInput,
} from '../../../src/state/index.js';

export interface FixtureOptions {
  readonly backoff?: BackoffPolicy;
  readonly maxAttempts?: number;
  /** Leave the schema unmigrated (to test migrating). */
  readonly migrate?: boolean;
}

export interface StoreFixture {
  readonly store: Store;
  /** The store's database, for checks the Store API does not offer (raw SQL, `?` placeholders). */
  readonly db: Db;
  readonly clock: ManualClock;
  /** An independent connection to the same database (SQLite: another connection to the file; PostgreSQL: another pool), same clock and options. */
  openAnother(): Promise<{ store: Store; db: Db }>;
  /** Closes everything opened and removes the database. */
  cleanup(): Promise<void>;
}

export type MakeStore = (opts?: FixtureOptions) => Promise<StoreFixture>;

const BACKOFF: BackoffPolicy = { baseMs: 1_000, factor: 2, capMs: 5_000 };
const day = (n: number) =>
  `2024${String(Math.floor(n / 28) + 1).padStart(2, '0')}${String((n % 28) + 1).padStart(2, '0')}`;

function study(i: number, extra: Partial<StudyInput> = {}): StudyInput {
  return {
    studyUid: `1.2.826.0.1.${i}`,
    patientId: `P${i % 3}`,
    patientName: `DOE^J${i}`,
    studyDate: day(i),
    modalitiesInStudy: ['CT'],
    numSeries: 1,
    numInstances: 2,
    ...extra,
  };
}

/** Inventories n studies (one complete run) with everything in scope, and enqueues them. */
async function seed(
  store: Store,
  n: number,
  extra: (i: number) => Partial<StudyInput> = () => ({}),
): Promise<Job[]> {
  const runId = await store.startInventoryRun();
  const studies = Array.from({ length: n }, (_, i) => study(i + 1, extra(i + 1)));
  await store.upsertStudies(runId, studies);
  await store.finishInventoryRun(runId);
  await store.setScopeDecisions(studies.map((s) => ({ studyUid: s.studyUid, inScope: true, ruleId: 'all' })));
  await store.enqueueJobs(studies.map((s) => s.studyUid));
  return store.listJobs({ limit: n });
}

function unwrap<T, E>(r: { ok: true; value: T } | { ok: false; error: E }): T {
  if (!r.ok) throw new Error(`expected ok, got ${JSON.stringify(r.error)}`);
  return r.value;
}

export function describeStoreContract(name: string, makeStore: MakeStore): void {
  describe(`Store contract: ${name}`, () => {
    let fx: StoreFixture;
    let store: Store;
    let clock: ManualClock;
    const extra: { cleanup(): Promise<void> }[] = [];

    async function fixture(opts?: FixtureOptions): Promise<StoreFixture> {
      const f = await makeStore(opts);
      extra.push(f);
      return f;
    }

    beforeEach(async () => {
      fx = await makeStore({ backoff: BACKOFF, maxAttempts: 5 });
      store = fx.store;
      clock = fx.clock;
    });
    afterEach(async () => {
      await fx.cleanup();
      while (extra.length) await extra.pop()!.cleanup();
    });

    describe('migrations', () => {
      it('are applied once; a second migrate applies nothing', async () => {
        const again = await store.migrate();
        expect(again.applied).toEqual([]);
        expect(again.version).toBe(MIGRATIONS.length);
        const rows = await fx.db.all<{ id: number; name: string }>(
          'SELECT id, name FROM schema_migrations ORDER BY id',
        );
        expect(rows.map((r) => Number(r.id))).toEqual(MIGRATIONS.map((m) => m.id));
      });

      it('are safe when two connections migrate a fresh database at once', async () => {
        const fresh = await fixture({ migrate: false });
        const other = await fresh.openAnother();
        const [a, b] = await Promise.all([fresh.store.migrate(), other.store.migrate()]);
        expect([...a.applied, ...b.applied].sort((x, y) => x - y)).toEqual(MIGRATIONS.map((m) => m.id));
        expect([a.applied.length, b.applied.length].sort()).toEqual([0, MIGRATIONS.length]);
        const rows = await fresh.db.all('SELECT id FROM schema_migrations');
        expect(rows).toHaveLength(MIGRATIONS.length);
      });

      it('refuse a database newer than this code', async () => {
        await fx.db.run('INSERT INTO schema_migrations (id, name, applied_at) VALUES (?, ?, ?)', [
          MIGRATIONS.length + 1,
          'from-the-future',
          0,
        ]);
        await expect(store.migrate()).rejects.toThrow(/newer/);
      });

      it('seed job_states equal to the ordered enum in job-state.ts', async () => {
        const rows = await fx.db.all<{ name: string; rank: number; terminal: unknown }>(
          'SELECT name, rank, terminal FROM job_states ORDER BY rank',
        );
        expect(
          rows.map((r) => ({
            state: r.name,
            rank: Number(r.rank),
            terminal: r.terminal === true || r.terminal === 1,
          })),
        ).toEqual([...JOB_STATE_TABLE].sort((a, b) => a.rank - b.rank).map((s) => ({ ...s })));
      });

      it('keep the events table append-only', async () => {
        await store.appendEvents([{ kind: 'test', detail: { n: 1 } }]);
        await expect(fx.db.run("UPDATE events SET kind = 'x'")).rejects.toThrow(/append-only/);
        await expect(fx.db.run('DELETE FROM events')).rejects.toThrow(/append-only/);
        expect(await store.listEvents({ kind: 'test' })).toHaveLength(1);
      });
    });

    describe('inventory', () => {
      it('an older run never marks vanished what a newer run saw', async () => {
        const run1 = await store.startInventoryRun();
        const run2 = await store.startInventoryRun();
        await store.upsertStudies(run1, [study(1)]);
        await store.upsertStudies(run2, [study(1), study(2)]);
        expect(await store.markVanished(run1)).toEqual([]);
        expect(await store.markVanished(run2)).toEqual([]);
      });

      it('a row the same run wrote already is refined without a delta (a study answered once per patient)', async () => {
        const run1 = await store.startInventoryRun();
        await store.upsertStudies(run1, [study(7, { numInstances: 1, numSeries: 1 })]);
        const again = await store.upsertStudies(run1, [
          { studyUid: '1.2.826.0.1.7', numInstances: 2, numSeries: 2 },
        ]);
        expect(again.countsChanged).toEqual([]);
        expect(await store.getStudy('1.2.826.0.1.7')).toMatchObject({
          numInstances: 2,
          numSeries: 2,
          patientId: 'P1',
        });
        expect((await store.listChanges(run1)).map((c) => [c.uid, c.kind])).toEqual([
          ['1.2.826.0.1.7', 'new'],
        ]);
        // The next run's different count is a delta again.
        const run2 = await store.startInventoryRun();
        const r2 = await store.upsertStudies(run2, [{ studyUid: '1.2.826.0.1.7', numInstances: 3 }]);
        expect(r2.countsChanged).toEqual(['1.2.826.0.1.7']);
      });

      it('upserts studies and reports new, counts-changed, attributes-changed, vanished and reappeared as deltas', async () => {
        const run1 = await store.startInventoryRun({ from: '2024' });
        const r1 = await store.upsertStudies(run1, [
          study(1, {
            modalitiesInStudy: ['CT', 'SR'],
            attrs: { OtherPatientIDs: 'X', IssuerOfPatientID: 'H' },
          }),
          study(2, { accessionNumber: '' }),
          study(3),
        ]);
        expect([...r1.inserted].sort()).toEqual(['1.2.826.0.1.1', '1.2.826.0.1.2', '1.2.826.0.1.3']);
        expect(await store.markVanished(run1)).toEqual([]);
        const s1 = (await store.getStudy('1.2.826.0.1.1'))!;
        expect(s1).toMatchObject({
          patientId: 'P1',
          modalitiesInStudy: 'CT\\SR',
          numInstances: 2,
          firstRunId: run1,
          vanishedAt: null,
          changedAt: null,
        });
        expect(s1.attrs).toEqual({ IssuerOfPatientID: 'H', OtherPatientIDs: 'X' });
        expect((await store.getStudy('1.2.826.0.1.2'))!.accessionNumber).toBeNull();
        expect((await store.listChanges(run1)).map((c) => [c.uid, c.kind])).toEqual([
          ['1.2.826.0.1.1', 'new'],
          ['1.2.826.0.1.2', 'new'],
          ['1.2.826.0.1.3', 'new'],
        ]);

        clock.advance(86_400_000);
        const run2 = await store.startInventoryRun();
        const r2 = await store.upsertStudies(run2, [
          // same attrs in another key order: unchanged; counts changed
          study(1, {
            modalitiesInStudy: 'CT\\SR',
            numInstances: 5,
            attrs: { OtherPatientIDs: 'X', IssuerOfPatientID: 'H' },
          }),
          study(2, { studyDescription: 'CHEST' }),
        ]);
        expect(r2).toMatchObject({
          inserted: [],
          countsChanged: ['1.2.826.0.1.1'],
          attributesChanged: ['1.2.826.0.1.2'],
          unchanged: 0,
        });
        expect(await store.markVanished(run2)).toEqual(['1.2.826.0.1.3']);
        expect(await store.markVanished(run2)).toEqual([]); // idempotent
        const changes2 = await store.listChanges(run2);
        expect(changes2.map((c) => [c.uid, c.kind])).toEqual([
          ['1.2.826.0.1.1', 'counts-changed'],
          ['1.2.826.0.1.2', 'attributes-changed'],
          ['1.2.826.0.1.3', 'vanished'],
        ]);
        expect(changes2[0]).toMatchObject({ oldValue: { numInstances: 2 }, newValue: { numInstances: 5 } });
        expect(changes2[1]).toMatchObject({
          oldValue: { studyDescription: null },
          newValue: { studyDescription: 'CHEST' },
        });
        const s1b = (await store.getStudy('1.2.826.0.1.1'))!;
        expect(s1b).toMatchObject({
          numInstances: 5,
          changedAt: clock.now(),
          lastRunId: run2,
          firstRunId: run1,
        });
        expect((await store.getStudy('1.2.826.0.1.3'))!.vanishedAt).toBe(clock.now());

        clock.advance(1000);
        const run3 = await store.startInventoryRun();
        const r3 = await store.upsertStudies(run3, [
          study(1, { numInstances: 5, modalitiesInStudy: 'CT\\SR' }),
          study(3),
        ]);
        expect(r3).toMatchObject({
          reappeared: ['1.2.826.0.1.3'],
          countsChanged: [],
          attributesChanged: [],
          unchanged: 1,
        });
        expect((await store.getStudy('1.2.826.0.1.3'))!.vanishedAt).toBeNull();
        expect((await store.listChanges(run3)).map((c) => c.kind)).toEqual(['reappeared']);
        // only study 2 is missing, and only among the candidates given
        expect(await store.markVanished(run3, { among: ['1.2.826.0.1.1', '1.2.826.0.1.3'] })).toEqual([]);
        expect(await store.markVanished(run3, { seen: ['1.2.826.0.1.1', '1.2.826.0.1.3'] })).toEqual([
          '1.2.826.0.1.2',
        ]);
      });

      it('upserts series and instances; an instance received before it was inventoried counts as new there', async () => {
        const run = await store.startInventoryRun();
        await store.upsertStudies(run, [study(1)]);
        const rs = await store.upsertSeries(run, [
          {
            seriesUid: '1.3.1',
            studyUid: '1.2.826.0.1.1',
            modality: 'CT',
            seriesNumber: 2,
            softwareVersions: ['V1', 'V2'],
            numInstances: 2,
          },
        ]);
        expect(rs.inserted).toEqual(['1.3.1']);
        expect((await store.getSeries('1.3.1'))!).toMatchObject({
          modality: 'CT',
          seriesNumber: 2,
          softwareVersions: 'V1\\V2',
        });
        await store.recordInstancesReceived([
          { sopInstanceUid: '1.4.2', seriesUid: '1.3.1', studyUid: '1.2.826.0.1.1', sizeBytes: 10 },
        ]);
        const ri = await store.upsertInstances(run, [
          {
            sopInstanceUid: '1.4.1',
            seriesUid: '1.3.1',
            studyUid: '1.2.826.0.1.1',
            sopClassUid: '1.2.840.10008.5.1.4.1.1.2',
            instanceNumber: 1,
          },
          { sopInstanceUid: '1.4.2', seriesUid: '1.3.1', studyUid: '1.2.826.0.1.1', instanceNumber: 2 },
        ]);
        expect([...ri.inserted].sort()).toEqual(['1.4.1', '1.4.2']);
        expect((await store.getInstance('1.4.2'))!).toMatchObject({
          instanceNumber: 2,
          firstRunId: run,
          sizeBytes: 10,
        });
        expect(await store.listChanges(run, 'instance')).toEqual([]);
        expect((await store.listChanges(run, 'series')).map((c) => c.kind)).toEqual(['new']);

        const run2 = await store.startInventoryRun();
        await store.upsertSeries(run2, [{ seriesUid: '1.3.1', studyUid: '1.2.826.0.1.1', numInstances: 1 }]);
        await store.upsertInstances(run2, [
          { sopInstanceUid: '1.4.1', seriesUid: '1.3.1', studyUid: '1.2.826.0.1.1' },
        ]);
        expect(await store.markVanished(run2, { level: 'instance' })).toEqual(['1.4.2']);
        expect((await store.listChanges(run2)).map((c) => [c.level, c.kind])).toEqual([
          ['series', 'counts-changed'],
          ['instance', 'vanished'],
        ]);
      });

      it('records queries and finishes a run complete only when every capped query is covered by its splits', async () => {
        const run = await store.startInventoryRun();
        const root = await store.recordQuery({
          runId: run,
          level: 'STUDY',
          params: { StudyDate: '2020-2024' },
          complete: false,
          status: 0xfe00,
          resultCount: 1000,
        });
        const a = await store.recordQuery({
          runId: run,
          parentId: root,
          level: 'STUDY',
          params: { StudyDate: '2020-2022' },
          complete: true,
          status: 0,
          resultCount: 600,
        });
        const b = await store.recordQuery({
          runId: run,
          parentId: root,
          level: 'STUDY',
          params: { StudyDate: '2023-2024' },
          complete: false,
          status: 0xfe00,
          resultCount: 1000,
        });
        await store.recordQuery({
          runId: run,
          level: 'STUDY',
          params: { StudyDate: '' },
          complete: true,
          status: 0,
          resultCount: 3,
        });
        const qs = await store.listQueries(run);
        expect(qs.map((q) => [q.id, q.parentId, q.complete, q.status])).toEqual([
          [root, null, false, 0xfe00],
          [a, root, true, 0],
          [b, root, false, 0xfe00],
          [qs[3]!.id, null, true, 0],
        ]);
        expect(qs[0]!.params).toEqual({ StudyDate: '2020-2024' });
        expect(await store.finishInventoryRun(run)).toEqual({
          complete: false,
          uncovered: [root],
          uncoveredLeaves: [b],
        });
        await store.recordQuery({
          runId: run,
          parentId: b,
          level: 'STUDY',
          params: { StudyDate: '2023' },
          complete: true,
          status: 0,
          resultCount: 500,
        });
        await store.recordQuery({
          runId: run,
          parentId: b,
          level: 'STUDY',
          params: { StudyDate: '2024' },
          complete: true,
          status: 0,
          resultCount: 500,
        });
        expect(await store.finishInventoryRun(run)).toEqual({
          complete: true,
          uncovered: [],
          uncoveredLeaves: [],
        });
        expect((await store.getInventoryRun(run))!).toMatchObject({
          complete: true,
          finishedAt: clock.now(),
        });
        expect((await store.finishInventoryRun(run, { complete: false })).complete).toBe(false);
      });

      it('never reports a study as new to two inventory processes upserting it at once', async () => {
        const other = await fx.openAnother();
        const run = await store.startInventoryRun();
        const rows = Array.from({ length: 120 }, (_, i) => study(i + 1));
        const [a, b] = await Promise.all([
          store.upsertStudies(run, rows),
          other.store.upsertStudies(run, [...rows].reverse()),
        ]);
        const inserted = [...a.inserted, ...b.inserted].sort();
        expect(inserted).toEqual(rows.map((r) => r.studyUid).sort());
        expect(a.unchanged + b.unchanged).toBe(120);
        expect((await store.listChanges(run)).filter((c) => c.kind === 'new')).toHaveLength(120);
      });

      it('rolls a failed batch back entirely', async () => {
        const run = await store.startInventoryRun();
        await expect(store.upsertStudies(run, [study(1), { studyUid: '' }])).rejects.toThrow();
        await expect(
          store.upsertStudies(run, [study(1), study(2, { numInstances: Number.NaN })]),
        ).rejects.toThrow();
        expect(await store.getStudy('1.2.826.0.1.1')).toBeUndefined();
      });
    });

    describe('scope and enqueue', () => {
      it('requires a rule to exclude, moves pending jobs to excluded and back, and enqueues idempotently', async () => {
        const run = await store.startInventoryRun();
        await store.upsertStudies(run, [study(1), study(2), study(3)]);
        await expect(store.setScopeDecision({ studyUid: '1.2.826.0.1.1', inScope: false })).rejects.toThrow(
          /rule/,
        );
        expect(await store.enqueueJobs(['1.2.826.0.1.1', '1.2.826.0.1.2', '9.9.9'])).toEqual({
          created: ['1.2.826.0.1.1', '1.2.826.0.1.2'],
          existing: [],
          unknown: ['9.9.9'],
        });
        expect(await store.enqueueJobs(['1.2.826.0.1.1'])).toEqual({
          created: [],
          existing: ['1.2.826.0.1.1'],
          unknown: [],
        });

        const r = await store.setScopeDecisions([
          {
            studyUid: '1.2.826.0.1.1',
            inScope: false,
            ruleId: 'R-SR-ONLY',
            ruleDescription: 'SR-only studies',
          },
          { studyUid: '1.2.826.0.1.2', inScope: true, ruleId: 'R-ALL' },
          { studyUid: '1.2.826.0.1.3', inScope: false, ruleId: 'R-OLD' },
        ]);
        expect(r).toEqual({ decided: 3, changed: 3, jobsExcluded: 1, jobsReopened: 0 });
        expect((await store.getJobByStudy('1.2.826.0.1.1'))!.state).toBe('excluded');
        expect((await store.getScopeDecision('1.2.826.0.1.1'))!).toMatchObject({
          inScope: false,
          ruleId: 'R-SR-ONLY',
          ruleDescription: 'SR-only studies',
        });
        // an excluded study enqueued later gets an excluded job, never a pending one
        await store.enqueueJobs(['1.2.826.0.1.3']);
        expect((await store.getJobByStudy('1.2.826.0.1.3'))!.state).toBe('excluded');
        expect((await store.claimJobs('w', 10, 1000)).map((j) => j.studyUid)).toEqual(['1.2.826.0.1.2']);

        const back = await store.setScopeDecisions([
          { studyUid: '1.2.826.0.1.1', inScope: true, ruleId: 'R-ALL' },
        ]);
        expect(back).toEqual({ decided: 1, changed: 1, jobsExcluded: 0, jobsReopened: 1 });
        expect((await store.getJobByStudy('1.2.826.0.1.1'))!.state).toBe('pending');
        expect((await store.listEvents({ kind: 'scope.changed' })).map((e) => e.detail)).toEqual([
          { from: { inScope: false, ruleId: 'R-SR-ONLY' }, to: { inScope: true, ruleId: 'R-ALL' } },
        ]);
        // a job under way is not excluded under the worker's feet
        await store.setScopeDecisions([{ studyUid: '1.2.826.0.1.2', inScope: false, ruleId: 'R-LATE' }]);
        expect((await store.getJobByStudy('1.2.826.0.1.2'))!.state).toBe('pending');
        expect((await store.getJobByStudy('1.2.826.0.1.2'))!.leaseOwner).toBe('w');
      });
    });

    describe('job state transitions', () => {
      it('advance forward only, idempotently, and only while holding a live lease', async () => {
        const [job] = await seed(store, 1);
        const id = job!.id;
        expect(await store.advanceJob(id, 'w1', 'retrieving')).toEqual({
          ok: false,
          error: { kind: 'not-lease-holder', jobId: id, holder: null },
        });
        await store.claimJobs('w1', 1, 10_000);
        expect(await store.advanceJob(id, 'w2', 'retrieving')).toEqual({
          ok: false,
          error: { kind: 'not-lease-holder', jobId: id, holder: 'w1' },
        });
        expect(await store.advanceJob(9999, 'w1', 'retrieving')).toEqual({
          ok: false,
          error: { kind: 'not-found', jobId: 9999 },
        });

        for (const s of ['retrieving', 'retrieved', 'storing'] as const)
          expect(unwrap(await store.advanceJob(id, 'w1', s)).state).toBe(s);
        expect(unwrap(await store.advanceJob(id, 'w1', 'storing')).state).toBe('storing'); // same state: no-op
        for (const back of ['pending', 'retrieving', 'retrieved'] as const) {
          expect(await store.advanceJob(id, 'w1', back)).toEqual({
            ok: false,
            error: { kind: 'backwards', jobId: id, from: 'storing', to: back },
          });
        }
        expect(await store.advanceJob(id, 'w1', 'dead')).toMatchObject({
          ok: false,
          error: { kind: 'not-a-progress-state' },
        });
        expect((await store.getJob(id))!.state).toBe('storing');

        const verified = unwrap(await store.advanceJob(id, 'w1', 'verified')); // forward jumps are allowed
        expect(verified).toMatchObject({ state: 'verified', leaseOwner: null, leaseExpiresAt: null });
        expect(await store.advanceJob(id, 'w1', 'verified')).toMatchObject({
          ok: false,
          error: { kind: 'not-lease-holder' },
        });

        const trail = (await store.listEvents({ jobId: id, kind: 'job.state' })).map(
          (e) => (e.detail as { to: string }).to,
        );
        expect(trail).toEqual(['retrieving', 'retrieved', 'storing', 'verified']);
        expect(PROGRESS_STATES.indexOf('verified')).toBe(PROGRESS_STATES.length - 1);
      });

      it('refuses an expired lease even before anyone else claims it', async () => {
        const [job] = await seed(store, 1);
        await store.claimJobs('w1', 1, 1_000);
        clock.advance(1_000);
        expect(await store.advanceJob(job!.id, 'w1', 'retrieving')).toEqual({
          ok: false,
          error: { kind: 'lease-expired', jobId: job!.id, expiredAt: clock.now() },
        });
        expect(await store.extendLease(job!.id, 'w1', 1_000)).toMatchObject({
          ok: false,
          error: { kind: 'lease-expired' },
        });
        expect(await store.failJob(job!.id, 'w1', 'X', 'x', true)).toMatchObject({
          ok: false,
          error: { kind: 'lease-expired' },
        });
      });
    });

    describe('leases', () => {
      it('never give the same job to two owners claiming concurrently', async () => {
        const jobs = await seed(store, 60);
        const other = await fx.openAnother();
        const claimLoop = async (s: Store, owner: string): Promise<number[]> => {
          const got: number[] = [];
          for (;;) {
            const batch = await s.claimJobs(owner, 3, 60_000);
            if (batch.length === 0) return got;
            for (const j of batch) expect(j.leaseOwner).toBe(owner);
            got.push(...batch.map((j) => j.id));
          }
        };
        const results = await Promise.all([
          claimLoop(store, 'A1'),
          claimLoop(store, 'A2'),
          claimLoop(other.store, 'B1'),
          claimLoop(other.store, 'B2'),
        ]);
        const all = results.flat();
        expect(all).toHaveLength(jobs.length);
        expect(new Set(all).size).toBe(jobs.length);
        const claimed = await store.listEvents({ kind: 'job.claimed' });
        expect(claimed).toHaveLength(jobs.length);
        await other.store.close();
      });

      it('can be limited to some states (a verifier claims only stored jobs)', async () => {
        const [j1, j2, j3] = await seed(store, 3);
        const [a] = await store.claimJobs('T', 1, 60_000, { states: ['pending'] });
        for (const s of ['retrieving', 'retrieved', 'storing', 'stored'] as const)
          unwrap(await store.advanceJob(a!.id, 'T', s));
        unwrap(await store.releaseJob(a!.id, 'T'));
        expect(await store.claimJobs('V', 5, 60_000, { states: [] })).toEqual([]);
        const got = await store.claimJobs('V', 5, 60_000, { states: ['stored', 'verifying'] });
        expect(got.map((j) => [j.id, j.state])).toEqual([[a!.id, 'stored']]);
        expect(await store.claimJobs('V', 5, 60_000, { states: ['stored', 'verifying'] })).toEqual([]);
        expect((await store.claimJobs('T', 5, 60_000)).map((j) => j.id).sort()).toEqual(
          [j1!.id, j2!.id, j3!.id].filter((id) => id !== a!.id).sort(),
        );
        await expect(store.claimJobs('V', 1, 1_000, { states: ['verified'] })).rejects.toThrow(/terminal/);
      });

      it('are re-claimable once expired (counting an attempt); a heartbeat keeps them', async () => {
        const [j1, j2] = await seed(store, 2);
        const [a, b] = await store.claimJobs('A', 2, 1_000);
        expect([a!.id, b!.id].sort()).toEqual([j1!.id, j2!.id].sort());
        clock.advance(900);
        expect(unwrap(await store.extendLease(a!.id, 'A', 1_000)).leaseExpiresAt).toBe(clock.now() + 1_000);
        clock.advance(99);
        expect(await store.claimJobs('B', 5, 1_000)).toEqual([]);
        clock.advance(1); // b's lease ends now
        const reclaimed = await store.claimJobs('B', 5, 1_000);
        expect(reclaimed.map((j) => j.id)).toEqual([b!.id]);
        expect(reclaimed[0]).toMatchObject({ leaseOwner: 'B', attempts: 1, lastErrorCode: LEASE_EXPIRED });
        expect(await store.advanceJob(b!.id, 'A', 'retrieving')).toEqual({
          ok: false,
          error: { kind: 'not-lease-holder', jobId: b!.id, holder: 'B' },
        });
        expect(unwrap(await store.advanceJob(b!.id, 'B', 'retrieving')).state).toBe('retrieving');
        const ev = await store.listEvents({ jobId: b!.id, kind: 'job.claimed' });
        expect(ev.map((e) => e.detail)).toEqual([
          { owner: 'A', state: 'pending' },
          { owner: 'B', state: 'pending', reclaimedFrom: 'A' },
        ]);
        // a released job is runnable at once, without an attempt
        expect(unwrap(await store.releaseJob(a!.id, 'A'))).toMatchObject({ leaseOwner: null, attempts: 0 });
        expect((await store.claimJobs('C', 5, 1_000)).map((j) => j.id)).toEqual([a!.id]);
      });

      it('list live lease owners; expireLeases ends theirs now, claimable at once counting an attempt', async () => {
        const [j1, j2, j3] = await seed(store, 3);
        await store.claimJobs('dead@h:1:aa', 2, 60_000);
        await store.claimJobs('live@h:2:bb', 1, 60_000);
        expect(await store.listLeaseOwners()).toEqual([
          { owner: 'dead@h:1:aa', jobs: 2 },
          { owner: 'live@h:2:bb', jobs: 1 },
        ]);
        expect(await store.claimJobs('next', 5, 60_000)).toEqual([]);
        expect(await store.expireLeases([], 'nothing')).toBe(0);
        expect(await store.expireLeases(['dead@h:1:aa', 'unknown'], 'owner process gone')).toBe(2);
        expect(await store.expireLeases(['dead@h:1:aa'], 'again')).toBe(0); // already ended
        expect(await store.listLeaseOwners()).toEqual([{ owner: 'live@h:2:bb', jobs: 1 }]);
        const ev = await store.listEvents({ kind: 'job.lease-expired' });
        expect(ev).toHaveLength(2);
        expect(ev[0]!.detail).toMatchObject({ owner: 'dead@h:1:aa', reason: 'owner process gone' });
        // No clock moved: the ended leases are claimable now, as after any expiry (an attempt, reclaimedFrom).
        const taken = await store.claimJobs('next', 5, 60_000);
        expect(taken.map((j) => j.id).sort()).toEqual(
          [j1!.id, j2!.id, j3!.id].filter((id) => ev.some((e) => e.jobId === id)).sort(),
        );
        for (const j of taken)
          expect(j).toMatchObject({ leaseOwner: 'next', attempts: 1, lastErrorCode: LEASE_EXPIRED });
        const claimed = await store.listEvents({ kind: 'job.claimed' });
        expect(
          claimed.filter((e) => (e.detail as { reclaimedFrom?: string }).reclaimedFrom === 'dead@h:1:aa'),
        ).toHaveLength(2);
        // The dead owner cannot act on them any more.
        expect((await store.advanceJob(taken[0]!.id, 'dead@h:1:aa', 'retrieving')).ok).toBe(false);
      });

      it('send a job whose leases keep expiring to the dead letter', async () => {
        const f = await fixture({ maxAttempts: 2 });
        const [job] = await seed(f.store, 1);
        await f.store.claimJobs('A', 1, 1_000);
        f.clock.advance(1_000);
        expect((await f.store.claimJobs('B', 1, 1_000))[0]).toMatchObject({ id: job!.id, attempts: 1 });
        f.clock.advance(1_000);
        expect(await f.store.claimJobs('C', 1, 1_000)).toEqual([]);
        expect((await f.store.getJob(job!.id))!).toMatchObject({
          state: 'dead',
          attempts: 2,
          lastErrorCode: LEASE_EXPIRED,
          leaseOwner: null,
        });
      });
    });

    describe('retry and dead letter', () => {
      it('back off exponentially up to the cap, resume in the state reached, then dead-letter', async () => {
        const [job] = await seed(store, 1);
        const id = job!.id;
        await store.claimJobs('w', 1, 60_000);
        unwrap(await store.advanceJob(id, 'w', 'storing'));
        const delays: number[] = [];
        for (let attempt = 1; attempt <= 4; attempt++) {
          const f = unwrap(
            await store.failJob(
              id,
              'w',
              0xa700,
              `C-STORE of 1.2.3.${attempt} refused: out of resources`,
              true,
            ),
          );
          expect(f.outcome).toBe('retry');
          expect(f.job).toMatchObject({
            state: 'storing',
            attempts: attempt,
            leaseOwner: null,
            lastErrorCode: '0xA700',
          });
          const delay = f.nextRunAt! - clock.now();
          delays.push(delay);
          clock.advance(delay - 1);
          expect(await store.claimJobs('w', 1, 60_000)).toEqual([]);
          clock.advance(1);
          const [again] = await store.claimJobs('w', 1, 60_000);
          expect(again).toMatchObject({ id, state: 'storing', attempts: attempt });
        }
        expect(delays).toEqual([1_000, 2_000, 4_000, 5_000]);
        const last = unwrap(await store.failJob(id, 'w', 'TIMEOUT', 'no answer', true));
        expect(last).toMatchObject({
          outcome: 'dead',
          nextRunAt: null,
          job: { state: 'dead', attempts: 5, lastErrorCode: 'TIMEOUT' },
        });
        clock.advance(3_600_000);
        expect(await store.claimJobs('w', 1, 60_000)).toEqual([]);
        const outcomes = (await store.listEvents({ jobId: id, kind: 'job.failed' })).map(
          (e) => (e.detail as { outcome: string }).outcome,
        );
        expect(outcomes).toEqual(['retry', 'retry', 'retry', 'retry', 'dead']);
      });

      it('fail a non-retryable job at once, honour an explicit delay, and requeue on request', async () => {
        const [j1, j2] = await seed(store, 2);
        await store.claimJobs('w', 2, 60_000);
        expect(
          unwrap(await store.failJob(j1!.id, 'w', 0xa801, 'move destination unknown', false)),
        ).toMatchObject({
          outcome: 'failed',
          job: { state: 'failed', attempts: 1, lastErrorCode: '0xA801' },
        });
        expect(
          unwrap(await store.failJob(j2!.id, 'w', 'BUSY', 'peer busy', true, { delayMs: 42 })).nextRunAt,
        ).toBe(clock.now() + 42);
        clock.advance(42);
        expect((await store.claimJobs('w', 5, 60_000)).map((j) => j.id)).toEqual([j2!.id]);
        expect(await store.requeueJobs({ states: ['dead'] })).toBe(0);
        expect(await store.requeueJobs()).toBe(1);
        expect((await store.getJob(j1!.id))!).toMatchObject({
          state: 'pending',
          attempts: 0,
          lastErrorCode: null,
        });
        expect((await store.listEvents({ jobId: j1!.id, kind: 'job.requeued' }))[0]!.detail).toMatchObject({
          from: 'failed',
          lastErrorCode: '0xA801',
        });
      });
    });

    describe('priority', () => {
      it('claims by priority, then newest study date (empty dates last), and honours on-demand bumps', async () => {
        const run = await store.startInventoryRun();
        await store.upsertStudies(run, [
          study(1, { studyDate: '20200101', patientId: 'PA' }),
          study(2, { studyDate: '20230101', patientId: 'PB' }),
          study(3, { studyDate: '', patientId: 'PB' }),
          study(4, { studyDate: '20210101', patientId: 'PC' }),
          study(5, { studyDate: '20190101', patientId: 'PD' }),
        ]);
        await store.enqueueJobs([
          '1.2.826.0.1.1',
          '1.2.826.0.1.2',
          '1.2.826.0.1.3',
          { studyUid: '1.2.826.0.1.4', priority: 10 },
          '1.2.826.0.1.5',
        ]);
        expect((await store.listJobs()).map((j) => j.studyUid.slice(-1))).toEqual(['4', '2', '1', '5', '3']);
        expect(await store.prioritize({ patientId: 'PA' })).toBe(1);
        expect(await store.prioritize({ studyUids: ['1.2.826.0.1.3'] }, 5)).toBe(1);
        expect(await store.prioritize({ patientId: 'nobody' })).toBe(0);
        const order: string[] = [];
        for (;;) {
          const [j] = await store.claimJobs('w', 1, 60_000);
          if (!j) break;
          order.push(j.studyUid.slice(-1));
        }
        expect(order).toEqual(['3', '1', '4', '2', '5']);
        const ev = await store.listEvents({ kind: 'job.prioritized' });
        expect(ev.map((e) => e.detail)).toEqual([
          { level: 1, by: 'patient' },
          { level: 5, by: 'study' },
        ]);
        expect(JSON.stringify(ev)).not.toContain('PA');
      });

      it('pauses and resumes claiming', async () => {
        await seed(store, 2);
        await store.pause('night window closed');
        expect(await store.isPaused()).toEqual({
          paused: true,
          reason: 'night window closed',
          since: clock.now(),
        });
        expect(await store.claimJobs('w', 5, 1_000)).toEqual([]);
        await store.resume();
        expect((await store.isPaused()).paused).toBe(false);
        expect(await store.claimJobs('w', 5, 1_000)).toHaveLength(2);
        expect((await store.listEvents()).map((e) => e.kind).filter((k) => k.startsWith('control.'))).toEqual(
          ['control.paused', 'control.resumed'],
        );
      });
    });

    describe('instances', () => {
      const S = '1.2.826.0.1.1';
      const inst = (n: number) => ({ sopInstanceUid: `1.4.${n}`, seriesUid: '1.3.1', studyUid: S });

      it('record received, stored (once), quarantined, failed and verified instances', async () => {
        const [job] = await seed(store, 1, () => ({ numInstances: 4 }));
        const run = await store.startInventoryRun();
        await store.upsertInstances(
          run,
          [inst(1), inst(2), inst(3)].map((i) => ({ ...i, sizeBytes: 100 })),
        );
        const rc = { jobId: job!.id };
        const received = await store.recordInstancesReceived(
          [
            {
              ...inst(1),
              sizeBytes: 100,
              datasetSha256: 'a1',
              pixelDigest: 'p1',
              header: { PatientID: 'P1' },
              spoolPath: '/spool/1',
            },
            { ...inst(2), sizeBytes: 100, datasetSha256: 'a2', pixelDigest: 'p2' },
            { ...inst(4), sizeBytes: 100, datasetSha256: 'a4' },
          ],
          rc,
        );
        expect(received.map((r) => r.outcome)).toEqual(['received', 'received', 'unlisted']);
        const again = await store.recordInstancesReceived(
          [
            { ...inst(1), datasetSha256: 'a1', spoolPath: '/spool/1b' },
            { ...inst(2), datasetSha256: 'XX', pixelDigest: 'p2' },
            { ...inst(4), studyUid: '1.2.826.0.1.99' },
          ],
          rc,
        );
        expect(again.map((r) => r.outcome)).toEqual(['again', 'conflict', 'conflict']);
        expect((await store.getInstance('1.4.2'))!.datasetSha256).toBe('a2'); // first copy kept
        expect((await store.getInstance('1.4.1'))!).toMatchObject({
          spoolPath: '/spool/1b',
          header: { PatientID: 'P1' },
        });
        expect(
          (await store.listEvents({ kind: 'instance.uid-conflict' })).map((e) => e.sopInstanceUid),
        ).toEqual(['1.4.2', '1.4.4']);
        expect((await store.listInstances(S, 'unreceived')).map((i) => i.sopInstanceUid)).toEqual(['1.4.3']);

        const st = await store.recordInstancesStored(
          [
            { sopInstanceUid: '1.4.1', status: 0x0000, outcome: 'stored' },
            { sopInstanceUid: '1.4.2', status: 0xb000, outcome: 'stored', cause: 'coerced (0010,0010)' },
            {
              sopInstanceUid: '1.4.4',
              status: 0xa770,
              outcome: 'quarantined',
              category: 'data-conflict',
              cause: 'PatientID conflict',
              path: '/q/4',
            },
          ],
          rc,
        );
        expect(st).toEqual({ stored: 2, alreadyStored: [], failed: 0, quarantined: 1 });
        const st2 = await store.recordInstancesStored(
          [
            { sopInstanceUid: '1.4.1', status: 0, outcome: 'stored' },
            { sopInstanceUid: '1.4.3', status: 0xa700, outcome: 'failed', category: 'out-of-resources' },
          ],
          rc,
        );
        expect(st2).toEqual({ stored: 0, alreadyStored: ['1.4.1'], failed: 1, quarantined: 0 });
        expect((await store.listInstances(S, 'unstored')).map((i) => i.sopInstanceUid)).toEqual([
          '1.4.3',
          '1.4.4',
        ]);
        expect((await store.getInstance('1.4.2'))!).toMatchObject({
          storeStatus: 0xb000,
          storedAt: clock.now(),
        });
        expect(await store.listQuarantine()).toEqual([
          {
            sopInstanceUid: '1.4.4',
            studyUid: S,
            seriesUid: '1.3.1',
            status: 0xa770,
            category: 'data-conflict',
            cause: 'PatientID conflict',
            path: '/q/4',
            quarantinedAt: clock.now(),
          },
        ]);
        expect((await store.listEvents({ kind: 'instance.store-warning' }))[0]).toMatchObject({
          sopInstanceUid: '1.4.2',
          detail: { status: 0xb000 },
        });

        await expect(
          store.recordInstancesStored([
            { sopInstanceUid: '1.4.3', status: 0, outcome: 'stored' },
            { sopInstanceUid: '9.9', status: 0, outcome: 'stored' },
          ]),
        ).rejects.toThrow(/unknown instance/);
        expect((await store.getInstance('1.4.3'))!.storedAt).toBeNull(); // the batch rolled back as a whole

        const v = await store.recordInstancesVerified(
          [
            { sopInstanceUid: '1.4.1', outcome: 'verified' },
            {
              sopInstanceUid: '1.4.2',
              outcome: 'attribute-mismatch',
              detail: { PatientName: { expected: 'x', found: 'y' } },
            },
          ],
          rc,
        );
        expect(v).toEqual({ verified: 1, problems: 1 });
        expect((await store.listInstances(S, 'unverified')).map((i) => i.sopInstanceUid)).toEqual(['1.4.2']);
        const outcomes = await store.listInstanceOutcomes(S);
        expect(outcomes.map((o) => [o.sopInstanceUid, o.phase, o.category, o.status])).toEqual([
          ['1.4.2', 'retrieve', 'uid-conflict', null],
          ['1.4.4', 'store', 'data-conflict', 0xa770],
          ['1.4.3', 'store', 'out-of-resources', 0xa700],
          ['1.4.2', 'verify', 'attribute-mismatch', null],
        ]);
        expect(outcomes.every((o) => o.jobId === job!.id)).toBe(true);
        await store.recordInstanceFailures([
          {
            sopInstanceUid: '1.4.3',
            studyUid: S,
            phase: 'retrieve',
            category: 'not-received',
            cause: 'C-MOVE success without sub-operation',
          },
        ]);
        expect((await store.listInstanceOutcomes(S)).at(-1)).toMatchObject({
          category: 'not-received',
          jobId: null,
        });

        const [row] = await store.ledger();
        expect(row).toMatchObject({
          instancesReported: 4,
          instancesReceived: 3,
          instancesStored: 2,
          instancesVerified: 1,
          instancesWithProblems: 1,
          instancesQuarantined: 1,
        });
      });

      it('measure throughput over a window and estimate the time left', async () => {
        const [job] = await seed(store, 1, () => ({ numInstances: 100 }));
        const run = await store.startInventoryRun();
        await store.upsertInstances(
          run,
          Array.from({ length: 100 }, (_, n) => ({ ...inst(n), sizeBytes: 1_000_000 })),
        );
        await store.recordInstancesReceived(
          Array.from({ length: 100 }, (_, n) => ({ ...inst(n), sizeBytes: 1_000_000 })),
        );
        expect((await store.throughput(60_000)).etaMs).toBeNull();
        // 10 instances every 10 s for a minute
        for (let b = 0; b < 6; b++) {
          clock.advance(10_000);
          await store.recordInstancesStored(
            Array.from({ length: 10 }, (_, k) => ({
              sopInstanceUid: `1.4.${b * 10 + k}`,
              status: 0,
              outcome: 'stored' as const,
            })),
            { jobId: job!.id },
          );
        }
        const t = await store.throughput(60_000);
        expect(t).toMatchObject({
          phase: 'store',
          instances: 60,
          bytes: 60_000_000,
          remainingInstances: 40,
          remainingBytes: 40_000_000,
        });
        expect(t.instancesPerSec).toBeCloseTo(60 / 50, 6); // the migration is 50 s old: first sample at +10 s
        expect(t.mbPerSec).toBeCloseTo(60 / 50, 6);
        expect(t.etaMs).toBe(Math.round((40 / (60 / 50)) * 1000));
        clock.advance(30_000);
        const later = await store.throughput(60_000);
        expect(later.instances).toBe(30);
        expect(later.instancesPerSec).toBeCloseTo(0.5, 6);
        clock.advance(60_000);
        expect(await store.throughput(60_000)).toMatchObject({
          instances: 0,
          etaMs: null,
          remainingInstances: 40,
        });
        expect((await store.throughput(600_000, 'retrieve')).instances).toBe(100);
      });
    });

    describe('which run is the inventory', () => {
      it('the newest finished unstopped run, complete or with its uncovered parts as exceptions; a stopped run proves nothing', async () => {
        expect(await store.inventoryStanding()).toEqual({ runId: null, complete: false });
        const stopped = await store.startInventoryRun();
        expect(await store.finishInventoryRun(stopped, { stopped: true })).toMatchObject({ complete: false });
        expect((await store.getInventoryRun(stopped))?.stopped).toBe(true);
        expect(await store.inventoryStanding()).toEqual({ runId: null, complete: false });
        expect((await store.isDone()).blockers).toContainEqual({ code: 'no-complete-inventory', count: 0 });

        // Finished, not stopped, one capped part left uncovered (an uncovered leaf).
        const run = await store.startInventoryRun();
        const root = await store.recordQuery({
          runId: run,
          level: 'STUDY',
          params: {},
          complete: false,
          status: 0xfe00,
          resultCount: 5,
        });
        const part = await store.recordQuery({
          runId: run,
          parentId: root,
          level: 'STUDY',
          params: { ModalitiesInStudy: 'CR' },
          complete: false,
          status: 0xfe00,
          resultCount: 5,
          error: 'capped: final status 0xFE00 after 5 matches',
        });
        const fin = await store.finishInventoryRun(run);
        expect(fin).toEqual({ complete: false, uncovered: [root], uncoveredLeaves: [part] });
        // Not the inventory until its uncovered parts are recorded as exceptions.
        expect(await store.inventoryStanding()).toEqual({ runId: null, complete: false });
        await store.recordExceptions(run, [
          { kind: 'inventory-part-uncovered', subject: 'STUDY CR', code: 'capped', cause: 'capped' },
        ]);
        expect(await store.inventoryStanding()).toEqual({ runId: run, complete: false });
        const done = await store.isDone();
        expect(done.blockers.map((b) => b.code)).toEqual(['open-exceptions']);

        const later = await store.startInventoryRun();
        await store.finishInventoryRun(later);
        expect(await store.inventoryStanding()).toEqual({ runId: later, complete: true });
        expect(await store.resolveExceptions(later, ['inventory-part-uncovered'])).toBe(1);
        expect((await store.isDone()).blockers).toEqual([]);
      });

      it('a run with a part that failed (the source did not answer) is not the inventory: running it again can list more', async () => {
        const run = await store.startInventoryRun();
        const root = await store.recordQuery({
          runId: run,
          level: 'STUDY',
          params: {},
          complete: false,
          resultCount: 0,
        });
        const failed = await store.recordQuery({
          runId: run,
          parentId: root,
          level: 'STUDY',
          params: { StudyDate: '20200101-20201231' },
          complete: false,
          resultCount: 0,
          error: 'association failed: connection refused',
        });
        expect(await store.finishInventoryRun(run)).toMatchObject({
          complete: false,
          uncoveredLeaves: [failed],
        });
        await store.recordExceptions(run, [
          {
            kind: 'inventory-part-uncovered',
            subject: 'STUDY 2020',
            code: 'failed',
            cause: 'connection refused',
          },
        ]);
        expect(await store.inventoryStanding()).toEqual({ runId: null, complete: false });
        expect((await store.isDone()).blockers.map((b) => b.code)).toContain('no-complete-inventory');
      });
    });

    describe('named locks (one inventory at a time)', () => {
      it('one owner at a time; extended by its owner; free after release or expiry; a dead local holder is taken over', async () => {
        const a = `inventory@${hostname()}:${process.pid}:aaaa0001`;
        const b = `inventory@${hostname()}:${process.pid}:bbbb0002`;
        expect((await store.acquireLock('inventory', a, 60_000)).ok).toBe(true);
        const held = await store.acquireLock('inventory', b, 60_000);
        expect(held).toEqual({
          ok: false,
          error: { name: 'inventory', holder: a, expiresAt: clock.now() + 60_000 },
        });
        expect((await store.acquireLock('other', b, 60_000)).ok).toBe(true); // locks are by name
        expect((await store.acquireLock('inventory', a, 60_000)).ok).toBe(true); // re-entrant for its owner
        clock.advance(50_000);
        expect(await store.extendLock('inventory', a, 60_000)).toBe(true);
        expect(await store.extendLock('inventory', b, 60_000)).toBe(false);
        clock.advance(50_000); // a's extended lease still runs
        expect((await store.acquireLock('inventory', b, 60_000)).ok).toBe(false);
        clock.advance(10_001); // expired: b takes it, a can no longer extend it
        expect((await store.acquireLock('inventory', b, 60_000)).ok).toBe(true);
        expect(await store.extendLock('inventory', a, 60_000)).toBe(false);
        await store.releaseLock('inventory', a); // not a's: nothing happens
        expect((await store.acquireLock('inventory', a, 60_000)).ok).toBe(false);
        await store.releaseLock('inventory', b);
        expect((await store.acquireLock('inventory', a, 60_000)).ok).toBe(true);
        // Held by a process of this host that has exited: taken over at once, lease or not.
        const gone = spawnSync(process.execPath, ['-e', '0']).pid;
        const dead = `inventory@${hostname()}:${gone}:dddd0004`;
        await store.releaseLock('inventory', a);
        expect((await store.acquireLock('inventory', dead, 60_000)).ok).toBe(true);
        expect((await store.acquireLock('inventory', b, 60_000)).ok).toBe(true);
        // One on another host is not (its process cannot be looked at from here).
        const remote = `inventory@elsewhere.invalid:${gone}:eeee0005`;
        expect((await store.acquireLock('remote', remote, 60_000)).ok).toBe(true);
        expect((await store.acquireLock('remote', b, 60_000)).ok).toBe(false);
      });
    });

    describe('ledger and definition of done', () => {
      it('keeps an open exception (unreadable file) from DONE; a run that no longer sees it resolves it', async () => {
        const run = await store.startInventoryRun();
        await store.finishInventoryRun(run);
        expect(await store.isDone()).toMatchObject({ done: true, blockers: [] });
        const file = (subject: string, code = 'truncated') => ({
          kind: 'unreadable-source-file' as const,
          subject,
          code,
          cause: `${subject}: element header cut by the end of the file`,
        });
        const ids = await store.recordExceptions(run, [file('a/x.dcm'), file('b.dcm')]);
        expect(ids).toHaveLength(2);
        const done = await store.isDone();
        expect(done).toMatchObject({
          done: false,
          clean: false,
          exceptions: { open: 2, accepted: 0, resolved: 0 },
        });
        expect(done.blockers).toEqual([{ code: 'open-exceptions', count: 2 }]);
        expect(done.reasons[0]).toMatch(/^2 open exceptions \(2 unreadable-source-file\)/);
        const [a] = await store.listExceptions({ status: 'open' });
        expect(a).toMatchObject({
          id: ids[0],
          kind: 'unreadable-source-file',
          subject: 'a/x.dcm',
          code: 'truncated',
          status: 'open',
          firstSeenAt: clock.now(),
          firstRunId: run,
          lastRunId: run,
          acceptedBy: null,
        });

        // The next run sees a/x.dcm again (same row, same id) but not b.dcm: b.dcm is resolved.
        clock.advance(1000);
        const run2 = await store.startInventoryRun();
        expect(await store.recordExceptions(run2, [file('a/x.dcm', 'no-meta')])).toEqual([ids[0]]);
        expect(await store.resolveExceptions(run2, ['unreadable-source-file'])).toBe(1);
        const all = await store.listExceptions();
        expect(all.map((e) => [e.subject, e.status, e.code, e.lastRunId])).toEqual([
          ['a/x.dcm', 'open', 'no-meta', run2],
          ['b.dcm', 'resolved', 'truncated', run],
        ]);
        expect(all[0]!.firstSeenAt).toBe(a!.firstSeenAt);
        expect(all[0]!.lastSeenAt).toBe(clock.now());
        // Seen again later: open again.
        await store.recordExceptions(run2, [file('b.dcm')]);
        expect((await store.isDone()).exceptions).toEqual({ open: 2, accepted: 0, resolved: 0 });
      });

      it('lists inventoried studies a page at a time', async () => {
        await seed(store, 3);
        const first = await store.pageStudies({ limit: 2 });
        expect(first.map((s) => s.studyUid)).toEqual(['1.2.826.0.1.1', '1.2.826.0.1.2']);
        const rest = await store.pageStudies({ after: first.at(-1)!.studyUid });
        expect(rest.map((s) => s.studyUid)).toEqual(['1.2.826.0.1.3']);
      });

      it('gives one row per study with its status, rule, code and cause; done once every study is accounted for', async () => {
        const run = await store.startInventoryRun();
        const studies = [1, 2, 3, 4, 5, 6].map((i) => study(i));
        await store.upsertStudies(run, studies);
        await store.recordQuery({
          runId: run,
          level: 'STUDY',
          params: {},
          complete: true,
          status: 0,
          resultCount: 6,
        });
        expect((await store.isDone()).reasons).toContain('no inventory run has finished complete');
        await store.finishInventoryRun(run);
        expect((await store.isDone()).reasons).toEqual(['6 studies have no scope decision']);

        await store.setScopeDecisions([
          { studyUid: '1.2.826.0.1.1', inScope: false, ruleId: 'R1', ruleDescription: 'before 2010' },
          ...[2, 3, 4, 5, 6].map((i) => ({ studyUid: `1.2.826.0.1.${i}`, inScope: true, ruleId: 'ALL' })),
        ]);
        await store.enqueueJobs(
          [1, 2, 3, 4, 5, 6].map((i) => `1.2.826.0.1.${i}`),
          { maxAttempts: 1 },
        );
        const jobs = await store.claimJobs('w', 10, 60_000);
        const jobOf = (i: number) => jobs.find((j) => j.studyUid === `1.2.826.0.1.${i}`)!.id;
        unwrap(await store.advanceJob(jobOf(2), 'w', 'verified'));
        unwrap(await store.failJob(jobOf(3), 'w', 0xa770, 'target refused 1.4.9: PatientID conflict', true));
        unwrap(await store.advanceJob(jobOf(4), 'w', 'stored'));
        unwrap(await store.advanceJob(jobOf(5), 'w', 'retrieving'));
        unwrap(await store.releaseJob(jobOf(6), 'w'));

        const rows = await store.ledger();
        expect(rows.map((r) => [r.studyUid.slice(-1), r.status, r.ruleId, r.jobState, r.errorCode])).toEqual([
          ['1', 'excluded', 'R1', 'excluded', null],
          ['2', 'verified', 'ALL', 'verified', null],
          ['3', 'failed', 'ALL', 'dead', '0xA770'],
          ['4', 'migrated-not-verified', 'ALL', 'stored', null],
          ['5', 'pending', 'ALL', 'retrieving', null],
          ['6', 'pending', 'ALL', 'pending', null],
        ]);
        expect(rows[2]!.error).toBe('target refused 1.4.9: PatientID conflict');
        expect(rows[0]!.ruleDescription).toBe('before 2010');
        expect((await store.ledger({ after: '1.2.826.0.1.3', limit: 2 })).map((r) => r.studyUid)).toEqual([
          '1.2.826.0.1.4',
          '1.2.826.0.1.5',
        ]);
        expect((await store.ledger({ status: 'pending' })).map((r) => r.studyUid)).toEqual([
          '1.2.826.0.1.5',
          '1.2.826.0.1.6',
        ]);
        const notYet = await store.isDone();
        expect(notYet).toMatchObject({
          done: false,
          clean: false,
          summary: { excluded: 1, verified: 1, failed: 1, 'migrated-not-verified': 1, pending: 2, total: 6 },
        });
        expect(notYet.reasons).toEqual([
          '2 studies are still to migrate',
          '1 studies are stored but not verified',
        ]);

        // study 6 vanishes from the source before it moved: failed with VANISHED; the rest finish
        clock.advance(1_000);
        const run2 = await store.startInventoryRun();
        await store.upsertStudies(
          run2,
          studies.filter((s) => s.studyUid !== '1.2.826.0.1.6'),
        );
        await store.markVanished(run2);
        unwrap(await store.advanceJob(jobOf(4), 'w', 'verified'));
        unwrap(await store.advanceJob(jobOf(5), 'w', 'verified'));
        await store.claimJobs('w', 10, 60_000); // study 6's job is claimable, but the ledger already says why it cannot finish
        const six = (await store.ledger({ after: '1.2.826.0.1.5' }))[0]!;
        expect(six).toMatchObject({ status: 'failed', errorCode: VANISHED, vanished: true });
        const done = await store.isDone();
        expect(done).toMatchObject({ done: true, clean: false, reasons: [] });
        expect(done.summary).toMatchObject({ excluded: 1, verified: 3, failed: 2, pending: 0 });

        await store.requeueJobs({ studyUids: ['1.2.826.0.1.3'] });
        expect((await store.isDone()).done).toBe(false);
      });

      it('a study whose job is verified but whose target refused instances is failed, with the refusal as its code', async () => {
        const [job] = await seed(store, 1, () => ({ numInstances: 2 }));
        const run = await store.startInventoryRun();
        const S = job!.studyUid;
        await store.upsertInstances(
          run,
          [1, 2].map((n) => ({ sopInstanceUid: `1.4.${n}`, seriesUid: '1.3.1', studyUid: S })),
        );
        await store.recordInstancesReceived(
          [1, 2].map((n) => ({ sopInstanceUid: `1.4.${n}`, seriesUid: '1.3.1', studyUid: S })),
        );
        await store.recordInstancesStored([
          { sopInstanceUid: '1.4.1', status: 0, outcome: 'stored' },
          {
            sopInstanceUid: '1.4.2',
            status: 0x0122,
            outcome: 'quarantined',
            category: 'sop-class-not-supported',
            cause: 'SOP class not supported',
            path: '/q/2',
          },
        ]);
        const [claimed] = await store.claimJobs('w', 1, 60_000);
        unwrap(await store.advanceJob(claimed!.id, 'w', 'verified'));
        const [row] = await store.ledger();
        expect(row).toMatchObject({
          status: 'failed',
          jobState: 'verified',
          errorCode: '0x0122',
          instancesQuarantined: 1,
        });
        expect(row!.error).toMatch(/1 instance\(s\) refused by the target .*SOP class not supported/);
        expect(await store.isDone()).toMatchObject({
          done: true,
          clean: false,
          summary: { failed: 1, verified: 0 },
        });
      });
    });
  });
}
