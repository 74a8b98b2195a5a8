import { num, numOrNull, type Row } from '../db.js';
import { BEFORE_STORED, type JobState } from '../job-state.js';
import type { Throughput } from '../types.js';
import type { OpContext } from './context.js';
import { stateList } from './_sql.js';

const REMAINING: Record<Throughput['phase'], { states: readonly JobState[]; column: string }> = {
  store: { states: BEFORE_STORED, column: 'stored_at' },
  retrieve: { states: ['pending', 'retrieving'], column: 'received_at' },
};

/**
 * Instances/s and MB/s over the last `windowMs` (or since the first sample, when the migration is
 * younger than the window), what remains, and an ETA at that rate.
 */
export async function throughput(
  ctx: OpContext,
  windowMs = 5 * 60_000,
  phase: Throughput['phase'] = 'store',
): Promise<Throughput> {
  if (!(windowMs > 0)) throw new RangeError('throughput: windowMs must be > 0');
  const now = ctx.clock.now();
  const since = now - windowMs;
  const w = await ctx.db.get<Row>(
    `SELECT COALESCE(SUM(instances), 0) AS n, COALESCE(SUM(bytes), 0) AS b FROM throughput_samples
     WHERE phase = ? AND at > ? AND at <= ?`,
    [phase, since, now],
  );
  const first = await ctx.db.get<Row>('SELECT MIN(at) AS t FROM throughput_samples WHERE phase = ?', [phase]);
  const firstAt = numOrNull(first?.t);
  const effective = firstAt !== null && firstAt > since ? Math.max(now - firstAt, 1000) : windowMs;
  const instances = num(w?.n);
  const bytes = num(w?.b);
  const instancesPerSec = (instances * 1000) / effective;
  const bytesPerSec = (bytes * 1000) / effective;

  const r = REMAINING[phase];
  const reported = await ctx.db.get<Row>(
    `SELECT COALESCE(SUM(COALESCE(s.num_instances, 0)), 0) AS n FROM jobs j JOIN studies s ON s.study_uid = j.study_uid
     WHERE j.kind = 'migrate' AND j.state IN (${stateList(r.states)})`,
  );
  const done = await ctx.db.get<Row>(
    `SELECT COUNT(*) AS n FROM instances i JOIN jobs j ON j.study_uid = i.study_uid AND j.kind = 'migrate'
     WHERE j.state IN (${stateList(r.states)}) AND i.${r.column} IS NOT NULL`,
  );
  const remainingInstances = Math.max(0, num(reported?.n) - num(done?.n));
  const remainingBytes = instances > 0 ? Math.round((remainingInstances * bytes) / instances) : null;
  const etaMs = instancesPerSec > 0 ? Math.round((remainingInstances / instancesPerSec) * 1000) : null;
  return {
    phase,
    windowMs,
    instances,
    bytes,
    instancesPerSec,
    bytesPerSec,
    mbPerSec: bytesPerSec / 1e6,
    remainingInstances,
    remainingBytes,
    etaMs,
  };
}
