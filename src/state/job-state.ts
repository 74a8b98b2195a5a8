/**
 * Job state as an ordered enum, defined as data.
 *
 * A migrate job moves forward along PROGRESS_STATES, never backwards:
 *   pending < retrieving < retrieved < storing < stored < verifying < verified
 * and may leave that line for one of the terminal failure states:
 *   failed   a non-retryable failure (configuration, quarantine-worthy data, ...), needs a human
 *   dead     the dead letter: retryable failures (or lease expiries) exhausted max_attempts
 *   excluded the study was excluded by scope after its job was created
 *
 * A retryable failure keeps the job in the state it had reached (e.g. `storing`) with a later
 * next_run_at: the next claimer resumes there. The same holds for a job whose worker died: its
 * lease expires and the next claimer resumes at the recorded state.
 *
 * Migration 002 seeds the same table into `job_states`; a test keeps the two equal.
 */
export const PROGRESS_STATES = [
  'pending',
  'retrieving',
  'retrieved',
  'storing',
  'stored',
  'verifying',
  'verified',
] as const;
export const FAILURE_STATES = ['failed', 'dead', 'excluded'] as const;

export type ProgressState = (typeof PROGRESS_STATES)[number];
export type FailureState = (typeof FAILURE_STATES)[number];
export type JobState = ProgressState | FailureState;

export interface JobStateInfo {
  readonly state: JobState;
  /** Position on the progress line; failure states rank after every progress state. */
  readonly rank: number;
  /** No claim, advance or failure moves a job out of a terminal state (only an explicit requeue). */
  readonly terminal: boolean;
}

export const JOB_STATE_TABLE: readonly JobStateInfo[] = [
  ...PROGRESS_STATES.map((state, rank) => ({ state, rank, terminal: state === 'verified' })),
  ...FAILURE_STATES.map((state, i) => ({ state, rank: 100 + i, terminal: true })),
];

export const JOB_STATES: readonly JobState[] = JOB_STATE_TABLE.map((s) => s.state);

const INFO = new Map<string, JobStateInfo>(JOB_STATE_TABLE.map((s) => [s.state, s]));

export function isJobState(s: string): s is JobState {
  return INFO.has(s);
}

export function isProgressState(s: string): s is ProgressState {
  return (PROGRESS_STATES as readonly string[]).includes(s);
}

export function isTerminal(s: JobState): boolean {
  return stateInfo(s).terminal;
}

export function stateInfo(s: JobState): JobStateInfo {
  const info = INFO.get(s);
  if (!info) throw new TypeError(`unknown job state ${JSON.stringify(s)}`);
  return info;
}

/** Negative when a comes before b on the progress line, 0 when equal, positive after. */
export function compareStates(a: JobState, b: JobState): number {
  return stateInfo(a).rank - stateInfo(b).rank;
}

/** States a claimer may pick up (non-terminal). */
export const RUNNABLE_STATES: readonly JobState[] = JOB_STATE_TABLE.filter((s) => !s.terminal).map(
  (s) => s.state,
);
/** States after which a study's data is confirmed stored at the target. */
export const STORED_OR_LATER: readonly JobState[] = ['stored', 'verifying', 'verified'];
/** Runnable states before `stored`: data still to move. */
export const BEFORE_STORED: readonly JobState[] = ['pending', 'retrieving', 'retrieved', 'storing'];

export type TransitionCheck =
  | { readonly ok: true; readonly changed: boolean }
  | { readonly ok: false; readonly reason: 'backwards' | 'terminal' | 'not-a-progress-state' };

/**
 * May a job in `from` be advanced to `to`? Forward along PROGRESS_STATES only; advancing to the state
 * the job is already in is an idempotent no-op (a resumed worker re-announcing its phase).
 */
export function checkAdvance(from: JobState, to: JobState): TransitionCheck {
  if (!isProgressState(to)) return { ok: false, reason: 'not-a-progress-state' };
  if (from === to) return { ok: true, changed: false };
  if (isTerminal(from)) return { ok: false, reason: 'terminal' };
  if (compareStates(to, from) < 0) return { ok: false, reason: 'backwards' };
  return { ok: true, changed: true };
}
