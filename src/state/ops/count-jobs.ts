import { num, type Row } from '../db.js';
import { JOB_STATES, type JobState } from '../job-state.js';
import type { OpContext } from './context.js';

/** Jobs per state, every state present (0 when none). */
export async function countJobsByState(ctx: OpContext, kind = 'migrate'): Promise<Record<JobState, number>> {
  const out = Object.fromEntries(JOB_STATES.map((s) => [s, 0])) as Record<JobState, number>;
  const rows = await ctx.db.all<Row>('SELECT state, COUNT(*) AS n FROM jobs WHERE kind = ? GROUP BY state', [
    kind,
  ]);
  for (const r of rows) out[String(r.state) as JobState] = num(r.n);
  return out;
}
