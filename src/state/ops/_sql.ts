/** SQL fragments built from the ordered enum (job-state.ts), so SQL and TypeScript agree. */
import { RUNNABLE_STATES, type JobState } from '../job-state.js';

export function stateList(states: readonly JobState[]): string {
  return states.map((s) => `'${s}'`).join(', ');
}

/** Non-terminal states: a job here is claimable once unleased (or its lease expired) and due. */
export const RUNNABLE_SQL = stateList(RUNNABLE_STATES);

/** The claim order: on-demand bumps, then priority, then newest study first. */
export const CLAIM_ORDER_SQL = 'bumped_priority DESC, priority DESC, study_date DESC NULLS LAST, id';
