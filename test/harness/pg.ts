/**
 * The PostgreSQL server the tests use: `PACSHIFT_TEST_PG` overrides; the default is the machine's local
 * trust-auth server (database `test`). Tests that need it skip when it does not answer.
 */
import pg from 'pg';

export const TEST_PG = process.env.PACSHIFT_TEST_PG ?? 'postgres://postgres@127.0.0.1:5432/test';

/** Whether the test server answers a query within 3 s. */
export async function pgReachable(connectionString: string = TEST_PG): Promise<boolean> {
  const c = new pg.Client({ connectionString, connectionTimeoutMillis: 3_000 });
  try {
    await c.connect();
    await c.query('SELECT 1');
    return true;
  } catch {
    return false;
  } finally {
    await c.end().catch(() => undefined);
  }
}
