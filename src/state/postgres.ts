import pg from 'pg';
import { PG_SCHEMA_NAME } from '../util/pg-schema.js';
import { toPgPlaceholders, type Db, type Queryable, type Row, type SqlParam } from './db.js';

export interface PostgresOptions {
  /** e.g. postgres://postgres@127.0.0.1:5432/pacshift; or the discrete fields below (PG* env vars apply). */
  readonly connectionString?: string;
  readonly host?: string;
  readonly port?: number;
  readonly user?: string;
  readonly password?: string;
  readonly database?: string;
  /** Schema holding the migration's tables (created by migrate()); default `pacshift`. */
  readonly schema?: string;
  /** Pool size; default 4. */
  readonly max?: number;
  readonly connectionTimeoutMillis?: number;
  readonly statementTimeoutMs?: number;
}

/**
 * Per-pool type parsers (the global `pg.types` are left alone for other code in the process):
 * BIGINT (our epoch-ms times, COUNT) and NUMERIC (SUM of BIGINT) as JS numbers; JSON/JSONB as text,
 * parsed by the row mappers exactly as SQLite's TEXT JSON is.
 */
const TYPES = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    if (oid === 20 || oid === 1700) return (v: string) => Number(v);
    if (oid === 114 || oid === 3802) return (v: string) => v;
    return format === 'binary' ? pg.types.getTypeParser(oid, 'binary') : pg.types.getTypeParser(oid, 'text');
  },
} as unknown as pg.CustomTypesConfig;

const RETRYABLE_SQLSTATE = new Set(['40001', '40P01']); // serialization_failure, deadlock_detected

class PgQueryable implements Queryable {
  readonly dialect = 'postgres' as const;
  constructor(private readonly c: pg.Pool | pg.PoolClient) {}
  async all<T = Row>(sql: string, params?: readonly SqlParam[]): Promise<T[]> {
    const r = await this.c.query(toPgPlaceholders(sql), params ? [...params] : []);
    return r.rows as T[];
  }
  async get<T = Row>(sql: string, params?: readonly SqlParam[]): Promise<T | undefined> {
    return (await this.all<T>(sql, params))[0];
  }
  async run(sql: string, params?: readonly SqlParam[]): Promise<number> {
    const r = await this.c.query(toPgPlaceholders(sql), params ? [...params] : []);
    return r.rowCount ?? 0;
  }
  async exec(script: string): Promise<void> {
    // No parameters: the simple query protocol, which runs several statements.
    await this.c.query(script);
  }
}

export class PgDb implements Db {
  readonly dialect = 'postgres' as const;
  readonly schema: string;
  readonly #pool: pg.Pool;
  readonly #q: PgQueryable;
  #closed = false;

  constructor(opts: PostgresOptions) {
    const schema = opts.schema ?? 'pacshift';
    if (!PG_SCHEMA_NAME.test(schema)) throw new TypeError(`invalid schema name ${JSON.stringify(schema)}`);
    this.schema = schema;
    const settings = [`-c search_path=${schema}`];
    if (opts.statementTimeoutMs) settings.push(`-c statement_timeout=${Math.floor(opts.statementTimeoutMs)}`);
    this.#pool = new pg.Pool({
      connectionString: opts.connectionString,
      host: opts.host,
      port: opts.port,
      user: opts.user,
      password: opts.password,
      database: opts.database,
      max: opts.max ?? 4,
      connectionTimeoutMillis: opts.connectionTimeoutMillis ?? 10_000,
      options: settings.join(' '),
      types: TYPES,
      application_name: 'pacshift',
    });
    // An idle client losing its connection must not crash the process; the next query reconnects.
    this.#pool.on('error', () => undefined);
    this.#q = new PgQueryable(this.#pool);
  }

  all<T = Row>(sql: string, params?: readonly SqlParam[]): Promise<T[]> {
    return this.#live().all<T>(sql, params);
  }
  get<T = Row>(sql: string, params?: readonly SqlParam[]): Promise<T | undefined> {
    return this.#live().get<T>(sql, params);
  }
  run(sql: string, params?: readonly SqlParam[]): Promise<number> {
    return this.#live().run(sql, params);
  }
  async exec(script: string): Promise<void> {
    this.#live();
    await this.#pool.query(script);
  }

  async transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
    this.#live();
    for (let attempt = 1; ; attempt++) {
      const client = await this.#pool.connect();
      let broken: Error | undefined;
      try {
        await client.query('BEGIN');
        const result = await fn(new PgQueryable(client));
        await client.query('COMMIT');
        return result;
      } catch (e) {
        try {
          await client.query('ROLLBACK');
        } catch (rollbackError) {
          broken = rollbackError as Error;
        }
        const code = (e as { code?: unknown }).code;
        if (attempt < 5 && typeof code === 'string' && RETRYABLE_SQLSTATE.has(code)) {
          await new Promise((r) => setTimeout(r, 5 * attempt * Math.random()));
          continue;
        }
        throw e;
      } finally {
        client.release(broken);
      }
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#pool.end();
  }

  #live(): PgQueryable {
    if (this.#closed) throw new Error('state store is closed');
    return this.#q;
  }
}
