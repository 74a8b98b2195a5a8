/**
 * What every pipeline command opens: the plan, the state database, and the peers it names.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import {
  type Plan,
  type DimseSourcePlan,
  type DimseTargetPlan,
  formatPlanErrors,
  loadPlan,
} from '../plan/index.js';
import type { Peer } from '../net/peer.js';
import type { TlsSettings } from '../net/transport/tls-options.js';
import { type Store, openSqliteStore, openPgStore, pgOptionsOfUrl } from '../state/index.js';
import type { Clock } from '../state/clock.js';
import { loadTransformer, type Transformer } from '../transform/index.js';
import { LocalSetupError, PlanLoadError } from './errors.js';

export { LocalSetupError, PlanLoadError };

export interface MigrationContext {
  planPath: string;
  plan: Plan;
  store: Store;
  /** Undefined when the source is a folder. */
  source: Peer | undefined;
  target: Peer | undefined;
  /** The plan's corrections and rules, loaded (openMigration with `transform: true`). */
  transformer?: Transformer;
  close(): Promise<void>;
}

/**
 * The plan's transform section loaded (correction CSVs read, rules compiled). A problem is a plan
 * error: every problem at once, each naming the plan file, the plan path and the CSV row and column,
 * never a value (exit 2).
 */
export async function loadTransformerOrThrow(planPath: string, plan: Plan): Promise<Transformer> {
  const r = await loadTransformer(plan.transform);
  if (!r.ok)
    throw new PlanLoadError(
      [`${planPath}: the transform cannot be loaded:`, ...r.error.map((e) => `  ${e.message}`)].join('\n'),
    );
  return r.value;
}

function tlsOf(t: DimseSourcePlan['tls'] | undefined): TlsSettings | undefined {
  if (!t) return undefined;
  const read = (p: string | undefined) => (p ? readFileSync(p) : undefined);
  return { ca: read(t.ca), cert: read(t.cert), key: read(t.key), servername: t.servername };
}

export function peerOf(p: DimseSourcePlan | DimseTargetPlan, plan: Plan): Peer {
  return {
    host: p.host,
    port: p.port,
    aeTitle: p.calledAe,
    callingAeTitle: p.callingAe ?? plan.local.aeTitle,
    tls: tlsOf(p.tls),
    timeouts: {
      connectMs: p.timeouts.connect,
      artimMs: p.timeouts.artim,
      associationMs: p.timeouts.connect * 3,
    },
    dimseTimeoutMs: p.timeouts.dimse,
  };
}

export function loadPlanOrThrow(path: string): Plan {
  const r = loadPlan(path);
  if (!r.ok) throw new PlanLoadError(formatPlanErrors(r.error));
  return r.value;
}

export async function openStateOf(plan: Plan, opts: { clock?: Clock } = {}): Promise<Store> {
  const backoff = {
    baseMs: plan.transfer.retries.backoff.base,
    factor: plan.transfer.retries.backoff.factor,
    capMs: plan.transfer.retries.backoff.cap,
  };
  const common = { clock: opts.clock, backoff, maxAttempts: plan.transfer.retries.maxAttempts };
  // `?schema=` of the URL picks the schema: two plans on one database keep separate states.
  if (plan.state.type === 'postgres') return openPgStore({ ...pgOptionsOfUrl(plan.state.url), ...common });
  return openSqliteStore({ path: plan.state.path, ...common });
}

/** Where the plan's state lives, without credentials: the SQLite file, or the PostgreSQL host and database. */
function stateWhere(plan: Plan): string {
  if (plan.state.type !== 'postgres') return plan.state.path;
  try {
    const u = new URL(plan.state.url);
    return `postgres://${u.host}${u.pathname}`;
  } catch {
    return 'the PostgreSQL URL of state.url';
  }
}

/** A state database that cannot be opened: a LocalSetupError naming it (a programmer error is thrown on). */
export function stateOpenError(plan: Plan, e: unknown): unknown {
  if (!(e instanceof Error)) return e;
  const where = stateWhere(plan);
  if (plan.state.type !== 'postgres' && !existsSync(dirname(plan.state.path)))
    return new LocalSetupError(
      `state database ${where}: its folder ${dirname(plan.state.path)} does not exist (create it, or fix state in the plan)`,
    );
  const code = (e as { code?: unknown }).code;
  if (typeof code === 'string' || e.name === 'SqliteError')
    return new LocalSetupError(`state database ${where}: cannot be opened: ${e.message.split('\n')[0]}`);
  return e;
}

export async function openMigration(
  planPath: string,
  opts: { clock?: Clock; transform?: boolean } = {},
): Promise<MigrationContext> {
  const plan = loadPlanOrThrow(planPath);
  // Before the state database is opened: a plan error leaves nothing open.
  const transformer = opts.transform ? await loadTransformerOrThrow(planPath, plan) : undefined;
  const store = await openStateOf(plan, opts).catch((e: unknown) => {
    throw stateOpenError(plan, e);
  });
  return {
    planPath,
    plan,
    store,
    ...(transformer ? { transformer } : {}),
    source: plan.source.type === 'dimse' ? peerOf(plan.source, plan) : undefined,
    target: plan.target.type === 'dimse' ? peerOf(plan.target, plan) : undefined,
    close: () => store.close(),
  };
}
