/**
 * The transform's audit trail: events as the transform step appends them (auditEvent), read back
 * (readTrail, summarizeTrail), listed by `pacshift audit` (values only with --phi or privacy.logPhi;
 * filters; CSV) and summed up in the report's changes section (with the instances a change could not be
 * written into, by cause). A real SQLite state database; the trail's table refuses UPDATE and DELETE.
 */
import { spawnSync } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { collectReport, renderHtml } from '../../../src/report/index.js';
import { openMigration } from '../../../src/run/context.js';
import { TRANSFORM_FAILURE_STATUS } from '../../../src/transform/apply.js';
import { auditEvent, readTrail, summarizeTrail, type AppliedChange } from '../../../src/transform/audit.js';
import type { Store } from '../../../src/state/index.js';
import { e2eDir, writePlan } from '../../harness/migration.js';

const ROOT = resolve(import.meta.dirname, '..', '..', '..');
const STUDY_A = '1.2.3.1';
const STUDY_B = '1.2.3.2';

const pid = (before: string | null, after: string, row: number): AppliedChange => ({
  tag: 0x00100020,
  keyword: 'PatientID',
  vr: 'LO',
  before,
  after,
  inserted: before === null,
  by: { kind: 'correction', id: 'mpi-merge', row },
});
const inst: AppliedChange = {
  tag: 0x00080080,
  keyword: 'InstitutionName',
  vr: 'LO',
  before: null,
  after: 'Pacshift General',
  inserted: true,
  by: { kind: 'rule', id: 'ct-institution' },
};

function cli(args: string[]) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'src/cli/bin.ts'), ...args], {
    cwd: ROOT,
    encoding: 'utf8',
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

describe('transform audit trail', () => {
  let work: ReturnType<typeof e2eDir>;
  let planPath: string;
  let store: Store;
  let close: () => Promise<void>;

  beforeEach(async () => {
    work = e2eDir('transform-audit');
    planPath = writePlan({
      dir: work.dir,
      local: { port: 1 },
      source: { host: '127.0.0.1', port: 2, calledAe: 'OLDPACS' },
      target: { host: '127.0.0.1', port: 3, calledAe: 'NEWPACS' },
    });
    const ctx = await openMigration(planPath);
    store = ctx.store;
    close = () => ctx.close();
    await store.appendEvents([
      auditEvent(1, STUDY_A, '1.2.3.1.1', pid('DEV', 'DEV-MERGED', 1)),
      auditEvent(1, STUDY_A, '1.2.3.1.1', inst),
      auditEvent(1, STUDY_A, '1.2.3.1.2', pid('DEV', 'DEV-MERGED', 1)),
      auditEvent(2, STUDY_B, '1.2.3.2.1', pid(null, 'SMITH-7', 4)),
      { jobId: 2, studyUid: STUDY_B, kind: 'instance.store-warning', detail: { status: 0xb000 } },
    ]);
  });

  afterEach(async () => {
    await close?.();
    work?.remove();
  });

  it('reads back one entry per change, with its table or rule and row; values only when asked', async () => {
    const plain = [];
    for await (const t of readTrail(store)) plain.push(t);
    expect(plain.map((t) => [t.sopInstanceUid, t.tag, t.keyword, t.by.id, t.by.row, t.inserted])).toEqual([
      ['1.2.3.1.1', '0010,0020', 'PatientID', 'mpi-merge', 1, false],
      ['1.2.3.1.1', '0008,0080', 'InstitutionName', 'ct-institution', undefined, true],
      ['1.2.3.1.2', '0010,0020', 'PatientID', 'mpi-merge', 1, false],
      ['1.2.3.2.1', '0010,0020', 'PatientID', 'mpi-merge', 4, true],
    ]);
    expect(plain.some((t) => 'before' in t || 'after' in t)).toBe(false);
    const withValues = [];
    for await (const t of readTrail(store, { values: true, studyUid: STUDY_B })) withValues.push(t);
    expect(withValues.map((t) => [t.before, t.after])).toEqual([[null, 'SMITH-7']]);
    const byRule = [];
    for await (const t of readTrail(store, { by: 'ct-institution' })) byRule.push(t);
    expect(byRule.map((t) => t.sopInstanceUid)).toEqual(['1.2.3.1.1']);

    expect(await summarizeTrail(store)).toEqual([
      {
        kind: 'correction',
        id: 'mpi-merge',
        elements: 3,
        instances: 3,
        studies: 2,
        keywords: { PatientID: 3 },
      },
      {
        kind: 'rule',
        id: 'ct-institution',
        elements: 1,
        instances: 1,
        studies: 1,
        keywords: { InstitutionName: 1 },
      },
    ]);
  });

  it('pacshift audit: UIDs, keywords and rules by default; values with --phi; filters; CSV', async () => {
    await close();
    close = async () => undefined;
    const plain = cli(['audit', planPath]);
    expect(plain.code).toBe(0);
    expect(plain.out).toContain('1.2.3.1.1 0010,0020 PatientID [correction mpi-merge row 1]');
    expect(plain.out).toContain('4 change(s) to 3 instance(s) of 2 stud(y/ies) (values withheld');
    expect(plain.out).not.toMatch(/DEV|SMITH|Pacshift General/);

    const json = cli(['audit', planPath, '--json', '--study', STUDY_A]);
    const j = JSON.parse(json.out) as {
      changes: number;
      instances: number;
      values: boolean;
      entries: object[];
    };
    expect([j.changes, j.instances, j.values]).toEqual([3, 2, false]);
    expect(json.out).not.toContain('DEV');

    const phi = cli(['audit', planPath, '--phi', '--by', 'mpi-merge']);
    expect(phi.out).toContain(
      '1.2.3.2.1 0010,0020 PatientID [correction mpi-merge row 4] (inserted): null → "SMITH-7"',
    );
    expect(phi.out).not.toContain('InstitutionName');

    const csvPath = join(work.dir, 'trail.csv');
    const csv = cli(['audit', planPath, '--csv', csvPath]);
    expect(csv.code).toBe(0);
    const lines = (await readFile(csvPath, 'utf8')).trim().split('\r\n');
    expect(lines[0]).toBe(
      'event_id,at,job_id,study_uid,sop_instance_uid,tag,keyword,vr,by_kind,by_id,by_row,inserted',
    );
    expect(lines.length).toBe(5);
    cli(['audit', planPath, '--csv', csvPath, '--phi']);
    expect((await readFile(csvPath, 'utf8')).split('\r\n')[0]).toMatch(/,before,after$/);

    // privacy.logPhi in the plan shows values too.
    const planText = JSON.parse(await readFile(planPath, 'utf8')) as Record<string, unknown>;
    await writeFile(planPath, JSON.stringify({ ...planText, privacy: { logPhi: true } }));
    expect(cli(['audit', planPath, '--json']).out).toContain('"after":"DEV-MERGED"');
  }, 120_000);

  it('the report sums the trail per table and rule, and the refused instances by cause', async () => {
    await store.upsertStudies(await store.startInventoryRun(), [{ studyUid: STUDY_B }]);
    await store.upsertInstances(1, [
      { sopInstanceUid: '1.2.3.2.9', seriesUid: '1.2.3.2.0', studyUid: STUDY_B },
    ]);
    await store.recordInstancesStored([
      {
        sopInstanceUid: '1.2.3.2.9',
        status: TRANSFORM_FAILURE_STATUS,
        outcome: 'quarantined',
        category: 'transform-not-encodable',
        cause: 'transform (not sent): PatientName (0010,0010) (PN): … [correction mpi-merge row 4]',
        path: '/spool/quarantine/x.dcm',
      },
    ]);
    const data = await collectReport(store, { name: 'test', logPhi: false });
    expect(data.transform.applied.map((a) => [a.id, a.studies, a.instances, a.elements])).toEqual([
      ['mpi-merge', 2, 3, 3],
      ['ct-institution', 1, 1, 1],
    ]);
    expect(data.transform.failures).toEqual([
      { category: 'transform-not-encodable', by: 'correction mpi-merge row 4', instances: 1, studies: 1 },
    ]);
    const html = renderHtml(data);
    expect(html).toContain('Changes made by corrections and rules');
    expect(html).toContain('<td>ct-institution</td>');
    expect(html).toContain('transform-not-encodable');
    expect(html).not.toContain('DEV-MERGED');
  });

  it('the trail cannot be edited: the events table refuses UPDATE and DELETE', async () => {
    await close();
    close = async () => undefined;
    const Database = (await import('better-sqlite3')).default;
    const db = new Database(join(work.dir, 'state.sqlite'));
    try {
      expect(() =>
        db.prepare("UPDATE events SET detail = '{}' WHERE kind = 'transform.change'").run(),
      ).toThrow();
      expect(() => db.prepare("DELETE FROM events WHERE kind = 'transform.change'").run()).toThrow();
    } finally {
      db.close();
    }
  });
});
