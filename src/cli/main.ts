import { LocalSetupError, PlanLoadError } from '../run/errors.js';
import { UsageError, listenError } from './common.js';
import { Exit, exitCodeParagraph } from './exit-codes.js';

type Command = { run(argv: string[]): Promise<number>; usage: string; details?: string };

/** Commands load lazily: `pacshift echo` does not pay for the pipeline's modules. */
const COMMANDS: Record<string, () => Promise<Command>> = {
  echo: () => import('./commands/echo.js'),
  find: () => import('./commands/find.js'),
  store: () => import('./commands/store.js'),
  receive: () => import('./commands/receive.js'),
  verify: () => import('./commands/verify.js'),
  status: () => import('./commands/status.js'),
  report: () => import('./commands/report.js'),
  serve: () => import('./commands/serve.js'),
  migrate: () => import('./commands/migrate.js'),
  prioritize: () => import('./commands/prioritize.js'),
  demo: () => import('./commands/demo.js'),
  init: () => import('./commands/init.js'),
  check: () => import('./commands/check.js'),
  inventory: () => import('./commands/inventory.js'),
  scope: () => import('./commands/scope.js'),
  preflight: () => import('./commands/preflight.js'),
  sample: () => import('./commands/sample.js'),
  analyze: () => import('./commands/analyze.js'),
  audit: () => import('./commands/audit.js'),
};

export function registerCommand(name: string, loader: () => Promise<Command>): void {
  COMMANDS[name] = loader;
}

async function help(): Promise<string> {
  const lines = ['pacshift — methodical DICOM archive migration', '', 'commands:'];
  for (const [, load] of Object.entries(COMMANDS)) lines.push(`  ${(await load()).usage}`);
  lines.push('', exitCodeParagraph());
  return lines.join('\n');
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    console.log(await help());
    return name ? Exit.ok : Exit.usage;
  }
  const load = COMMANDS[name];
  if (!load) {
    console.error(`unknown command: ${name}\n\n${await help()}`);
    return Exit.usage;
  }
  const cmd = await load();
  if (rest.length === 1 && (rest[0] === '--help' || rest[0] === '-h')) {
    console.log(`usage: ${cmd.usage}${cmd.details ? `\n\n${cmd.details}` : ''}`);
    return Exit.ok;
  }
  try {
    return await cmd.run(rest);
  } catch (e) {
    if (e instanceof PlanLoadError) {
      // The message names each path and its fix, never the values (src/plan/errors.ts).
      console.error(e.message);
      return Exit.usage;
    }
    if (e instanceof LocalSetupError) {
      // One line naming the path or port (src/run/errors.ts): the environment, not a bug.
      console.error(`${name}: ${e.message}`);
      return Exit.internal;
    }
    const listen = listenError('port', String((e as { port?: unknown }).port ?? '?'), e);
    if (listen instanceof LocalSetupError) {
      // A listener a command opened deep inside (a retrieve's C-MOVE destination) on a port taken.
      console.error(`${name}: ${listen.message}`);
      return Exit.internal;
    }
    if (e instanceof UsageError || (e as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      console.error(`${name}: ${(e as Error).message}\nusage: ${cmd.usage}`);
      return Exit.usage;
    }
    throw e;
  }
}
