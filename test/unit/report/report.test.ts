/**
 * The report over a state database filled by hand through the Store API (SQLite in a temp dir): one
 * study in every ledger status, failures with DICOM and pacshift codes, a quarantined object, a capped
 * inventory query split into complete parts, a change in the source, a vanished study. Checks what each
 * format says, and that patient data appears only with privacy.logPhi.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  ACTION_TEXT,
  CODE_ACTIONS,
  collectReport,
  renderCsv,
  renderHtml,
  renderJson,
  writeReport,
} from '../../../src/report/index.js';
import type { MigrationContext } from '../../../src/run/context.js';
import type { Store, StudyInput } from '../../../src/state/index.js';
import { makeTempDir, removeTempDir } from '../../harness/tmp.js';
import { openTestMigration } from '../verify/fixtures.js';

const PHI = {
  names: ['Zyxwvut^Quentina', 'Obscurely^Named'],
  ids: ['PID-SECRET-1', 'PID-SECRET-2'],
  birth: '19230417',
  accession: 'ACC-SECRET-9',
};

const uid = (i: number) => `1.2.826.0.1.3680043.99.${i}`;
const inst = (i: number, k: number) => `${uid(i)}.1.${k}`;

function study(i: number): StudyInput {
  return {
    studyUid: uid(i),
    patientId: PHI.ids[i % 2],
    patientName: PHI.names[i % 2],
    patientBirthDate: PHI.birth,
    accessionNumber: PHI.accession,
    studyDate: '20200101',
    numInstances: 2,
  };
}

const must = <T>(r: { ok: true; value: T } | { ok: false; error: unknown }): T => {
  if (!r.ok) throw new Error(JSON.stringify(r.error));
  return r.value;
};

/** Walks a study's job to `to` with its two instances received and stored. */
async function migrate(store: Store, i: number, to: 'stored' | 'verifying'): Promise<number> {
  const [job] = await store.claimJobs('hand', 1, 60_000, { states: ['pending'] });
  if (!job || job.studyUid !== uid(i))
    throw new Error(`expected the job of study ${i}, got ${job?.studyUid}`);
  for (const s of ['retrieving', 'retrieved', 'storing'] as const)
    must(await store.advanceJob(job.id, 'hand', s));
  await store.recordInstancesReceived(
    [1, 2].map((k) => ({
      sopInstanceUid: inst(i, k),
      seriesUid: `${uid(i)}.1`,
      studyUid: uid(i),
      sizeBytes: 1000,
      header: { PatientID: PHI.ids[i % 2]! },
    })),
    { jobId: job.id },
  );
  await store.recordInstancesStored(
    [1, 2].map((k) => ({ sopInstanceUid: inst(i, k), status: 0, outcome: 'stored' as const })),
    { jobId: job.id },
  );
  must(await store.advanceJob(job.id, 'hand', 'stored'));
  if (to === 'verifying') must(await store.advanceJob(job.id, 'hand', 'verifying'));
  return job.id;
}

describe('report', () => {
  let tmp: string;
  let ctx: MigrationContext;

  beforeEach(async () => {
    tmp = makeTempDir('report');
    mkdirSync(join(tmp, 'target'));
    ctx = await openTestMigration(
      tmp,
      { folder: join(tmp, 'target') },
      { description: 'Test archive to the new PACS. Owner: PACS team.' },
    );
  });
  afterEach(async () => {
    await ctx.close();
    removeTempDir(tmp);
  });

  async function fill(): Promise<void> {
    const { store } = ctx;
    const run1 = await store.startInventoryRun({ from: '2000' });
    const root = await store.recordQuery({
      runId: run1,
      level: 'STUDY',
      params: { StudyDate: '2000-2024' },
      complete: false,
      status: 0xfe00,
      resultCount: 1000,
    });
    await store.recordQuery({
      runId: run1,
      parentId: root,
      level: 'STUDY',
      params: { StudyDate: '2000-2012' },
      complete: true,
      status: 0,
      resultCount: 4,
    });
    await store.recordQuery({
      runId: run1,
      parentId: root,
      level: 'STUDY',
      params: { StudyDate: '2013-2024' },
      complete: true,
      status: 0,
      resultCount: 4,
    });
    await store.upsertStudies(run1, [1, 2, 3, 4, 5, 6, 7, 8].map(study));
    expect((await store.finishInventoryRun(run1)).complete).toBe(true);
    await store.setScopeDecisions([
      ...[1, 2, 3, 4, 5, 7, 8].map((i) => ({ studyUid: uid(i), inScope: true, ruleId: 'R-ALL' })),
      { studyUid: uid(6), inScope: false, ruleId: 'R-OLD', ruleDescription: 'studies before 2005' },
    ]);
    await store.enqueueJobs([1, 2, 3, 4, 5, 7, 8].map(uid));
    // claim order is newest study first; all have one date, so by id: enqueue order
    // 1: verified
    const j1 = await migrate(store, 1, 'verifying');
    await store.recordInstancesVerified(
      [1, 2].map((k) => ({ sopInstanceUid: inst(1, k), outcome: 'verified' as const })),
      { jobId: j1 },
    );
    must(await store.advanceJob(j1, 'hand', 'verified'));
    // 2: failed, an instance quarantined with a dcm4chee data conflict
    const [j2] = await store.claimJobs('hand', 1, 60_000, { states: ['pending'] });
    for (const s of ['retrieving', 'retrieved', 'storing'] as const)
      must(await store.advanceJob(j2!.id, 'hand', s));
    await store.recordInstancesReceived(
      [{ sopInstanceUid: inst(2, 1), seriesUid: `${uid(2)}.1`, studyUid: uid(2) }],
      { jobId: j2!.id },
    );
    await store.recordInstancesStored(
      [
        {
          sopInstanceUid: inst(2, 1),
          status: 0xa770,
          outcome: 'quarantined',
          category: 'data-conflict',
          cause: 'PatientID conflict at the target',
          path: '/var/spool/q/x.dcm',
        },
      ],
      { jobId: j2!.id },
    );
    must(await store.failJob(j2!.id, 'hand', 0xa770, `C-STORE ${inst(2, 1)}: data conflict`, false));
    // 3: verification found a pixel mismatch
    const j3 = await migrate(store, 3, 'verifying');
    await store.recordInstancesVerified(
      [
        { sopInstanceUid: inst(3, 1), outcome: 'verified' },
        {
          sopInstanceUid: inst(3, 2),
          outcome: 'pixel-mismatch',
          detail: { copies: 1, pixel: { compared: true, equal: false } },
        },
      ],
      { jobId: j3 },
    );
    must(
      await store.failJob(
        j3,
        'hand',
        'VERIFY_PIXEL_MISMATCH',
        `verify study ${uid(3)}: 1 pixel-mismatch of 2 instances (${inst(3, 2)})`,
        false,
      ),
    );
    // 4: stored, not verified
    const j4 = await migrate(store, 4, 'stored');
    must(await store.releaseJob(j4, 'hand'));
    // 5: pending again after a retryable failure
    const [j5] = await store.claimJobs('hand', 1, 60_000, { states: ['pending'] });
    expect(j5!.studyUid).toBe(uid(5));
    must(
      await store.failJob(
        j5!.id,
        'hand',
        'CONNECT_FAILED',
        'C-MOVE association to OLDPACS@10.0.0.1:104: connect-failed',
        true,
      ),
    );
    // 5, 7, 8: pending. Run 2: study 8 vanished from the source, study 5's description changed.
    const run2 = await store.startInventoryRun({ from: '2000' });
    await store.recordQuery({
      runId: run2,
      level: 'STUDY',
      params: {},
      complete: true,
      status: 0,
      resultCount: 7,
    });
    await store.upsertStudies(run2, [1, 2, 3, 4, 6, 7].map(study));
    await store.upsertStudies(run2, [{ ...study(5), studyDescription: 'CT THORAX' }]);
    await store.markVanished(run2);
    await store.finishInventoryRun(run2);
  }

  it('says NOT DONE and why, groups failures by code with their action, lists quarantine, inventory and changes; no patient data', async () => {
    await fill();
    const data = await collectReport(ctx.store, {
      name: ctx.plan.name,
      description: ctx.plan.description,
      logPhi: false,
    });
    expect(data.summary).toMatchObject({
      total: 8,
      verified: 1,
      excluded: 1,
      failed: 3,
      'migrated-not-verified': 1,
      pending: 2,
    });
    expect(data.done.done).toBe(false);
    expect(data.done.reasons).toEqual([
      '2 studies are still to migrate',
      '1 studies are stored but not verified',
    ]);
    expect(data.failures.map((f) => [f.code, f.studies.map((s) => s.studyUid)])).toEqual([
      ['0xA770', [uid(2)]],
      ['VANISHED', [uid(8)]],
      ['VERIFY_PIXEL_MISMATCH', [uid(3)]],
    ]);
    expect(data.failures[0]!.action).toBe(ACTION_TEXT.quarantine);
    expect(data.failures[2]!.action).toBe(CODE_ACTIONS.VERIFY_PIXEL_MISMATCH);
    expect(data.instanceFailures).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          phase: 'store',
          category: 'data-conflict',
          status: '0xA770',
          instances: 1,
          action: ACTION_TEXT.quarantine,
        }),
        expect.objectContaining({
          phase: 'verify',
          category: 'pixel-mismatch',
          instances: 1,
          action: CODE_ACTIONS.VERIFY_PIXEL_MISMATCH,
        }),
      ]),
    );
    expect(data.quarantine).toHaveLength(1);
    expect(data.inventory).toMatchObject([
      { id: 1, complete: true, queries: 3, completeQueries: 2, splitQueries: 1, uncovered: 0 },
      { id: 2, complete: true, queries: 1, completeQueries: 1, splitQueries: 0, uncovered: 0 },
    ]);
    expect(data.changes).toHaveLength(1);
    expect(data.changes[0]!.counts).toMatchObject({ 'study vanished': 1, 'study attributes-changed': 1 });
    expect(data.changes[0]!.changes.find((c) => c.kind === 'attributes-changed')).toMatchObject({
      uid: uid(5),
      fields: ['studyDescription'],
    });
    expect(data.instances).toMatchObject({ stored: 6, verified: 3, withProblems: 1, quarantined: 1 });

    const html = renderHtml(data);
    const csv = renderCsv(data);
    const json = renderJson(data);
    for (const text of [html, csv, json]) {
      for (const secret of [...PHI.names, ...PHI.ids, PHI.birth, PHI.accession, 'Zyxwvut', 'Quentina'])
        expect(text).not.toContain(secret);
      for (const i of [1, 2, 3, 4, 5, 6, 7, 8]) expect(text).toContain(uid(i));
    }
    expect(html).toContain('NOT DONE');
    expect(html).toContain('2 studies are still to migrate');
    expect(html).toContain('0xA770');
    expect(html).toContain('data conflict (dcm4chee: rejected object, patient ID conflict, UID moved…)');
    expect(html).toContain(escapeHtml(ACTION_TEXT.quarantine));
    expect(html).toContain(escapeHtml(CODE_ACTIONS.VANISHED!));
    expect(html).toContain('/var/spool/q/x.dcm');
    expect(html).toContain('studies before 2005');
    expect(html).toContain('CONNECT_FAILED (retrying)');
    expect(data.studies.find((x) => x.studyUid === uid(5))).toMatchObject({
      status: 'pending',
      lastErrorCode: 'CONNECT_FAILED',
    });
    expect(html).toContain('Test archive to the new PACS. Owner: PACS team.');
    // self-contained: no scripts, no external resources
    expect(html).not.toMatch(/<script|<link|src=|https?:\/\//i);
    // one table row per study across the status tables
    expect(html.match(/<h2 id="status-/g)).toHaveLength(5);
    const csvLines = csv.trimEnd().split('\r\n');
    expect(csvLines).toHaveLength(9);
    expect(csvLines[0]).toMatch(/^study_uid,status,regressed,rule_id/);
    expect(csvLines[0]).not.toContain('patient');
    expect(csvLines.find((l) => l.startsWith(uid(6)))).toContain(
      ',excluded,false,R-OLD,studies before 2005,',
    );
    expect(JSON.parse(json)).toMatchObject({ reportVersion: 1, logPhi: false, done: { done: false } });
  });

  it('shows patient IDs, names, birth dates and accession numbers only with privacy.logPhi', async () => {
    await fill();
    const data = await collectReport(ctx.store, { name: 'x', logPhi: true });
    const html = renderHtml(data);
    const csv = renderCsv(data);
    for (const secret of [...PHI.names, ...PHI.ids, PHI.birth, PHI.accession]) {
      expect(html).toContain(escapeHtml(secret));
      expect(csv).toContain(secret);
    }
    expect(csv.split('\r\n')[0]).toMatch(/,patient_id,patient_name,patient_birth_date,accession_number$/);
    expect(html).toContain('privacy.logPhi is on');
  });

  it('says DONE once every study is verified or excluded, and NOT DONE again when a re-verification finds an instance missing', async () => {
    const { store } = ctx;
    const run = await store.startInventoryRun();
    await store.recordQuery({
      runId: run,
      level: 'STUDY',
      params: {},
      complete: true,
      status: 0,
      resultCount: 2,
    });
    await store.upsertStudies(run, [1, 6].map(study));
    await store.finishInventoryRun(run);
    await store.setScopeDecisions([
      { studyUid: uid(1), inScope: true, ruleId: 'R-ALL' },
      { studyUid: uid(6), inScope: false, ruleId: 'R-OLD' },
    ]);
    await store.enqueueJobs([uid(1), uid(6)]);
    const j1 = await migrate(store, 1, 'verifying');
    await store.recordInstancesVerified(
      [1, 2].map((k) => ({ sopInstanceUid: inst(1, k), outcome: 'verified' as const })),
      { jobId: j1 },
    );
    must(await store.advanceJob(j1, 'hand', 'verified'));

    const { files, data } = await writeReport(ctx);
    expect(data.done).toEqual({ done: true, clean: true, reasons: [] });
    expect(Object.keys(files).sort()).toEqual(['csv', 'html', 'json']);
    expect(files.html).toBe(join(ctx.plan.report.dir, 'report.html'));
    const html = readFileSync(files.html!, 'utf8');
    expect(html).toContain('DONE: every study is verified or excluded by a rule');
    expect(html).not.toContain('NOT DONE');
    expect(readFileSync(files.csv!, 'utf8').trimEnd().split('\r\n')).toHaveLength(3);
    expect(JSON.parse(readFileSync(files.json!, 'utf8')).summary).toMatchObject({
      verified: 1,
      excluded: 1,
      total: 2,
    });

    // the target lost an instance since: recorded by a re-verification
    await store.recordInstancesVerified(
      [{ sopInstanceUid: inst(1, 2), outcome: 'missing', detail: { copies: 0 } }],
      { jobId: j1 },
    );
    const again = await writeReport(ctx, { formats: ['html'] });
    expect(again.data.done.done).toBe(false);
    expect(again.data.done.reasons).toEqual(['1 verified studies failed a later re-verification']);
    expect(again.data.regressions).toEqual([uid(1)]);
    const html2 = readFileSync(again.files.html!, 'utf8');
    expect(html2).toContain('NOT DONE');
    expect(html2).toContain('failed a later re-verification');
  });
});

function escapeHtml(s: string): string {
  return s
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}
