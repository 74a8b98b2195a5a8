import { describe, expect, it } from 'vitest';
import { decodeCsv, parseCsv } from '../../../src/transform/csv.js';

const ok = (text: string, delimiter = ',') => {
  const r = parseCsv(text, delimiter);
  if (!r.ok) throw new Error(r.problem.message);
  return r;
};

describe('parseCsv (RFC 4180)', () => {
  it('reads a header and rows numbered from 1 (header = row 0), LF or CRLF, with or without a final line end', () => {
    for (const text of ['a,b\n1,2\n3,4\n', 'a,b\r\n1,2\r\n3,4', 'a,b\r\n1,2\n3,4\r\n']) {
      const r = ok(text);
      expect(r.table.header).toEqual(['a', 'b']);
      expect(r.table.rows).toEqual([
        { row: 1, cells: ['1', '2'] },
        { row: 2, cells: ['3', '4'] },
      ]);
      expect(r.problems).toEqual([]);
    }
  });

  it('quoted fields hold delimiters, doubled quotes and line ends (CRLF kept as written)', () => {
    const r = ok('id,name\n"1,5","Doe ""JD""^John"\n2,"two\r\nlines"\n3,x\n');
    expect(r.table.rows.map((x) => x.cells)).toEqual([
      ['1,5', 'Doe "JD"^John'],
      ['2', 'two\r\nlines'],
      ['3', 'x'],
    ]);
    // The record after a multi-line field keeps its record number.
    expect(r.table.rows.map((x) => x.row)).toEqual([1, 2, 3]);
  });

  it('strips a BOM, trims header names, keeps cells as written', () => {
    const r = ok('\uFEFF old_id , new_id\n A , B \n');
    expect(r.table.header).toEqual(['old_id', 'new_id']);
    expect(r.table.rows[0]!.cells).toEqual([' A ', ' B ']);
  });

  it('skips blank records but keeps the numbering of the rows after them', () => {
    const r = ok('a,b\n1,2\n\n,\n5,6\n');
    expect(r.table.rows).toEqual([
      { row: 1, cells: ['1', '2'] },
      { row: 4, cells: ['5', '6'] },
    ]);
  });

  it('uses the given delimiter (; tab |); a comma is then plain text', () => {
    expect(ok('a;b\n1,5;2\n', ';').table.rows[0]!.cells).toEqual(['1,5', '2']);
    expect(ok('a\tb\n1\t"x\ty"\n', '\t').table.rows[0]!.cells).toEqual(['1', 'x\ty']);
    expect(ok('a|b\n1|2\n', '|').table.rows[0]!.cells).toEqual(['1', '2']);
  });

  it('an empty last field and empty quoted fields are empty cells', () => {
    expect(ok('a,b,c\n1,,\n"",2,""\n').table.rows.map((r) => r.cells)).toEqual([
      ['1', '', ''],
      ['', '2', ''],
    ]);
  });

  it('a row with another number of fields is a problem with its row number, and is left out', () => {
    const r = ok('a,b\n1,2\n3,4,5\n6\n7,8\n');
    expect(r.table.rows.map((x) => x.row)).toEqual([1, 4]);
    expect(r.problems.map((p) => [p.kind, p.row])).toEqual([
      ['row', 2],
      ['row', 3],
    ]);
    expect(r.problems[0]!.message).toContain('3 fields, the header 2');
  });

  it('text after a closing quote is a problem of that row', () => {
    const r = ok('a,b\n"x"y,2\n3,4\n');
    expect(r.table.rows.map((x) => x.row)).toEqual([2]);
    expect(r.problems).toEqual([{ kind: 'row', row: 1, message: expect.stringContaining('row 1') }]);
  });

  it('an unclosed quote, an empty file or a blank first line is unreadable', () => {
    const unclosed = parseCsv('a,b\n1,2\n"3,4\n5,6\n');
    expect(unclosed.ok).toBe(false);
    if (!unclosed.ok) {
      expect(unclosed.problem.kind).toBe('unreadable');
      expect(unclosed.problem.row).toBe(2);
    }
    for (const t of ['', '\n\n', ',,\n']) expect(parseCsv(t).ok).toBe(false);
    expect(parseCsv('\na,b\n1,2\n').ok).toBe(false);
  });

  it('a header only gives no rows', () => {
    expect(ok('a,b\n').table.rows).toEqual([]);
  });
});

describe('decodeCsv', () => {
  const latin1 = Buffer.from('id,name\n1,J\xf6rg\n', 'latin1');
  it('reads Latin-1 as Latin-1 and UTF-8 as UTF-8 (BOM left for the parser)', () => {
    expect(decodeCsv(latin1, 'latin1')).toEqual({ ok: true, text: 'id,name\n1,Jörg\n' });
    const utf8 = Buffer.from('\uFEFFid,name\n1,Jörg\n', 'utf8');
    expect(decodeCsv(utf8, 'utf-8')).toEqual({ ok: true, text: '\uFEFFid,name\n1,Jörg\n' });
  });
  it('refuses bytes that are not UTF-8, naming the offset, not the text', () => {
    const r = decodeCsv(latin1, 'utf-8');
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.message).toContain('offset 11');
      expect(r.message).toContain('encoding: latin1');
      expect(r.message).not.toContain('J');
    }
  });
});
