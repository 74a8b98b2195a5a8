import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createStore, ManualClock, SqliteDb } from '../../../src/state/index.js';
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
