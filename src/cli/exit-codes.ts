/** Exit codes of every pacshift command. */
export const Exit = {
  ok: 0,
  /** Ran, but something did not succeed (a file refused, a study failed, a check failed). */
  partial: 1,
  /** Bad command line or plan. */
  usage: 2,
  /** A peer could not be reached or refused the association. */
  peer: 3,
  /** Bug. */
  internal: 70,
} as const;
