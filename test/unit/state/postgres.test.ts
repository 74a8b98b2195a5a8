import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { createStore, ManualClock, openStore, PgDb } from '../../../src/state/index.js';
import { describeStoreContract, type FixtureOptions, type StoreFixture } from './contract.js';
import { TEST_PG as CONNECTION, pgReachable as reachable } from '../../harness/pg.js';

/** Every fixture lives in a fresh schema `pacshift_test_<random>`, dropped by cleanup(). */
async function makePgStore(opts: FixtureOptions = {}): Promise<StoreFixture> {
  const schema = `pacshift_test_${randomBytes(6).toString('hex')}`;
  const clock = new ManualClock();
  const open = () => {
    const db = new PgDb({ connectionString: CONNECTION, schema, max: 4 });
    return { db, store: createStore(db, { clock, backoff: opts.backoff, maxAttempts: opts.maxAttempts }) };
  };
  const main = open();
  if (opts.migrate !== false) await main.store.migrate();
  const others: { close(): Promise<void> }[] = [];
  return {
    ...main,
    clock,
    async openAnother() {
      const o = open();
      others.push(o.store);
      return o;
    },
    async cleanup() {
      for (const o of others) await o.close();
      await main.store.close();
      const admin = new pg.Client({ connectionString: CONNECTION });
      await admin.connect();
      try {
        await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      } finally {
        await admin.end();
      }
    },
  };
}

if (await reachable()) {
  describeStoreContract('postgres', makePgStore);

  describe('openStore (PostgreSQL)', () => {
    it('opens a postgres:// URL into the ?schema= given, creating and migrating it', async () => {
      const schema = `pacshift_test_${randomBytes(6).toString('hex')}`;
      const url = new URL(CONNECTION);
      url.searchParams.set('schema', schema);
      const store = await openStore(url.toString());
      try {
        expect(store.dialect).toBe('postgres');
        expect((await store.migrate()).applied).toEqual([]);
        const admin = new pg.Client({ connectionString: CONNECTION });
        await admin.connect();
        const r = await admin.query(
          'SELECT COUNT(*)::int AS n FROM information_schema.tables WHERE table_schema = $1',
          [schema],
        );
        await admin.end();
        expect(r.rows[0].n).toBeGreaterThan(10);
      } finally {
        await store.close();
        const admin = new pg.Client({ connectionString: CONNECTION });
        await admin.connect();
        await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
        await admin.end();
      }
    });
  });
} else {
  describe('Store contract: postgres', () => {
    it.skip(`PostgreSQL not reachable at ${CONNECTION.replace(/:[^:@/]*@/, ':***@')}`, () => undefined);
  });
}
