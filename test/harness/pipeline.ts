/**
 * The migration pipeline in-process (inventory → scope → engine), for tests that need to act between
 * two runs of the engine (change the source, count listeners…). The CLI does the same in a child process.
 */
import { runInventory } from '../../src/inventory/run.js';
import { openMigration, type MigrationContext } from '../../src/run/context.js';
import { applyScope } from '../../src/scope/index.js';
import { type EngineOptions, runEngine } from '../../src/transfer/engine.js';
import { type Receiver, startReceiver } from '../../src/transfer/receiver.js';
import { Spool } from '../../src/transfer/spool.js';
import { recordPassThrough } from '../../src/verify/index.js';

export interface Pipeline {
  ctx: MigrationContext;
  spool: Spool;
  receiver: Receiver;
  /** Inventory and scope (jobs for every in-scope study). */
  prepare(): Promise<void>;
  /** One engine run until nothing is runnable now. */
  engine(opts?: Partial<EngineOptions>): ReturnType<typeof runEngine>;
  close(): Promise<void>;
}

export async function openPipeline(
  planPath: string,
  log: (m: string) => void = () => undefined,
): Promise<Pipeline> {
  const ctx = await openMigration(planPath);
  const spool = new Spool(ctx.plan.spool.dir, ctx.plan.spool.maxBytes);
  await spool.open();
  const receiver = await startReceiver(ctx.plan, spool, log, ctx.store);
  return {
    ctx,
    spool,
    receiver,
    prepare: async () => {
      await runInventory(ctx, {});
      await applyScope(ctx);
    },
    engine: (opts = {}) =>
      runEngine({
        plan: ctx.plan,
        store: ctx.store,
        spool,
        source: ctx.source!,
        target: ctx.target!,
        leaseMs: 30_000,
        untilIdle: true,
        log,
        passThrough: async (s) => {
          const r = await recordPassThrough(s.path, ctx.plan.verify.attributes);
          if (!r.ok) return {};
          const v = r.value;
          return {
            header: v.header,
            pixelDigest: v.pixelDigest,
            pixelDigestTs: v.pixelDigestTs,
            datasetSha256: v.datasetSha256,
            sizeBytes: v.sizeBytes,
          };
        },
        ...opts,
      }),
    close: async () => {
      await receiver.close();
      await ctx.close();
    },
  };
}
