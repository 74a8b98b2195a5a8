/**
 * What `pacshift migrate PLAN` does, for as long as the real command (src/cli/commands/migrate.ts)
 * is not in the tree: inventory when none finished, the scope rules (jobs for in-scope studies), the
 * engine until nothing is left, then verification (with the same lease). Run as a child process by migration.ts
 * (`node --import tsx test/harness/migrate-standin.ts PLAN [--lease 5s]`) so that tests can kill it.
 * Prints one JSON summary line on stdout; exit 0 when the migration is done, 1 otherwise.
 */
import { parseArgs } from 'node:util';
import { runInventory } from '../../src/inventory/run.js';
import { applyScope } from '../../src/scope/index.js';
import { parseDuration } from '../../src/plan/index.js';
import { openMigration } from '../../src/run/context.js';
import { runEngine } from '../../src/transfer/engine.js';
import { startReceiver } from '../../src/transfer/receiver.js';
import { Spool } from '../../src/transfer/spool.js';
import { recordPassThrough, runVerify } from '../../src/verify/index.js';

const { values, positionals } = parseArgs({
  args: process.argv.slice(2),
  options: { lease: { type: 'string', default: '2m' }, 'no-verify': { type: 'boolean', default: false } },
  allowPositionals: true,
});
const log = (m: string) => console.error(m);
const ctx = await openMigration(positionals[0]!);
const { plan, store } = ctx;
const spool = new Spool(plan.spool.dir, plan.spool.maxBytes);
const rec = await spool.open();
if (rec.recovered) log(`spool: ${rec.recovered} instance(s) recovered from an earlier run`);
const receiver = await startReceiver(plan, spool, log);
const ac = new AbortController();
process.once('SIGTERM', () => ac.abort());
try {
  const done0 = await store.isDone();
  if (done0.reasons.includes('no inventory run has finished complete')) {
    const inv = await runInventory(ctx, {});
    log(`inventory: ${inv.studies} studies, ${inv.series} series, ${inv.instances} instances`);
  }
  await applyScope(ctx);
  const result = await runEngine({
    plan,
    store,
    spool,
    source: ctx.source!,
    target: ctx.target!,
    leaseMs: parseDuration(values.lease!),
    signal: ac.signal,
    log,
    passThrough: async (s) => {
      const r = await recordPassThrough(s.path, plan.verify.attributes);
      if (!r.ok) return {};
      const v = r.value;
      return { header: v.header, pixelDigest: v.pixelDigest, pixelDigestTs: v.pixelDigestTs, datasetSha256: v.datasetSha256, sizeBytes: v.sizeBytes };
    },
  });
  if (result.stopped) log(`STOPPED: ${result.stopped}`);
  // Verification may open its own C-MOVE listener on local.port: ours must be gone by then.
  await receiver.close();
  const verify = values['no-verify'] || ac.signal.aborted ? undefined : await runVerify(ctx, { leaseMs: parseDuration(values.lease!) });
  const done = await store.isDone();
  console.log(JSON.stringify({ instancesStored: result.instancesStored, studiesFinished: result.finished, verify, done: done.done, clean: done.clean, reasons: done.reasons }));
  process.exitCode = done.done ? 0 : 1;
} finally {
  await receiver.close();
  await ctx.close();
}
