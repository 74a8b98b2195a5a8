/**
 * The correction checks on hand-made evidence: instances judged by their header or, without one, by
 * their study's inventoried values (weighted by the instances not read); load errors and duplicate
 * rows as findings; patient values in details only with logPhi; rules counted in the summary.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { CorrectionsEvidence } from '../../../src/analyse/checks/corrections.js';
import type { CheckContext } from '../../../src/analyse/checks/index.js';
import type { AnalysisHeader, Instance, Json, Study } from '../../../src/state/index.js';
import { loadTransformer, type PlanTransformer } from '../../../src/transform/index.js';
import { makeTempDir, removeTempDir } from '../../harness/tmp.js';
import { put, transformOf } from '../transform/helpers.js';

const dir = makeTempDir('corr-checks');
afterAll(() => removeTempDir(dir));

const seen = {
  firstSeenAt: 1,
  lastSeenAt: 1,
  firstRunId: 1,
  lastRunId: 1,
  vanishedAt: null,
  changedAt: null,
};
const study = (uid: string, p: Partial<Study> = {}): Study => ({
  studyUid: uid,
  patientId: 'P1',
  patientName: 'DOE^JOHN',
  patientBirthDate: '19600101',
  patientSex: 'M',
  accessionNumber: 'A1',
  studyDate: '20200101',
  studyTime: null,
  studyDescription: null,
  modalitiesInStudy: 'CT',
  institutionName: null,
  referringPhysician: null,
  numSeries: 1,
  numInstances: 1,
  attrs: {},
  ...seen,
  ...p,
});
const instance = (uid: string, studyUid: string): Instance =>
  ({
    sopInstanceUid: uid,
    seriesUid: `${studyUid}.1`,
    studyUid,
    ...seen,
    receivedAt: null,
    header: null,
  }) as Instance;
let id = 0;
const copy = (sop: string, studyUid: string, header: { [k: string]: Json }): AnalysisHeader => ({
  id: ++id,
  sopInstanceUid: sop,
  contentDigest: `d${id}`,
  studyUid,
  seriesUid: `${studyUid}.1`,
  origin: 'sample',
  datasetSha256: null,
  transferSyntaxUid: null,
  header,
  problems: null,
  firstSeenAt: 1,
  lastSeenAt: 1,
  timesSeen: 1,
});
const ctx = (logPhi = false): CheckContext => ({
  secret: 's',
  today: '20260101',
  oldest: '19700101',
  logPhi,
});

async function transformer(csv: string, rules = ''): Promise<PlanTransformer> {
  const name = put(dir, `c${++id}.csv`, csv);
  const r = await loadTransformer(
    transformOf(
      `  corrections:\n    - { id: mpi, csv: ${name}, match: { PatientID: old }, set: { PatientID: new, PatientName: name } }\n${rules}`,
      dir,
    ),
  );
  if (!r.ok) throw new Error(r.error.map((e) => e.message).join('\n'));
  return r.value;
}

/** Study 1.1: 3 instances inventoried as P1; one read, which holds P2 (a second patient). Study 1.2: P2, not read. */
function evidence(t: PlanTransformer): CorrectionsEvidence {
  const ev = new CorrectionsEvidence(t);
  ev.addStudy(study('1.1'));
  ev.addStudy(study('1.2', { patientId: 'P2', patientName: 'ROE^JANE', patientBirthDate: '19700202' }));
  for (const s of ['1.1.1', '1.1.2', '1.1.3']) ev.addInstance(instance(s, '1.1'));
  ev.addInstance(instance('1.2.1', '1.2'));
  ev.addCopy(
    copy('1.1.1', '1.1', {
      PatientID: 'P2',
      PatientName: 'ROE^JANE',
      PatientBirthDate: '19700202',
      _undecodable: [],
    }),
  );
  return ev;
}

describe('CorrectionsEvidence.check', () => {
  it('judges unread instances by the inventory, weighted: a row for P1 matches 2 of the 3 instances of 1.1', async () => {
    const r = evidence(await transformer('old,new,name\nP1,P9,\n')).check(ctx());
    expect(r.findings.map((f) => [f.code, f.studyUids, f.detail])).toEqual([
      ['CORR_PARTIAL', ['1.1'], { table: 'mpi', rows: [1], instancesMatched: 2, instancesInStudy: 3 }],
    ]);
    expect(r.summary).toEqual({
      loaded: true,
      tables: [{ kind: 'correction', id: 'mpi', rows: 1, rowsUsed: 1, studies: 1, instances: 2 }],
      studies: 1,
      instances: 2,
      judgedByHeader: 1,
      judgedByInventory: 3,
    });
  });

  it('a new ID another person keeps collides (values only with logPhi); the same person does not', async () => {
    const t = await transformer('old,new,name\nP1,P2,\n');
    const plain = evidence(t).check(ctx());
    const coll = plain.findings.filter((f) => f.code === 'CORR_TARGET_COLLIDES');
    expect(coll.map((f) => [f.studyUids, f.detail])).toEqual([
      [['1.1', '1.2'], { table: 'mpi', rows: [1], studies: ['1.1'], existingStudies: ['1.1', '1.2'] }],
    ]);
    expect(JSON.stringify(plain.findings)).not.toMatch(/P1|P2|DOE|ROE|1960|1970/);
    const phi = evidence(t)
      .check(ctx(true))
      .findings.find((f) => f.code === 'CORR_TARGET_COLLIDES')!;
    expect(phi.detail).toMatchObject({ patientId: 'P2' });
    // Renaming P1 to P2 as well: both identities are one person after the change.
    const same = await transformer('old,new,name\nP1,P2,ROE^JANE\n');
    const ev = new CorrectionsEvidence(same);
    ev.addStudy(study('1.1'));
    ev.addStudy(study('1.2', { patientId: 'P2', patientName: 'ROE^JANE', patientBirthDate: '19600101' }));
    expect(ev.check(ctx()).findings.map((f) => f.code)).toEqual([]);
  });

  it('an undecodable header value falls back to the inventory value', async () => {
    const t = await transformer('old,new,name\nP1,P9,\n');
    const ev = new CorrectionsEvidence(t);
    ev.addStudy(study('1.1', { numInstances: 1 }));
    ev.addInstance(instance('1.1.1', '1.1'));
    ev.addCopy(copy('1.1.1', '1.1', { PatientID: null, PatientName: null, _undecodable: ['PatientID'] }));
    const r = ev.check(ctx());
    expect(r.findings).toEqual([]);
    expect(r.summary!.instances).toBe(1);
    expect(r.summary!.judgedByHeader).toBe(1);
  });

  it('no-op, unused and duplicate rows; rules counted apart, a change counting for the last one making it', async () => {
    const t = await transformer(
      'old,new,name\nP1,P1,DOE^JOHN\nP7,P8,\nP7,P8,\nP2,P2,\n',
      `  rules:\n    - { id: r, when: { patientId: P2 }, set: { PatientName: "X^Y" } }\n`,
    );
    const r = evidence(t).check(ctx());
    expect(r.findings.map((f) => [f.code, f.subject, f.studyUids])).toEqual([
      ['CORR_ROW_UNUSED', 'mpi: 1 row', []],
      ['CORR_NOOP', 'mpi: row 1', ['1.1']],
      ['CORR_PARTIAL', 'mpi: row 1 in 1.1', ['1.1']],
      ['CORR_NOOP', 'mpi: row 4', ['1.1', '1.2']],
      ['CORR_PARTIAL', 'mpi: row 4 in 1.1', ['1.1']],
      ['CORR_ROW_DUPLICATE', 'mpi: rows 2, 3', []],
    ]);
    expect(r.findings[0]!.detail).toEqual({ table: 'mpi', rows: [2] });
    // The rule's `when` reads the inventoried study (1.2 is P2), not the header (1.1.1 holds P2 but 1.1 is P1).
    expect(r.summary!.tables).toEqual([
      { kind: 'correction', id: 'mpi', rows: 3, rowsUsed: 2, studies: 0, instances: 0 },
      { kind: 'rule', id: 'r', studies: 1, instances: 1 },
    ]);
  });

  it('a transform that does not load: CORR_LOAD_ERROR with path, row and column; nothing else', async () => {
    const name = put(dir, 'bad.csv', 'old,new,name\nSECRET-ID,P9,\nP3,P4,19xx\n');
    const r = await loadTransformer(
      transformOf(
        `  corrections:\n    - { id: mpi, csv: ${name}, match: { PatientID: old }, set: { PatientID: new, PatientBirthDate: name } }\n`,
        dir,
      ),
    );
    expect(r.ok).toBe(false);
    if (r.ok) return;
    const ev = new CorrectionsEvidence(undefined, r.error);
    ev.addStudy(study('1.1'));
    const out = ev.check(ctx());
    expect(out.summary).toMatchObject({ loaded: false });
    expect(out.findings.map((f) => [f.code, f.subject, f.detail])).toEqual([
      [
        'CORR_LOAD_ERROR',
        'mpi: transform.corrections[0].csv row 2',
        {
          table: 'mpi',
          kind: 'csv-row',
          path: 'transform.corrections[0].csv',
          row: 2,
          column: 'name',
          message: expect.stringContaining('characters DA does not allow'),
        },
      ],
    ]);
    expect(JSON.stringify(out.findings)).not.toMatch(/SECRET|19xx|P3|P4/);
  });
});
