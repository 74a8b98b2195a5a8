/**
 * Issue 7 item 8: a plan's `state.postgres` URL with `?schema=` opens that schema. Two plans on one
 * database with different schemas have separate states (before the fix both silently shared the
 * default schema `pacshift`).
 */
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { openMigration } from '../../../src/run/context.js';
import { loadPlan } from '../../../src/plan/index.js';
import { makeTempDir, removeTempDir } from '../../harness/tmp.js';
import { TEST_PG as CONNECTION, pgReachable as reachable } from '../../harness/pg.js';

async function schemasNamed(names: readonly string[]): Promise<string[]> {
  const c = new pg.Client({ connectionString: CONNECTION });
  await c.connect();
  try {
    const r = await c.query('SELECT nspname FROM pg_namespace WHERE nspname = ANY($1) ORDER BY nspname', [
      [...names],
    ]);
    return r.rows.map((x: { nspname: string }) => x.nspname);
  } finally {
    await c.end();
  }
}

function planIn(dir: string, name: string, url: string): string {
  const path = join(dir, `${name}.yaml`);
  writeFileSync(
    path,
    `name: ${name}\nversion: 1\nsource: { type: folder, path: ./in }\ntarget: { type: folder, path: ./out }\nstate: { postgres: "${url}" }\n`,
  );
  return path;
}

const dir = makeTempDir('pg-schema');
const suffix = randomBytes(4).toString('hex');
const schemas = [`pacshift_t8a_${suffix}`, `pacshift_t8b_${suffix}`];

describe.skipIf(!(await reachable()))('plan state.postgres ?schema= (issue 7 item 8)', () => {
  afterAll(async () => {
    removeTempDir(dir);
    const c = new pg.Client({ connectionString: CONNECTION });
    await c.connect();
    for (const s of schemas) await c.query(`DROP SCHEMA IF EXISTS ${s} CASCADE`);
    await c.end();
  });

  it('two plans with different ?schema= on one database have separate states', async () => {
    const a = await openMigration(planIn(dir, 'a', `${CONNECTION}?schema=${schemas[0]}`));
    const b = await openMigration(planIn(dir, 'b', `${CONNECTION}?schema=${schemas[1]}`));
    try {
      const run = await a.store.startInventoryRun({ plan: 'a' });
      await a.store.upsertStudies(run, [{ studyUid: '1.2.826.0.1.3680043.8.498.7008' }]);
      expect(await a.store.getStudy('1.2.826.0.1.3680043.8.498.7008')).toBeDefined();
      expect(await b.store.getStudy('1.2.826.0.1.3680043.8.498.7008')).toBeUndefined();
      expect(await b.store.getInventoryRun(run)).toBeUndefined();
      expect(await schemasNamed(schemas)).toEqual([...schemas].sort());
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('refuses a ?schema= that is not a plain schema name, as a plan error', () => {
    const r = loadPlan(planIn(dir, 'c', `${CONNECTION}?schema=Bad-Name`));
    expect(r.ok).toBe(false);
  });
});
