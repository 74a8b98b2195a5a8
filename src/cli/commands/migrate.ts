import { parseArgs } from 'node:util';
import { parseDuration } from '../../plan/index.js';
import { openMigration, type MigrationContext } from '../../run/context.js';
import { assembleMigrationRun, type MigrationRun } from '../../run/assemble.js';
import { MissingSecretError } from '../../transfer/targets/index.js';
import type { VerifyRunSummary } from '../../verify/index.js';
import { UsageError, listenError, progress } from '../common.js';
import { Exit } from '../exit-codes.js';
import { sourceUnreachable, unreachableLine } from './inventory.js';
import { describePeer } from '../../net/peer.js';
import { shutdownSignal, signalExitCode, stopsGracefully } from '../signals.js';

export const usage =
  'pacshift migrate PLAN.yaml [--no-verify] [--until-idle] [--lease 30s] [--json]  (runs inventory and scope first when they have not run)';

/**
 * Inventory and scope, when the state database has none yet: a complete inventory run, and a scope
 * decision for every inventoried study (new studies of a re-inventory are decided too).
 */
export async function ensureInventoryAndScope(
  ctx: MigrationContext,
  log: (m: string) => void,
  signal?: AbortSignal,
): Promise<{ unreachable?: string }> {
  let unreachable: string | undefined;
  let done = await ctx.store.isDone();
  if (done.blockers.some((b) => b.code === 'no-complete-inventory')) {
    // Under the inventory lock: processes started together run one inventory, the others use it.
    const { ensureInventory } = await import('../../inventory/run.js');
    const inv = await ensureInventory(ctx, {
      signal,
      onWait: () => log('another process is running the inventory: waiting for it'),
    });
    if (inv.kind === 'ran') {
      const s = inv.summary;
      log(
        `inventory run ${s.runId}: ${s.studies} studies, ${s.series} series, ${s.instances} instances${s.complete ? '' : ' (INCOMPLETE)'}`,
      );
      if (sourceUnreachable(s) && ctx.source)
        unreachable = await unreachableLine(ctx.store, describePeer(ctx.source));
    } else if (inv.kind === 'up-to-date') log(`inventory: run ${inv.runId} (another process's) is used`);
    done = await ctx.store.isDone();
  }
  if (done.blockers.some((b) => b.code === 'unscoped')) {
    log('studies without a scope decision: applying the scope rules');
    const { applyScope } = await import('../../scope/index.js');
    const sc = await applyScope(ctx, {});
    log(
      `scope: ${sc.inScope.studies} studies in scope, ${sc.excluded.studies} excluded (see pacshift scope for each rule)`,
    );
  }
  return { unreachable };
}

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    const done = () => {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const t = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });

/** Two verify runs of one migrate run as one summary. */
function mergeVerifySummaries(a: VerifyRunSummary, b: VerifyRunSummary): VerifyRunSummary {
  const instances = { ...a.instances };
  for (const [k, n] of Object.entries(b.instances) as [keyof typeof instances, number][]) instances[k] += n;
  return {
    studies: a.studies + b.studies,
    verified: a.verified + b.verified,
    withProblems: a.withProblems + b.withProblems,
    notVerified: a.notVerified + b.notVerified,
    sampled: a.sampled + b.sampled,
    reverified: a.reverified + b.reverified,
    regressions: a.regressions + b.regressions,
    instances,
    problems: [...a.problems, ...b.problems].slice(0, 100),
  };
}

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: {
      'no-verify': { type: 'boolean', default: false },
      'until-idle': { type: 'boolean', default: false },
      lease: { type: 'string', default: '30s' },
      json: { type: 'boolean', default: false },
    },
    allowPositionals: true,
  });
  if (!positionals[0]) throw new UsageError('missing plan file');
  const ctx = await openMigration(positionals[0], { transform: true });
  const log = (m: string) => (values.json ? console.error(JSON.stringify({ log: m })) : console.error(m));
  // Any source (DIMSE, folder) to any target (DIMSE, folder, DICOMweb), corrections and rules, the
  // receiver, the pass-through record, the engine, the verification: assembled in one place.
  let mig: MigrationRun;
  try {
    mig = await assembleMigrationRun(ctx, { log });
  } catch (e) {
    await ctx.close();
    if (e instanceof MissingSecretError) throw new UsageError(e.message);
    // Our C-MOVE destination's port (local.port) taken: the environment, one line and exit 70.
    throw listenError('local.port', ctx.plan.local.port, e);
  }
  // SIGTERM/SIGINT (src/cli/signals.ts): the engine stops claiming, gives running studies a moment,
  // releases their leases; we close the peers and the state and exit 143/130.
  const ac = { signal: shutdownSignal() };
  const graceful = stopsGracefully();
  if (mig.recovered) log(`spool: ${mig.recovered} instance(s) recovered from an earlier run`);
  try {
    const inv = await ensureInventoryAndScope(ctx, log, ac.signal);
    if (inv.unreachable) {
      // Nothing to move from a source never reached: say which, exit 3 (src/cli/exit-codes.ts).
      log(inv.unreachable);
      return Exit.peer;
    }
    const bar = progress(!values.json);
    const t0 = Date.now();
    const result = await mig.transfer({
      leaseMs: parseDuration(values.lease!),
      untilIdle: values['until-idle'],
      signal: ac.signal,
      onProgress: (p) =>
        bar.update(
          `studies done ${p.finished}, running ${p.running}; instances stored ${p.instancesStored} (${(p.bytesStored / 1e6).toFixed(0)} MB)`,
        ),
    });
    bar.done();
    if (result.stopped) {
      // A peer refused what no retry changes (our credentials, our AE as a move destination): it names
      // the peer and its answer; exit 3, "peer ... refused" (src/cli/exit-codes.ts).
      log(`STOPPED: ${result.stopped}`);
      return Exit.peer;
    }
    if (result.aborted) {
      log('stopped by signal: leases released; run migrate again to resume');
      return signalExitCode() ?? Exit.partial;
    }
    let verified: unknown;
    // Verification may listen on local.port itself (C-MOVE back from the target): free it first.
    await mig.closeReceiver();
    if (!values['no-verify'] && !ac.signal.aborted) {
      const leaseMs = parseDuration(values.lease!);
      let summary = await mig.verify({ leaseMs, signal: ac.signal });
      // Studies still stored or verifying are leased by a run that was killed (claimable once the lease
      // expires) or wait for a retry: wait for them, as the engine waits for transfers (not with --until-idle).
      while (!values['until-idle'] && !ac.signal.aborted) {
        const c = await ctx.store.countJobsByState();
        if (c.stored + c.verifying === 0) break;
        await sleep(Math.min(5000, leaseMs ?? 5000), ac.signal);
        summary = mergeVerifySummaries(summary, await mig.verify({ leaseMs, signal: ac.signal }));
      }
      verified = summary;
    }
    const done = await ctx.store.isDone();
    const summary = {
      seconds: Math.round((Date.now() - t0) / 100) / 10,
      studiesFinished: result.finished,
      instancesStored: result.instancesStored,
      megabytesStored: Math.round(result.bytesStored / 1e5) / 10,
      verify: verified,
      done: done.done,
      clean: done.clean,
      reasons: done.reasons,
    };
    if (values.json) console.log(JSON.stringify(summary));
    else {
      console.log(
        `migrated ${result.instancesStored} instance(s) of ${result.finished} stud(y/ies) in ${summary.seconds} s`,
      );
      console.log(
        done.done
          ? `DONE${done.clean ? '' : ' (with failures: see pacshift report)'}`
          : `not done: ${done.reasons.join('; ')}`,
      );
    }
    if (ac.signal.aborted) return signalExitCode() ?? Exit.partial;
    // 0 only when every instance is verified or excluded by a rule: "DONE, with failures" is exit 1.
    return done.done && done.clean ? Exit.ok : Exit.partial;
  } finally {
    graceful();
    await mig.close();
    await ctx.close();
  }
}
