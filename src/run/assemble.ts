/**
 * One place that assembles a migration run from the plan: the source and the target (any kind:
 * src/transfer/sources, targets), the spool (recovering an earlier run's arrivals), the C-MOVE
 * receiver on local.port, the transformer (the plan's corrections and rules — always loaded, so no
 * caller can forget it), the pass-through record, the engine and the verification. `pacshift migrate`
 * and the pilot (`pacshift sample --migrate`) both run what this assembles: the pilot's studies are
 * corrected, recorded and verified exactly as the bulk's are.
 */
import { runEngine, type EngineOptions, type PassThrough } from '../transfer/engine.js';
import { startReceiver, type Receiver } from '../transfer/receiver.js';
import { openSource, type Source } from '../transfer/sources/index.js';
import { Spool } from '../transfer/spool.js';
import { openTarget, type Target } from '../transfer/targets/index.js';
import { TransformStep } from '../transform/apply.js';
import type { Transformer } from '../transform/index.js';
import {
  receivedFields,
  recordPassThrough,
  runVerify,
  type RunVerifyOptions,
  type VerifyRunSummary,
} from '../verify/index.js';
import { loadTransformerOrThrow, type MigrationContext } from './context.js';

/** What a caller chooses about one engine run; everything else comes from the plan. */
export type TransferOptions = Pick<EngineOptions, 'leaseMs' | 'untilIdle' | 'signal' | 'onProgress'>;

export interface MigrationRun {
  readonly source: Source;
  readonly target: Target;
  readonly spool: Spool;
  /** Instances found in the spool from an earlier run (moved on by this one). */
  readonly recovered: number;
  readonly transformer: Transformer;
  /** Retrieve, transform, record, store: the jobs of the state database, by the engine. */
  transfer(o?: TransferOptions): ReturnType<typeof runEngine>;
  /** Frees local.port: verification may listen on it itself (C-MOVE back from the target). */
  closeReceiver(): Promise<void>;
  verify(o?: RunVerifyOptions): Promise<VerifyRunSummary>;
  /** Receiver, source and target (the state database stays the context's). */
  close(): Promise<void>;
}

/**
 * Assembles the run. Throws what opening a source or target throws (a plan error such as a missing
 * secret) and a PlanLoadError when the transform does not load; nothing is left open then.
 */
export async function assembleMigrationRun(
  ctx: MigrationContext,
  opts: { log: (m: string) => void },
): Promise<MigrationRun> {
  const { plan, store } = ctx;
  const { log } = opts;
  const transformer = ctx.transformer ?? (await loadTransformerOrThrow(ctx.planPath, plan));
  const source = openSource(plan, ctx.source, store);
  let target: Target;
  try {
    target = openTarget(plan, ctx.target);
  } catch (e) {
    await source.close();
    throw e;
  }
  const spool = new Spool(plan.spool.dir, plan.spool.maxBytes);
  let receiver: Receiver | undefined;
  let recovered = 0;
  try {
    recovered = (await spool.open()).recovered;
    if (plan.source.type === 'dimse' && plan.source.retrieve === 'c-move')
      receiver = await startReceiver(plan, spool, log, store);
  } catch (e) {
    await Promise.all([source.close(), target.close()]);
    throw e;
  }
  const passThrough: PassThrough = async (s) => {
    const r = await recordPassThrough(s.path, plan.verify.attributes);
    return r.ok ? receivedFields(r.value) : {};
  };
  const transform = transformer.active ? new TransformStep({ transformer, store, spool, log }) : undefined;
  let receiverOpen = receiver !== undefined;
  const closeReceiver = async () => {
    if (!receiverOpen) return;
    receiverOpen = false;
    await receiver!.close();
  };
  return {
    source,
    target,
    spool,
    recovered,
    transformer,
    transfer: (o = {}) =>
      runEngine({ plan, store, spool, source, target, passThrough, transform, log, ...o }),
    closeReceiver,
    verify: (o = {}) => runVerify(ctx, o),
    close: async () => {
      await closeReceiver();
      await Promise.all([source.close(), target.close()]);
    },
  };
}
