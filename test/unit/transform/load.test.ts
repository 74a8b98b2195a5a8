/**
 * loadTransformer: every kind of load error, with its plan path, row and column — and never a value
 * from the CSV or the plan (the values put in are searched for in every message).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { loadTransformer, type TransformLoadError } from '../../../src/transform/index.js';
import { makeTempDir, removeTempDir } from '../../harness/tmp.js';
import { put, transformOf } from './helpers.js';

const dir = makeTempDir('transform');
afterAll(() => removeTempDir(dir));

/** Patient values put into the inputs; none may appear in any message. */
const PHI = ['P-1001', 'P-2002', 'MUSTERMANN^ERIKA', 'SCHMIDT^HANS', '19640812', 'P-3003', 'GABLER^KARL'];

function noPhi(errors: readonly TransformLoadError[]): void {
  for (const e of errors) for (const v of PHI) expect(JSON.stringify(e)).not.toContain(v);
}

async function loadErrors(csv: string | Buffer, section: string): Promise<TransformLoadError[]> {
  const name = put(dir, `t${Math.random().toString(36).slice(2)}.csv`, csv);
  const r = await loadTransformer(transformOf(section.replaceAll('FILE', name), dir));
  if (r.ok) throw new Error('expected load errors');
  noPhi(r.error);
  return r.error;
}

const TABLE = `  corrections:
    - id: mpi
      csv: FILE
      match: { PatientID: old_id }
      set: { PatientID: new_id, PatientName: new_name, PatientBirthDate: new_birth }
`;

describe('loadTransformer', () => {
  it('loads a valid table: rows, summary, read keywords; empty set cells kept as "leave as is"', async () => {
    const name = put(dir, 'ok.csv', 'old_id,new_id,new_name,new_birth\nP-1001,P-2002,MUSTERMANN^ERIKA,\n');
    const r = await loadTransformer(transformOf(TABLE.replace('FILE', name), dir));
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.value.active).toBe(true);
    expect(r.value.summary).toEqual([{ kind: 'correction', id: 'mpi', rows: 1 }]);
    expect(r.value.readKeywords).toEqual(['PatientID', 'PatientName', 'PatientBirthDate']);
    expect(r.value.tables[0]!.rows[0]!.set).toEqual(
      new Map([
        ['PatientID', 'P-2002'],
        ['PatientName', 'MUSTERMANN^ERIKA'],
      ]),
    );
  });

  it('no corrections and no rules: not active', async () => {
    const r = await loadTransformer(transformOf('  corrections: []\n', dir));
    expect(r.ok && r.value.active).toBe(false);
  });

  it('csv-unreadable: a missing file, bad UTF-8, an unclosed quote, no header', async () => {
    const missing = await loadErrors('x', TABLE.replace('FILE', 'nope.csv'));
    expect(missing).toEqual([
      expect.objectContaining({ kind: 'csv-unreadable', id: 'mpi', path: 'transform.corrections[0].csv' }),
    ]);
    expect(missing[0]!.message).toMatch(
      /^transform\.corrections\[0\]\.csv: .*nope\.csv cannot be read \(ENOENT\)/,
    );
    const latin1 = await loadErrors(
      Buffer.from('old_id,new_id,new_name,new_birth\nP-1001,P-2002,M\xdcLLER^ERIKA,19640812\n', 'latin1'),
      TABLE,
    );
    expect(latin1.map((e) => e.kind)).toEqual(['csv-unreadable']);
    expect(latin1[0]!.message).toContain('encoding: latin1');
    const unclosed = await loadErrors('old_id,new_id,new_name,new_birth\n"P-1001,P-2002,x,\n', TABLE);
    expect(unclosed).toEqual([expect.objectContaining({ kind: 'csv-unreadable', row: 1 })]);
    expect((await loadErrors('\n', TABLE)).map((e) => e.kind)).toEqual(['csv-unreadable']);
  });

  it('the table encoding latin1 reads Latin-1 names', async () => {
    const name = put(dir, 'latin1.csv', Buffer.from('old_id;new_name\nP-1001;M\xdcLLER^J\xd6RG\n', 'latin1'));
    const r = await loadTransformer(
      transformOf(
        `  corrections:\n    - { id: l1, csv: ${name}, encoding: latin1, delimiter: ";", match: { PatientID: old_id }, set: { PatientName: new_name } }\n`,
        dir,
      ),
    );
    expect(r.ok).toBe(true);
    if (r.ok)
      expect(r.value.plan({ PatientID: 'P-1001', PatientName: 'X' }, undefined)).toEqual([
        {
          tag: 0x00100010,
          keyword: 'PatientName',
          value: 'MÜLLER^JÖRG',
          by: { kind: 'correction', id: 'l1', row: 1 },
        },
      ]);
  });

  it('csv-column: a column named in match or set that the header lacks; the message lists the columns there are', async () => {
    const e = await loadErrors('old_id,new_id,name\nP-1001,P-2002,SCHMIDT^HANS\n', TABLE);
    expect(e.map((x) => [x.kind, x.path, x.column])).toEqual([
      ['csv-column', 'transform.corrections[0].set.PatientName', 'new_name'],
      ['csv-column', 'transform.corrections[0].set.PatientBirthDate', 'new_birth'],
    ]);
    expect(e[0]!.message).toContain('"old_id", "new_id", "name"');
    const twice = await loadErrors('old_id,old_id,new_id,new_name,new_birth\n', TABLE);
    expect(twice).toEqual([expect.objectContaining({ kind: 'csv-column', column: 'old_id' })]);
  });

  it('IDs are keys trimmed and case-sensitive: " p-1001 " is another key than "P-1001"', async () => {
    const name = put(
      dir,
      'case.csv',
      'old_id,new_id,new_name,new_birth\nP-1001,P-2002,,\n p-1001 ,P-3003,,\n',
    );
    const r = await loadTransformer(transformOf(TABLE.replace('FILE', name), dir));
    expect(r.ok && r.value.summary[0]!.rows).toBe(2);
  });

  it('csv-duplicate-key: two rows with one key and different values name both rows; identical ones warn and keep the first', async () => {
    const e = await loadErrors(
      'old_id,new_id,new_name,new_birth\nP-1001,P-2002,,\nP-3003,P-2002,,\n P-1001 ,P-3003,,\n',
      TABLE,
    );
    expect(e).toEqual([
      expect.objectContaining({
        kind: 'csv-duplicate-key',
        row: 3,
        rows: [1, 3],
        path: 'transform.corrections[0].csv',
      }),
    ]);
    const name = put(
      dir,
      'dup-same.csv',
      'old_id,new_id,new_name,new_birth\nP-1001,P-2002,,\nP-1001,P-2002,,\n',
    );
    const r = await loadTransformer(transformOf(TABLE.replace('FILE', name), dir));
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.value.warnings).toEqual([expect.objectContaining({ kind: 'csv-duplicate-key', rows: [1, 2] })]);
    expect(r.value.summary[0]!.rows).toBe(1);
  });

  it('PN keys compare after normalising case, spaces and trailing ^ (so these two rows are one key)', async () => {
    const e = await loadErrors(
      'name,new_id\nMUSTERMANN^ERIKA,P-1001\n mustermann ^ erika^^ ,P-2002\n',
      `  corrections:\n    - { id: byname, csv: FILE, match: { PatientName: name }, set: { PatientID: new_id } }\n`,
    );
    expect(e).toEqual([expect.objectContaining({ kind: 'csv-duplicate-key', rows: [1, 2] })]);
  });

  it('csv-row: a row without key, a malformed row, a set value invalid for its VR (row and column named)', async () => {
    const e = await loadErrors(
      'old_id,new_id,new_name,new_birth\n,P-2002,,\nP-1001,P-2002,,196408\nP-3003,P-1001,GABLER^KARL,19640812,extra\n' +
        `P-2002,${'X'.repeat(65)},,\n`,
      TABLE,
    );
    expect(e.map((x) => [x.kind, x.row, x.column])).toEqual([
      ['csv-row', 3, undefined],
      ['csv-row', 1, undefined],
      ['csv-row', 2, 'new_birth'],
      ['csv-row', 4, 'new_id'],
    ]);
    expect(e[2]!.message).toBe(
      'transform.corrections[0].csv: row 2, column "new_birth" (PatientBirthDate, DA): the value is not a DICOM date YYYYMMDD',
    );
    expect(e[3]!.message).toContain('longer than LO allows (64)');
  });

  it('keyword: unknown keywords, binary and sequence elements, in tables and rules', async () => {
    const e = await loadErrors(
      'old_id,x\nP-1001,1\n',
      `  corrections:
    - { id: t, csv: FILE, match: { PatientIdentifier: old_id }, set: { Rows: x } }
  rules:
    - { id: r, set: { ReferencedStudySequence: "x", InstitutionName: "SCHMIDT^HANS" }, replace: { NotAKeyword: { pattern: "/^P-/", with: "Q-" } } }
`,
    );
    expect(e.map((x) => [x.kind, x.id, x.path])).toEqual([
      ['keyword', 't', 'transform.corrections[0].match.PatientIdentifier'],
      ['keyword', 't', 'transform.corrections[0].set.Rows'],
      ['keyword', 'r', 'transform.rules[0].set.ReferencedStudySequence'],
      ['keyword', 'r', 'transform.rules[0].replace.NotAKeyword'],
    ]);
    expect(e[1]!.message).toContain('VR US');
  });

  it('value: a rule set value invalid for its VR, without the value', async () => {
    const e = await loadErrors(
      '',
      `  rules:\n    - { id: r, set: { PatientBirthDate: "12.08.1964", PatientSex: "female", PatientName: "SCHMIDT^HANS" } }\n`,
    );
    expect(e.map((x) => [x.kind, x.path])).toEqual([
      ['value', 'transform.rules[0].set.PatientBirthDate'],
      ['value', 'transform.rules[0].set.PatientSex'],
    ]);
    for (const x of e) expect(x.message).not.toMatch(/1964|female/);
  });

  it('reports the problems of every table and rule at once', async () => {
    const a = put(dir, 'a.csv', 'old_id,new_id\nP-1001,P-2002\n');
    const r = await loadTransformer(
      transformOf(
        `  corrections:
    - { id: a, csv: ${a}, match: { PatientID: old_id }, set: { PatientID: nope } }
    - { id: b, csv: missing.csv, match: { PatientID: old_id }, set: { PatientID: new_id } }
  rules:
    - { id: r, set: { StudyDate: "x" } }
`,
        dir,
      ),
    );
    expect(r.ok).toBe(false);
    if (!r.ok)
      expect(r.error.map((x) => [x.kind, x.id])).toEqual([
        ['csv-column', 'a'],
        ['csv-unreadable', 'b'],
        ['value', 'r'],
      ]);
  });
});
