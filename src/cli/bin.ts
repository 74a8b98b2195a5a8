#!/usr/bin/env node
/** Entry point: `node dist/cli/bin.js …` (bin/pacshift.js) or `node --import tsx src/cli/bin.ts …` in development. */
import { Exit } from './exit-codes.js';
import { main } from './main.js';

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    console.error(err instanceof Error ? err.stack : err);
    process.exitCode = Exit.internal;
  },
);
