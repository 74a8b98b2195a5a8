/**
 * Exit codes of every pacshift command: one table, each code with its meaning. Commands return
 * `Exit.<name>`, never a literal; the README's exit code paragraph is checked against `exitCodeParagraph()`
 * (test/unit/cli/exit-codes.test.ts).
 */

export interface ExitCodeEntry {
  readonly code: number;
  /** What the code means, in the words the README and `pacshift --help` print. */
  readonly meaning: string;
}

/** The table. Order is the order of the README's paragraph. */
export const EXIT_CODES = {
  /** Everything the command was asked to do succeeded (for `migrate`: every instance verified, nothing open). */
  ok: { code: 0, meaning: 'all succeeded' },
  /** Ran to its end, but something did not succeed: a file refused, a study failed or quarantined, a check failed, an exception left open. */
  partial: {
    code: 1,
    meaning: 'something did not (per-file/per-study causes are printed)',
  },
  /** Bad command line or plan, or a command run before what it needs (e.g. `analyze` before any inventory). */
  usage: { code: 2, meaning: 'usage or plan error' },
  /** A peer could not be reached, did not speak DICOM, or refused the association or our credentials. */
  peer: { code: 3, meaning: 'peer unreachable or refused' },
  /** The local environment or a bug: a port in use, a state folder missing, an unexpected error. */
  internal: {
    code: 70,
    meaning: 'local or internal error (a port in use, a missing state folder, a bug)',
  },
  /** Stopped by SIGINT (Ctrl-C), 128 + 2: leases released, resumable. */
  sigint: { code: 130, meaning: 'stopped by SIGINT' },
  /** Stopped by SIGTERM, 128 + 15: leases released, resumable. */
  sigterm: { code: 143, meaning: 'stopped by SIGTERM' },
} as const satisfies Record<string, ExitCodeEntry>;

export type ExitName = keyof typeof EXIT_CODES;
export type ExitCode = (typeof EXIT_CODES)[ExitName]['code'];

/** `Exit.ok`, `Exit.partial`, … as numbers: what a command's `run` returns. */
export const Exit = Object.fromEntries(Object.entries(EXIT_CODES).map(([name, e]) => [name, e.code])) as {
  readonly [K in ExitName]: (typeof EXIT_CODES)[K]['code'];
};

/** The conventional exit code of a process stopped by `signal` (128 + its number). */
export function exitForSignal(signal: 'SIGINT' | 'SIGTERM'): ExitCode {
  return signal === 'SIGINT' ? Exit.sigint : Exit.sigterm;
}

/** The meaning of `code`, or undefined for a code outside the table. */
export function exitMeaning(code: number): string | undefined {
  return Object.values(EXIT_CODES).find((e) => e.code === code)?.meaning;
}

/** The README's sentence: "Exit codes: 0 all succeeded, 1 …, 143 stopped by SIGTERM." */
export function exitCodeParagraph(): string {
  const parts = Object.values(EXIT_CODES).map((e) => `${e.code} ${e.meaning}`);
  return `Exit codes: ${parts.join(', ')}.`;
}
