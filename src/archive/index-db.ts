/**
 * The archive's index: one SQLite file (WAL) with a row per readable instance file and a row per
 * file that could not be read (with its typed error). Paths are relative to the archive folder, so
 * the folder can move. When several files hold the same SOP Instance UID, one copy is served (the
 * most recently indexed): `primary_copy` marks it.
 */
import Database from 'better-sqlite3';
import type { HeaderAttributes } from './header.js';

export const DEFAULT_INDEX_FILE = '.pacshift-archive.sqlite';
const SCHEMA_VERSION = '1';

export interface InstanceRow {
  /** Relative to the archive folder. */
  path: string;
  mtimeMs: number;
  size: number;
  sopInstanceUid: string;
  sopClassUid: string;
  transferSyntaxUid: string;
  datasetOffset: number;
  datasetLength: number;
  patientId: string;
  studyUid: string;
  seriesUid: string;
  attrs: HeaderAttributes;
}

export interface ProblemRow {
  path: string;
  mtimeMs: number;
  size: number;
  /** A DicomFileError code, or an archive code (missing-study-uid, missing-series-uid). */
  code: string;
  message: string;
  sopInstanceUid?: string;
}

interface RawInstance {
  path: string;
  mtime_ms: number;
  size: number;
  sop_instance_uid: string;
  sop_class_uid: string;
  transfer_syntax_uid: string;
  dataset_offset: number;
  dataset_length: number;
  patient_id: string;
  study_uid: string;
  series_uid: string;
  attrs: string;
}

const fromRaw = (r: RawInstance): InstanceRow => ({
  path: r.path,
  mtimeMs: r.mtime_ms,
  size: r.size,
  sopInstanceUid: r.sop_instance_uid,
  sopClassUid: r.sop_class_uid,
  transferSyntaxUid: r.transfer_syntax_uid,
  datasetOffset: r.dataset_offset,
  datasetLength: r.dataset_length,
  patientId: r.patient_id,
  studyUid: r.study_uid,
  seriesUid: r.series_uid,
  attrs: JSON.parse(r.attrs) as HeaderAttributes,
});

const SCHEMA = `
CREATE TABLE IF NOT EXISTS archive_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS instances (
  path TEXT PRIMARY KEY,
  mtime_ms REAL NOT NULL,
  size INTEGER NOT NULL,
  seq INTEGER NOT NULL,
  sop_instance_uid TEXT NOT NULL,
  sop_class_uid TEXT NOT NULL,
  transfer_syntax_uid TEXT NOT NULL,
  dataset_offset INTEGER NOT NULL,
  dataset_length INTEGER NOT NULL,
  patient_id TEXT NOT NULL,
  study_uid TEXT NOT NULL,
  series_uid TEXT NOT NULL,
  attrs TEXT NOT NULL,
  primary_copy INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX IF NOT EXISTS instances_sop ON instances (sop_instance_uid);
CREATE INDEX IF NOT EXISTS instances_study ON instances (study_uid, primary_copy);
CREATE INDEX IF NOT EXISTS instances_series ON instances (series_uid, primary_copy);
CREATE TABLE IF NOT EXISTS problems (
  path TEXT PRIMARY KEY,
  mtime_ms REAL NOT NULL,
  size INTEGER NOT NULL,
  code TEXT NOT NULL,
  message TEXT NOT NULL,
  sop_instance_uid TEXT
);
`;

const COLUMNS =
  'path, mtime_ms, size, sop_instance_uid, sop_class_uid, transfer_syntax_uid, dataset_offset, dataset_length, patient_id, study_uid, series_uid, attrs';

export class IndexSchemaError extends Error {}

export class ArchiveIndex {
  private readonly db: Database.Database;
  private seq: number;
  private readonly stmt: {
    upsert: Database.Statement;
    promote: Database.Statement;
    rowByPath: Database.Statement;
    deleteInstance: Database.Statement;
    deleteProblem: Database.Statement;
    upsertProblem: Database.Statement;
    primaryBySop: Database.Statement;
  };

  /**
   * `attributesKey` names the set of header attributes the rows hold (HEADER_ATTRIBUTES_KEY): an index
   * made with another set is emptied, so that the next indexing reads every file again.
   */
  constructor(
    readonly file: string,
    attributesKey?: string,
  ) {
    this.db = new Database(file);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    this.db.exec(SCHEMA);
    const v = this.db.prepare('SELECT value FROM archive_meta WHERE key = ?').get('schema') as
      { value: string } | undefined;
    if (!v)
      this.db.prepare('INSERT INTO archive_meta (key, value) VALUES (?, ?)').run('schema', SCHEMA_VERSION);
    else if (v.value !== SCHEMA_VERSION) {
      this.db.close();
      throw new IndexSchemaError(
        `${file}: archive index schema ${v.value}, expected ${SCHEMA_VERSION}: delete the file to re-index`,
      );
    }
    if (attributesKey !== undefined) {
      const k = this.db.prepare('SELECT value FROM archive_meta WHERE key = ?').get('attributes') as
        { value: string } | undefined;
      if (k?.value !== attributesKey) {
        this.db.exec('DELETE FROM instances; DELETE FROM problems;');
        this.db
          .prepare(
            'INSERT INTO archive_meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value',
          )
          .run('attributes', attributesKey);
      }
    }
    this.seq = (this.db.prepare('SELECT COALESCE(MAX(seq), 0) AS s FROM instances').get() as { s: number }).s;
    this.stmt = {
      upsert: this.db.prepare(
        `INSERT INTO instances (${COLUMNS}, seq, primary_copy) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1)
         ON CONFLICT (path) DO UPDATE SET mtime_ms = excluded.mtime_ms, size = excluded.size, seq = excluded.seq,
           sop_instance_uid = excluded.sop_instance_uid, sop_class_uid = excluded.sop_class_uid,
           transfer_syntax_uid = excluded.transfer_syntax_uid, dataset_offset = excluded.dataset_offset,
           dataset_length = excluded.dataset_length, patient_id = excluded.patient_id, study_uid = excluded.study_uid,
           series_uid = excluded.series_uid, attrs = excluded.attrs`,
      ),
      promote: this.db.prepare(
        `UPDATE instances SET primary_copy = (seq = (SELECT MAX(seq) FROM instances WHERE sop_instance_uid = @uid))
         WHERE sop_instance_uid = @uid`,
      ),
      rowByPath: this.db.prepare('SELECT sop_instance_uid, study_uid FROM instances WHERE path = ?'),
      deleteInstance: this.db.prepare('DELETE FROM instances WHERE path = ?'),
      deleteProblem: this.db.prepare('DELETE FROM problems WHERE path = ?'),
      upsertProblem: this.db.prepare(
        `INSERT INTO problems (path, mtime_ms, size, code, message, sop_instance_uid) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT (path) DO UPDATE SET mtime_ms = excluded.mtime_ms, size = excluded.size, code = excluded.code,
           message = excluded.message, sop_instance_uid = excluded.sop_instance_uid`,
      ),
      primaryBySop: this.db.prepare(
        `SELECT ${COLUMNS} FROM instances WHERE sop_instance_uid = ? AND primary_copy = 1`,
      ),
    };
  }

  transaction<T>(fn: () => T): T {
    return this.db.transaction(fn)();
  }

  /** Every file the index knows (readable or not), with the stat it was indexed at. */
  knownFiles(): Map<string, { mtimeMs: number; size: number }> {
    const out = new Map<string, { mtimeMs: number; size: number }>();
    for (const table of ['instances', 'problems']) {
      for (const r of this.db.prepare(`SELECT path, mtime_ms, size FROM ${table}`).iterate() as Iterable<{
        path: string;
        mtime_ms: number;
        size: number;
      }>) {
        out.set(r.path, { mtimeMs: r.mtime_ms, size: r.size });
      }
    }
    return out;
  }

  /** Add or replace the row of a file; returns the studies whose content changed. */
  putInstance(row: InstanceRow): string[] {
    return this.transaction(() => {
      const touched = this.forget(row.path);
      this.stmt.upsert.run(
        row.path,
        row.mtimeMs,
        row.size,
        row.sopInstanceUid,
        row.sopClassUid,
        row.transferSyntaxUid,
        row.datasetOffset,
        row.datasetLength,
        row.patientId,
        row.studyUid,
        row.seriesUid,
        JSON.stringify(row.attrs),
        ++this.seq,
      );
      this.stmt.promote.run({ uid: row.sopInstanceUid });
      touched.add(row.studyUid);
      // Another copy of this SOP instance may have stopped being the one served.
      for (const r of this.db
        .prepare('SELECT DISTINCT study_uid FROM instances WHERE sop_instance_uid = ?')
        .all(row.sopInstanceUid) as { study_uid: string }[]) {
        touched.add(r.study_uid);
      }
      return [...touched];
    });
  }

  putProblem(p: ProblemRow): string[] {
    return this.transaction(() => {
      const touched = this.forget(p.path);
      this.stmt.upsertProblem.run(p.path, p.mtimeMs, p.size, p.code, p.message, p.sopInstanceUid ?? null);
      return [...touched];
    });
  }

  /** The file is gone: drop its row; returns the studies whose content changed. */
  remove(path: string): string[] {
    return this.transaction(() => [...this.forget(path)]);
  }

  private forget(path: string): Set<string> {
    const touched = new Set<string>();
    const old = this.stmt.rowByPath.get(path) as { sop_instance_uid: string; study_uid: string } | undefined;
    this.stmt.deleteProblem.run(path);
    if (old) {
      this.stmt.deleteInstance.run(path);
      this.stmt.promote.run({ uid: old.sop_instance_uid });
      touched.add(old.study_uid);
      for (const r of this.db
        .prepare('SELECT DISTINCT study_uid FROM instances WHERE sop_instance_uid = ?')
        .all(old.sop_instance_uid) as { study_uid: string }[]) {
        touched.add(r.study_uid);
      }
    }
    return touched;
  }

  /** The served copy of a SOP instance. */
  primaryBySop(sopInstanceUid: string): InstanceRow | undefined {
    const r = this.stmt.primaryBySop.get(sopInstanceUid) as RawInstance | undefined;
    return r ? fromRaw(r) : undefined;
  }

  /** Paths of every copy of a SOP instance. */
  pathsOfSop(sopInstanceUid: string): string[] {
    return (
      this.db
        .prepare('SELECT path FROM instances WHERE sop_instance_uid = ? ORDER BY path')
        .all(sopInstanceUid) as { path: string }[]
    ).map((r) => r.path);
  }

  /** Served instances of some studies, series or SOP instances (ordered by path). */
  primaryWhere(
    column: 'study_uid' | 'series_uid' | 'sop_instance_uid',
    values: readonly string[],
  ): InstanceRow[] {
    const out: InstanceRow[] = [];
    const CHUNK = 500;
    for (let i = 0; i < values.length; i += CHUNK) {
      const part = values.slice(i, i + CHUNK);
      const rows = this.db
        .prepare(
          `SELECT ${COLUMNS} FROM instances WHERE ${column} IN (${part.map(() => '?').join(',')}) AND primary_copy = 1 ORDER BY path`,
        )
        .all(...part) as RawInstance[];
      for (const r of rows) out.push(fromRaw(r));
    }
    return out;
  }

  /** Served instances of one study, in path order, streamed. */
  *studyRows(studyUid: string): IterableIterator<InstanceRow> {
    const it = this.db
      .prepare(`SELECT ${COLUMNS} FROM instances WHERE study_uid = ? AND primary_copy = 1 ORDER BY path`)
      .iterate(studyUid) as IterableIterator<RawInstance>;
    for (const r of it) yield fromRaw(r);
  }

  studyUids(): string[] {
    return (
      this.db
        .prepare('SELECT DISTINCT study_uid FROM instances WHERE primary_copy = 1 ORDER BY study_uid')
        .all() as { study_uid: string }[]
    ).map((r) => r.study_uid);
  }

  problems(): ProblemRow[] {
    return (
      this.db
        .prepare('SELECT path, mtime_ms, size, code, message, sop_instance_uid FROM problems ORDER BY path')
        .all() as {
        path: string;
        mtime_ms: number;
        size: number;
        code: string;
        message: string;
        sop_instance_uid: string | null;
      }[]
    ).map((r) => ({
      path: r.path,
      mtimeMs: r.mtime_ms,
      size: r.size,
      code: r.code,
      message: r.message,
      ...(r.sop_instance_uid ? { sopInstanceUid: r.sop_instance_uid } : {}),
    }));
  }

  counts(): { files: number; instances: number; duplicateCopies: number; problems: number } {
    const c = this.db
      .prepare(
        `SELECT COUNT(*) AS files, COALESCE(SUM(primary_copy), 0) AS instances, (SELECT COUNT(*) FROM problems) AS problems FROM instances`,
      )
      .get() as { files: number; instances: number; problems: number };
    return {
      files: c.files,
      instances: c.instances,
      duplicateCopies: c.files - c.instances,
      problems: c.problems,
    };
  }

  close(): void {
    this.db.close();
  }
}
