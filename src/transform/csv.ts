/**
 * The CSV reader of correction tables (RFC 4180): quoted fields, doubled quotes inside them, CRLF or
 * LF line ends (also inside quoted fields), a leading BOM, the table's delimiter and encoding
 * (utf-8, strict; or latin1). A header row is required.
 *
 * Rows are numbered as the brief and the audit trail number them: the header is row 0, the first data
 * row is row 1, and so on, counting every record (a blank line in the middle keeps its number, so the
 * numbers are the spreadsheet's row numbers minus one). Blank records are skipped. Problems name a row
 * and a column, never a cell's content (cells are patient data).
 */

export type CsvEncoding = 'utf-8' | 'latin1';

export interface CsvRecord {
  /** 1-based data row (header = row 0). */
  readonly row: number;
  readonly cells: readonly string[];
}

export interface CsvTable {
  /** Column names, trimmed. */
  readonly header: readonly string[];
  /** Data rows with at least one non-blank cell. */
  readonly rows: readonly CsvRecord[];
}

export interface CsvProblem {
  /** unreadable: the file as a whole (encoding, no header, an unclosed quote); row: one record. */
  readonly kind: 'unreadable' | 'row';
  readonly row?: number;
  readonly message: string;
}

export type CsvResult =
  { ok: true; table: CsvTable; problems: CsvProblem[] } | { ok: false; problem: CsvProblem };

/** Bytes → text in the table's encoding; invalid UTF-8 is an error (a Latin-1 file read as UTF-8 would corrupt names). */
export function decodeCsv(
  bytes: Uint8Array,
  encoding: CsvEncoding,
): { ok: true; text: string } | { ok: false; message: string } {
  if (encoding === 'latin1') return { ok: true, text: Buffer.from(bytes).toString('latin1') };
  try {
    return { ok: true, text: new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes) };
  } catch {
    let offset = 0;
    // Find the first invalid byte sequence for the message (offset only, no content).
    for (let lo = 0, hi = bytes.length; lo < hi;) {
      const mid = (lo + hi) >>> 1;
      try {
        new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(0, mid + 1), { stream: true });
        lo = mid + 1;
        offset = lo;
      } catch {
        hi = mid;
        offset = mid;
      }
    }
    return {
      ok: false,
      message: `is not valid UTF-8 (first invalid byte at offset ${offset}): if the file is Latin-1 (Windows-1252), set encoding: latin1`,
    };
  }
}

/**
 * Parses CSV text. Each record must have as many cells as the header (a shorter or longer one is a
 * `row` problem, and the record is left out of `rows` so that nothing is applied from it); a quoted
 * field followed by other characters is a `row` problem too. An unclosed quote is `unreadable`.
 */
export function parseCsv(text: string, delimiter = ','): CsvResult {
  if (delimiter.length !== 1 || delimiter === '"' || delimiter === '\n' || delimiter === '\r')
    throw new Error(`parseCsv: unusable delimiter ${JSON.stringify(delimiter)}`);
  const s = text.startsWith('\uFEFF') ? text.slice(1) : text;
  const records: { cells: string[]; malformed: boolean }[] = [];
  let cells: string[] = [];
  let cell = '';
  let quoted = false;
  let afterQuote = false;
  let malformed = false;
  let started = false;
  const endCell = () => {
    cells.push(cell);
    cell = '';
    afterQuote = false;
  };
  const endRecord = () => {
    endCell();
    records.push({ cells, malformed });
    cells = [];
    malformed = false;
    started = false;
  };
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (quoted) {
      if (c === '"') {
        if (s[i + 1] === '"') {
          cell += '"';
          i++;
        } else {
          quoted = false;
          afterQuote = true;
        }
      } else cell += c;
      continue;
    }
    if (c === delimiter) {
      started = true;
      endCell();
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && s[i + 1] === '\n') i++;
      endRecord();
    } else if (c === '"' && cell.trim() === '' && !afterQuote) {
      started = true;
      cell = '';
      quoted = true;
    } else {
      started = true;
      // Text after a closing quote ("a"b): not RFC 4180; kept, but the record is reported.
      if (afterQuote && c !== ' ' && c !== '\t') malformed = true;
      cell += c;
    }
  }
  if (quoted)
    return {
      ok: false,
      problem: {
        kind: 'unreadable',
        row: Math.max(0, records.length),
        message: `has a quoted field that is never closed (it starts in row ${Math.max(0, records.length)})`,
      },
    };
  if (started || cell !== '' || cells.length > 0) endRecord();

  const blank = (r: { cells: string[] }) => r.cells.every((x) => x.trim() === '');
  const first = records.findIndex((r) => !blank(r));
  if (first < 0)
    return { ok: false, problem: { kind: 'unreadable', message: 'is empty: a header row is required' } };
  if (first > 0)
    return {
      ok: false,
      problem: { kind: 'unreadable', message: 'starts with a blank line: the first row must be the header' },
    };
  const header = records[0]!.cells.map((h) => h.trim());
  const problems: CsvProblem[] = [];
  if (records[0]!.malformed)
    problems.push({ kind: 'row', row: 0, message: 'row 0 (header) has text after a closing quote' });
  const rows: CsvRecord[] = [];
  for (let i = 1; i < records.length; i++) {
    const r = records[i]!;
    if (blank(r)) continue;
    if (r.malformed) {
      problems.push({ kind: 'row', row: i, message: `row ${i} has text after a closing quote in a field` });
      continue;
    }
    if (r.cells.length !== header.length) {
      problems.push({
        kind: 'row',
        row: i,
        message: `row ${i} has ${r.cells.length} fields, the header ${header.length} (a delimiter inside a value needs quotes)`,
      });
      continue;
    }
    rows.push({ row: i, cells: r.cells });
  }
  return { ok: true, table: { header, rows }, problems };
}
