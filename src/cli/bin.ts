#!/usr/bin/env node
/** Entry point: `node dist/cli/bin.js …` (bin/pacshift.js) or `node --import tsx src/cli/bin.ts …` in development. */
import { Exit } from './exit-codes.js';
import { main } from './main.js';
import { installSignalHandlers, signalExitCode } from './signals.js';

installSignalHandlers();
main(process.argv.slice(2)).then(
  (code) => {
    // Stopped by a signal: its exit code, and now (a socket or timer left behind must not keep us).
    const sig = signalExitCode();
    if (sig !== undefined) process.exit(sig);
    process.exitCode = code;
  },
  (err: unknown) => {
    console.error(err instanceof Error ? err.stack : err);
    process.exitCode = signalExitCode() ?? Exit.internal;
  },
);
