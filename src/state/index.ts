/**
 * The migration's state database.
 *
 *   const store = await openSqliteStore({ path: 'migration.db' });            // embedded default
 *   const store = await openPgStore({ connectionString, schema: 'site_a' });  // shared by workers
 *   const store = await openStore('postgres://…' | 'sqlite:path' | 'path');
 *
 * Each opens the database, applies pending migrations and returns a Store (see store.ts).
 */
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { PgDb, type PostgresOptions } from './postgres.js';
import { SqliteDb, type SqliteOptions } from './sqlite.js';
import { createStore, type Store, type StoreOptions } from './store.js';

export interface OpenOptions extends StoreOptions {
  /** Apply pending migrations on open (default true). */
  readonly migrate?: boolean;
}

export async function openSqliteStore(opts: SqliteOptions & OpenOptions): Promise<Store> {
  const db = new SqliteDb(opts);
  return finishOpen(db, createStore(db, opts), opts);
}

export async function openPgStore(opts: PostgresOptions & OpenOptions): Promise<Store> {
  const db = new PgDb(opts);
  return finishOpen(db, createStore(db, opts), opts);
}

/**
 * A `postgres://` URL as pool options: `?schema=` picks the schema (removed from the connection
 * string, which the driver would otherwise ignore); without it the default schema `pacshift`.
 */
export function pgOptionsOfUrl(target: string): { connectionString: string; schema?: string } {
  const url = new URL(target);
  const schema = url.searchParams.get('schema') ?? undefined;
  url.searchParams.delete('schema');
  return { connectionString: url.toString(), ...(schema ? { schema } : {}) };
}

/** `postgres://` / `postgresql://` URLs open PostgreSQL (`?schema=` picks the schema); `sqlite:path` or a plain path SQLite. */
export async function openStore(target: string, opts: OpenOptions = {}): Promise<Store> {
  if (/^postgres(ql)?:\/\//i.test(target)) return openPgStore({ ...opts, ...pgOptionsOfUrl(target) });
  return openSqliteStore({ ...opts, path: target.replace(/^sqlite:/i, '') });
}

async function finishOpen(db: { close(): Promise<void> }, store: Store, opts: OpenOptions): Promise<Store> {
  if (opts.migrate === false) return store;
  try {
    await store.migrate();
  } catch (e) {
    await db.close().catch(() => undefined);
    throw e;
  }
  return store;
}

/** A lease owner id unique to this process: host, pid and a random suffix (a restarted process never reuses one). */
export function newOwnerId(prefix = 'worker'): string {
  return `${prefix}@${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
}

export { isDeadLocalOwner } from './owner.js';
export type { Store, StoreOptions } from './store.js';
export { createStore } from './store.js';
export type { SqliteOptions } from './sqlite.js';
export type { PostgresOptions } from './postgres.js';
export { SqliteDb } from './sqlite.js';
export { PgDb } from './postgres.js';
export type { Db, Dialect, Queryable } from './db.js';
export { ManualClock, systemClock, type Clock } from './clock.js';
export { DEFAULT_BACKOFF, backoffDelay, type BackoffPolicy } from './backoff.js';
export * from './job-state.js';
export * from './types.js';
export type * from './analysis-types.js';
export type { MigrationReport } from './migrate.js';
export { MIGRATIONS } from './migrations/index.js';
export type { ReceivedResult } from './ops/record-received.js';
export type { RequeueFilter } from './ops/requeue-jobs.js';
export { LEASE_EXPIRED } from './ops/claim-jobs.js';
export { VANISHED } from './ops/_ledger-sql.js';
export { reclaimDeadOwners } from './reclaim.js';
