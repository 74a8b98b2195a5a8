/**
 * The one async SQL surface the operations are written against. Each dialect implements it
 * (`sqlite.ts`, `postgres.ts`); the operations in `ops/` write dialect-neutral SQL with `?`
 * placeholders (rewritten to `$n` for PostgreSQL) and branch on `dialect` only where the
 * dialects really differ (e.g. `FOR UPDATE SKIP LOCKED`).
 *
 * Conventions of the SQL:
 * - times are epoch milliseconds (BIGINT) from the injected Clock;
 * - booleans are BOOLEAN in PostgreSQL, 0/1 INTEGER in SQLite: bind JS booleans, read with `bool()`;
 * - JSON is JSONB in PostgreSQL, TEXT in SQLite: bind `toJson(x)`, read with `fromJson()`.
 */
export type Dialect = 'sqlite' | 'postgres';
export type SqlParam = string | number | boolean | null | bigint | Buffer;
export type Row = Record<string, unknown>;

export interface Queryable {
  readonly dialect: Dialect;
  /** All rows (also for `... RETURNING`). */
  all<T = Row>(sql: string, params?: readonly SqlParam[]): Promise<T[]>;
  get<T = Row>(sql: string, params?: readonly SqlParam[]): Promise<T | undefined>;
  /** A statement without result rows; resolves to the number of rows it changed. */
  run(sql: string, params?: readonly SqlParam[]): Promise<number>;
  /** A multi-statement script without parameters (DDL, migrations). */
  exec(script: string): Promise<void>;
}

export interface Db extends Queryable {
  /**
   * Runs `fn` in one transaction, committed when `fn` resolves, rolled back when it throws.
   * SQLite: `BEGIN IMMEDIATE` (the write lock is taken up front, so two processes never deadlock
   * upgrading a read lock; other processes wait up to the busy timeout). PostgreSQL: READ COMMITTED
   * on one pooled client, retried (the whole `fn`) on deadlock or serialization failure, so `fn`
   * must only touch the database.
   */
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>;
  close(): Promise<void>;
  /** PostgreSQL: the schema this store lives in (search_path). SQLite: undefined. */
  readonly schema?: string;
}

/** `?, ?, ?` for an IN list of n values. */
export function placeholders(n: number): string {
  if (n < 1) throw new RangeError('placeholders: n must be >= 1');
  return Array.from({ length: n }, () => '?').join(', ');
}

/** Rows per multi-row statement: far below both SQLite's and PostgreSQL's bind-parameter limits. */
export const CHUNK = 400;

export function chunks<T>(items: readonly T[], size: number = CHUNK): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

const pgSqlCache = new Map<string, string>();

/** Rewrites `?` placeholders to `$1, $2, ...`, leaving quoted strings, identifiers and comments alone. */
export function toPgPlaceholders(sql: string): string {
  const cached = pgSqlCache.get(sql);
  if (cached !== undefined) return cached;
  let out = '';
  let n = 0;
  for (let i = 0; i < sql.length; i++) {
    const c = sql[i]!;
    if (c === "'" || c === '"') {
      const end = sql.indexOf(c, i + 1);
      const stop = end < 0 ? sql.length : end + 1;
      out += sql.slice(i, stop);
      i = stop - 1;
    } else if (c === '-' && sql[i + 1] === '-') {
      const end = sql.indexOf('\n', i);
      const stop = end < 0 ? sql.length : end;
      out += sql.slice(i, stop);
      i = stop - 1;
    } else if (c === '?') {
      out += `$${++n}`;
    } else {
      out += c;
    }
  }
  if (pgSqlCache.size < 2000) pgSqlCache.set(sql, out);
  return out;
}

export function bool(v: unknown): boolean {
  return v === true || v === 1 || v === '1' || v === 't';
}

export function num(v: unknown): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint' || typeof v === 'string') return Number(v);
  if (v === null || v === undefined) return 0;
  throw new TypeError(`not a number: ${typeof v}`);
}

export function numOrNull(v: unknown): number | null {
  return v === null || v === undefined ? null : num(v);
}

export function strOrNull(v: unknown): string | null {
  return v === null || v === undefined ? null : String(v);
}

export function toJson(v: unknown): string | null {
  return v === undefined || v === null ? null : JSON.stringify(v);
}

/** Both drivers hand JSON columns over as text (see postgres.ts type parsers). */
export function fromJson<T = unknown>(v: unknown): T | null {
  if (v === null || v === undefined) return null;
  return (typeof v === 'string' ? JSON.parse(v) : v) as T;
}
