/**
 * Transformer.plan(): corrections first (tables in plan order, each seeing the values as changed so
 * far), then rules in order; a later change to an element wins and keeps its source; replace sees
 * the value as changed so far; changes that leave the value as it is are omitted; rule `when` is
 * matched against the study as inventoried; globs and regexes as the plan documents them.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ScopeStudy } from '../../../src/scope/index.js';
import { loadTransformer, type PlanTransformer } from '../../../src/transform/index.js';
import { makeTempDir, removeTempDir } from '../../harness/tmp.js';
import { put, transformOf } from './helpers.js';

const dir = makeTempDir('transform-plan');
afterAll(() => removeTempDir(dir));

async function load(yaml: string): Promise<PlanTransformer> {
  const r = await loadTransformer(transformOf(yaml, dir));
  if (!r.ok) throw new Error(r.error.map((e) => e.message).join('\n'));
  return r.value;
}

const study = (over: Partial<ScopeStudy> = {}): ScopeStudy => ({ studyUid: '1.2.3', attrs: {}, ...over });
const PID = 0x00100020;
const PNAME = 0x00100010;
const INST = 0x00080080;
const ACC = 0x00080050;

describe('Transformer.plan', () => {
  let t: PlanTransformer;
  beforeAll(async () => {
    put(dir, 'merge.csv', 'old,new,name\nA,B,\nB,C,\nX,X,NEW^NAME\n');
    put(dir, 'mpi.csv', 'id,name,newname\nB,,FROM^MPI\nC,OLD^N,RIGHT^NAME\n');
    t = await load(`  corrections:
    - { id: merge, csv: merge.csv, match: { PatientID: old }, set: { PatientID: new, PatientName: name } }
    - { id: mpi, csv: mpi.csv, match: { PatientID: id, PatientName: name }, set: { PatientName: newname } }
  rules:
    - id: rename
      when: { institutionName: "St Elsewhere*" }
      set: { InstitutionName: "Elsewhere General" }
    - id: acc
      replace: { AccessionNumber: { pattern: "/^OLD-(\\\\d+)$/", with: "NEW-$1" } }
    - id: acc2
      replace: { AccessionNumber: { pattern: "NEW-1*", with: "GLOB" } }
    - id: inst-back
      when: { patientId: "Z*" }
      set: { InstitutionName: "St Elsewhere" }
`);
  });

  it('reads the keywords of every table and rule', () => {
    expect(t.readKeywords).toEqual(['PatientID', 'PatientName', 'InstitutionName', 'AccessionNumber']);
    expect(t.summary).toEqual([
      { kind: 'correction', id: 'merge', rows: 3 },
      { kind: 'correction', id: 'mpi', rows: 2 },
      { kind: 'rule', id: 'rename' },
      { kind: 'rule', id: 'acc' },
      { kind: 'rule', id: 'acc2' },
      { kind: 'rule', id: 'inst-back' },
    ]);
  });

  it('one table looks up once (A→B, not A→B→C); a later table sees the changed values', () => {
    // merge: A → B (row 1); mpi matches (B, empty name) → row 1 sets the name.
    expect(t.plan({ PatientID: 'A', PatientName: null }, undefined)).toEqual([
      { tag: PID, keyword: 'PatientID', value: 'B', by: { kind: 'correction', id: 'merge', row: 1 } },
      {
        tag: PNAME,
        keyword: 'PatientName',
        value: 'FROM^MPI',
        by: { kind: 'correction', id: 'mpi', row: 1 },
      },
    ]);
    // B → C (merge row 2), then (C, OLD^N) matches mpi row 2 (PN normalised: case, spaces, trailing ^).
    expect(t.plan({ PatientID: ' B ', PatientName: 'old ^ n^^' }, undefined)).toEqual([
      { tag: PID, keyword: 'PatientID', value: 'C', by: { kind: 'correction', id: 'merge', row: 2 } },
      {
        tag: PNAME,
        keyword: 'PatientName',
        value: 'RIGHT^NAME',
        by: { kind: 'correction', id: 'mpi', row: 2 },
      },
    ]);
  });

  it('omits changes that leave the value as it is (X → X), keeps the others of the row', () => {
    expect(t.plan({ PatientID: 'X', PatientName: 'OTHER' }, undefined)).toEqual([
      {
        tag: PNAME,
        keyword: 'PatientName',
        value: 'NEW^NAME',
        by: { kind: 'correction', id: 'merge', row: 3 },
      },
    ]);
    expect(t.plan({ PatientID: 'X', PatientName: 'NEW^NAME ' }, undefined)).toEqual([]);
    expect(t.plan({ PatientID: 'nobody', PatientName: 'A' }, undefined)).toEqual([]);
  });

  it('rule when: matched against the inventoried study; no study, no rule with a condition', () => {
    const s = study({ institutionName: 'St Elsewhere Hospital', patientId: 'Q1' });
    expect(t.plan({ InstitutionName: 'St Elsewhere Hospital' }, s)).toEqual([
      {
        tag: INST,
        keyword: 'InstitutionName',
        value: 'Elsewhere General',
        by: { kind: 'rule', id: 'rename' },
      },
    ]);
    expect(t.plan({ InstitutionName: 'St Elsewhere Hospital' }, undefined)).toEqual([]);
    expect(t.plan({ InstitutionName: 'St Elsewhere Hospital' }, study({ institutionName: 'Other' }))).toEqual(
      [],
    );
  });

  it('a later rule wins over an earlier one, and when the final value is the original nothing is planned', () => {
    // rename sets it, inst-back sets it back to the instance's own value: no change at all.
    const s = study({ institutionName: 'St Elsewhere', patientId: 'Z9' });
    expect(t.plan({ InstitutionName: 'St Elsewhere' }, s)).toEqual([]);
    // For an instance whose own value differs, the winner (inst-back) is the one recorded.
    expect(t.plan({ InstitutionName: 'ST ELSEWHERE' }, s)).toEqual([
      { tag: INST, keyword: 'InstitutionName', value: 'St Elsewhere', by: { kind: 'rule', id: 'inst-back' } },
    ]);
  });

  it('replace: regex with groups, then a glob on the value as changed so far; absent values are left alone', () => {
    expect(t.plan({ AccessionNumber: 'OLD-42' }, undefined)).toEqual([
      { tag: ACC, keyword: 'AccessionNumber', value: 'NEW-42', by: { kind: 'rule', id: 'acc' } },
    ]);
    // OLD-17 → NEW-17 (acc) → the glob NEW-1* matches the whole changed value → GLOB (acc2 wins).
    expect(t.plan({ AccessionNumber: 'OLD-17' }, undefined)).toEqual([
      { tag: ACC, keyword: 'AccessionNumber', value: 'GLOB', by: { kind: 'rule', id: 'acc2' } },
    ]);
    expect(t.plan({ AccessionNumber: 'OLD-x' }, undefined)).toEqual([]);
    expect(t.plan({ AccessionNumber: null }, undefined)).toEqual([]);
    expect(t.plan({}, undefined)).toEqual([]);
  });

  it('is deterministic: the same input gives the same changes', () => {
    const h = { PatientID: 'A', PatientName: null, AccessionNumber: 'OLD-1' };
    expect(t.plan(h, undefined)).toEqual(t.plan(h, undefined));
  });
});

describe('rule semantics', () => {
  it('globs are whole-value and case-insensitive; regexes find a match anywhere and replace the first', async () => {
    const t = await load(`  rules:
    - { id: g, replace: { StationName: { pattern: "ct?", with: "CT-NEW" } } }
    - { id: r, replace: { StudyDescription: { pattern: "/a/i", with: "[$&]" } } }
`);
    expect(t.plan({ StationName: 'Ct1' }, undefined).map((c) => c.value)).toEqual(['CT-NEW']);
    expect(t.plan({ StationName: 'CT12' }, undefined)).toEqual([]);
    expect(t.plan({ StudyDescription: 'xAbA' }, undefined).map((c) => c.value)).toEqual(['x[A]bA']);
  });

  it('set null makes an element empty (a change only when it holds a value); set adds an absent element', async () => {
    const t = await load(
      `  rules:\n    - { id: clear, set: { ReferringPhysicianName: null, InstitutionName: "Main" } }\n`,
    );
    expect(t.plan({ ReferringPhysicianName: 'DR^WHO', InstitutionName: null }, undefined)).toEqual([
      { tag: 0x00080090, keyword: 'ReferringPhysicianName', value: '', by: { kind: 'rule', id: 'clear' } },
      { tag: INST, keyword: 'InstitutionName', value: 'Main', by: { kind: 'rule', id: 'clear' } },
    ]);
    expect(t.plan({ ReferringPhysicianName: null, InstitutionName: 'Main' }, undefined)).toEqual([]);
  });

  it('a correction and a rule on the same element: the rule (later) wins', async () => {
    put(dir, 'c.csv', 'id,inst\nP1,From Table\n');
    const t = await load(`  corrections:
    - { id: c, csv: c.csv, match: { PatientID: id }, set: { InstitutionName: inst } }
  rules:
    - { id: r, when: { modality: CT }, set: { InstitutionName: "From Rule" } }
`);
    expect(t.plan({ PatientID: 'P1', InstitutionName: 'x' }, study({ modalitiesInStudy: 'CT\\SR' }))).toEqual(
      [{ tag: INST, keyword: 'InstitutionName', value: 'From Rule', by: { kind: 'rule', id: 'r' } }],
    );
    expect(t.plan({ PatientID: 'P1', InstitutionName: 'x' }, study({ modalitiesInStudy: 'MR' }))).toEqual([
      {
        tag: INST,
        keyword: 'InstitutionName',
        value: 'From Table',
        by: { kind: 'correction', id: 'c', row: 1 },
      },
    ]);
  });

  it('an empty match cell matches an empty or absent value (with another key cell)', async () => {
    put(dir, 'e.csv', 'id,acc,new\n,A1,P9\n');
    const t = await load(`  corrections:
    - { id: e, csv: e.csv, match: { PatientID: id, AccessionNumber: acc }, set: { PatientID: new } }
`);
    expect(t.plan({ PatientID: null, AccessionNumber: 'A1' }, undefined).map((c) => c.value)).toEqual(['P9']);
    expect(t.plan({ PatientID: '  ', AccessionNumber: 'A1' }, undefined).map((c) => c.value)).toEqual(['P9']);
    expect(t.plan({ PatientID: 'P1', AccessionNumber: 'A1' }, undefined)).toEqual([]);
  });
});
