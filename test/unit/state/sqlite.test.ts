import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createStore, ManualClock, openStore, SqliteDb } from '../../../src/state/index.js';
import { describeStoreContract, type FixtureOptions, type StoreFixture } from './contract.js';

async function makeSqliteStore(opts: FixtureOptions = {}): Promise<StoreFixture> {
  const dir = mkdtempSync(join(tmpdir(), 'pacshift-state-'));
  const path = join(dir, 'state.db');
  const clock = new ManualClock();
  const open = () => {
    const db = new SqliteDb({ path, synchronous: 'NORMAL' });
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
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

describeStoreContract('sqlite', makeSqliteStore);

describe('openStore (SQLite)', () => {
  it('opens a path or a sqlite: URL in WAL mode, migrated', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pacshift-open-'));
    try {
      for (const target of [join(dir, 'a.db'), `sqlite:${join(dir, 'b.db')}`]) {
        const store = await openStore(target);
        expect(store.dialect).toBe('sqlite');
        expect((await store.migrate()).applied).toEqual([]);
        await store.close();
      }
      const db = new SqliteDb({ path: join(dir, 'a.db') });
      expect(db.connection.pragma('journal_mode', { simple: true })).toBe('wal');
      expect(db.connection.pragma('busy_timeout', { simple: true })).toBe(10_000);
      await db.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
