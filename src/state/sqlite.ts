import { realpathSync } from 'node:fs';
import Database from 'better-sqlite3';
import type { Db, Queryable, Row, SqlParam } from './db.js';

export interface SqliteOptions {
  /** File path, or ':memory:' (one connection only: a second store cannot see it). */
  readonly path: string;
  /** How long a writer waits for another process's write transaction (SQLite busy_timeout). */
  readonly busyTimeoutMs?: number;
  /**
   * FULL (default): a committed transaction survives power loss, not just a killed process.
   * NORMAL: faster, survives SIGKILL, may lose the last transactions on power loss.
   */
  readonly synchronous?: 'FULL' | 'NORMAL';
}

/**
 * better-sqlite3 is synchronous; our operations are async. Statements of one connection are
 * serialised by a mutex so an operation's transaction never interleaves with another's. The mutex is
 * shared by every connection this process opens on the same file: with two connections in one
 * process, one waiting on SQLite's busy handler (which blocks the thread) would otherwise wait for a
 * transaction that can never finish. Between processes, SQLite's own locks and the busy timeout apply.
 */
class Mutex {
  #tail: Promise<unknown> = Promise.resolve();
  run<T>(fn: () => Promise<T> | T): Promise<T> {
    const p = this.#tail.then(fn);
    this.#tail = p.then(
      () => undefined,
      () => undefined,
    );
    return p;
  }
}

const fileLocks = new Map<string, { mutex: Mutex; refs: number }>();

function acquireFileLock(key: string): Mutex {
  let entry = fileLocks.get(key);
  if (!entry) {
    entry = { mutex: new Mutex(), refs: 0 };
    fileLocks.set(key, entry);
  }
  entry.refs++;
  return entry.mutex;
}

function releaseFileLock(key: string): void {
  const entry = fileLocks.get(key);
  if (entry && --entry.refs <= 0) fileLocks.delete(key);
}

function bindable(params: readonly SqlParam[] | undefined): unknown[] {
  if (!params) return [];
  return params.map((p) => (p === true ? 1 : p === false ? 0 : p === undefined ? null : p));
}

class SqliteQueryable implements Queryable {
  readonly dialect = 'sqlite' as const;
  readonly #stmts = new Map<string, Database.Statement>();
  constructor(readonly conn: Database.Database) {}

  #prepare(sql: string): Database.Statement {
    let s = this.#stmts.get(sql);
    if (!s) {
      s = this.conn.prepare(sql);
      if (this.#stmts.size > 500) this.#stmts.clear();
      this.#stmts.set(sql, s);
    }
    return s;
  }
  allSync<T>(sql: string, params?: readonly SqlParam[]): T[] {
    const s = this.#prepare(sql);
    if (!s.reader) {
      s.run(...bindable(params));
      return [];
    }
    return s.all(...bindable(params)) as T[];
  }
  runSync(sql: string, params?: readonly SqlParam[]): number {
    const s = this.#prepare(sql);
    if (s.reader) return s.all(...bindable(params)).length;
    return s.run(...bindable(params)).changes;
  }
  async all<T = Row>(sql: string, params?: readonly SqlParam[]): Promise<T[]> {
    return this.allSync<T>(sql, params);
  }
  async get<T = Row>(sql: string, params?: readonly SqlParam[]): Promise<T | undefined> {
    return this.allSync<T>(sql, params)[0];
  }
  async run(sql: string, params?: readonly SqlParam[]): Promise<number> {
    return this.runSync(sql, params);
  }
  async exec(script: string): Promise<void> {
    this.conn.exec(script);
  }
}

export class SqliteDb implements Db {
  readonly dialect = 'sqlite' as const;
  readonly schema = undefined;
  readonly #q: SqliteQueryable;
  readonly #mutex: Mutex;
  readonly #lockKey: string;
  #closed = false;

  constructor(opts: SqliteOptions) {
    const conn = new Database(opts.path);
    conn.pragma(`busy_timeout = ${Math.max(0, Math.floor(opts.busyTimeoutMs ?? 10_000))}`);
    if (opts.path !== ':memory:') conn.pragma('journal_mode = WAL');
    conn.pragma(`synchronous = ${opts.synchronous ?? 'FULL'}`);
    conn.pragma('foreign_keys = ON');
    this.#q = new SqliteQueryable(conn);
    this.#lockKey = opts.path === ':memory:' ? `:memory:${Math.random()}` : realpathSync(opts.path);
    this.#mutex = acquireFileLock(this.#lockKey);
  }

  /** The underlying connection, for tests and diagnostics (PRAGMA integrity_check). */
  get connection(): Database.Database {
    return this.#q.conn;
  }

  all<T = Row>(sql: string, params?: readonly SqlParam[]): Promise<T[]> {
    return this.#mutex.run(() => this.#live().allSync<T>(sql, params));
  }
  get<T = Row>(sql: string, params?: readonly SqlParam[]): Promise<T | undefined> {
    return this.#mutex.run(() => this.#live().allSync<T>(sql, params)[0]);
  }
  run(sql: string, params?: readonly SqlParam[]): Promise<number> {
    return this.#mutex.run(() => this.#live().runSync(sql, params));
  }
  exec(script: string): Promise<void> {
    return this.#mutex.run(() => {
      this.#live().conn.exec(script);
    });
  }

  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
    return this.#mutex.run(async () => {
      const q = this.#live();
      q.conn.exec('BEGIN IMMEDIATE');
      try {
        const result = await fn(q);
        q.conn.exec('COMMIT');
        return result;
      } catch (e) {
        if (q.conn.inTransaction) q.conn.exec('ROLLBACK');
        throw e;
      }
    });
  }

  close(): Promise<void> {
    return this.#mutex.run(() => {
      if (this.#closed) return;
      this.#closed = true;
      this.#q.conn.close();
      releaseFileLock(this.#lockKey);
    });
  }

  #live(): SqliteQueryable {
    if (this.#closed) throw new Error('state store is closed');
    return this.#q;
  }
}
