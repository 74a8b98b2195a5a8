import type { Clock } from './clock.js';
import { num, type Db } from './db.js';
import { MIGRATIONS, render, type Migration } from './migrations/index.js';

export interface MigrationReport {
  /** Ids applied by this call (empty when the schema was already current). */
  readonly applied: readonly number[];
  /** The schema version after the call. */
  readonly version: number;
}

/** 32-bit FNV-1a, as a signed int: the advisory-lock key of a schema's migrator. */
function lockKey(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h | 0;
}

export function checkMigrationList(list: readonly Migration[]): void {
  list.forEach((m, i) => {
    if (m.id !== i + 1)
      throw new Error(`migrations must be numbered 1..n without gaps: #${i} has id ${m.id}`);
  });
}

/**
 * Applies the migrations not yet recorded in `schema_migrations`, in order, in one transaction.
 * Idempotent (a second call applies nothing) and safe when several processes start at once:
 * SQLite's BEGIN IMMEDIATE and PostgreSQL's transaction-scoped advisory lock let one migrator in at a
 * time; the others then find everything applied. A database newer than this code is refused.
 */
export async function migrate(
  db: Db,
  clock: Clock,
  list: readonly Migration[] = MIGRATIONS,
): Promise<MigrationReport> {
  checkMigrationList(list);
  return db.transaction(async (tx) => {
    if (tx.dialect === 'postgres') {
      const schema = db.schema ?? 'public';
      await tx.get('SELECT pg_advisory_xact_lock(?::bigint)', [lockKey(`pacshift.migrate.${schema}`)]);
      await tx.exec(`CREATE SCHEMA IF NOT EXISTS "${schema}"`);
    }
    await tx.exec(
      `CREATE TABLE IF NOT EXISTS schema_migrations (
         id          INTEGER PRIMARY KEY,
         name        TEXT NOT NULL,
         applied_at  BIGINT NOT NULL
       )`,
    );
    const rows = await tx.all<{ id: unknown }>('SELECT id FROM schema_migrations ORDER BY id');
    const done = new Set(rows.map((r) => num(r.id)));
    const newest = Math.max(0, ...done);
    if (newest > list.length) {
      throw new Error(
        `the state database is at schema version ${newest}, newer than this pacshift (${list.length}); upgrade pacshift`,
      );
    }
    const applied: number[] = [];
    for (const m of list) {
      if (done.has(m.id)) continue;
      await tx.exec(render(m, tx.dialect));
      await tx.run('INSERT INTO schema_migrations (id, name, applied_at) VALUES (?, ?, ?)', [
        m.id,
        m.name,
        clock.now(),
      ]);
      applied.push(m.id);
    }
    return { applied, version: list.length };
  });
}
