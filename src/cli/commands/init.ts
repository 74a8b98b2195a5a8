import { existsSync, writeFileSync } from 'node:fs';
import { basename, extname } from 'node:path';
import { parseArgs } from 'node:util';
import { examplePlanYaml } from '../../plan/index.js';
import { UsageError } from '../common.js';
import { Exit } from '../exit-codes.js';

export const usage = 'pacshift init PLAN.yaml [--force] [--name NAME] [--stdout] [--json]';

/** The plan name from the file name when it is a valid name ("site-a.yaml" → "site-a"). */
function nameFrom(path: string): string | undefined {
  const n = basename(path, extname(path));
  return /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(n) ? n : undefined;
}

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: {
      force: { type: 'boolean', default: false },
      name: { type: 'string' },
      stdout: { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
    },
    allowPositionals: true,
  });
  const path = positionals[0];
  if (!path && !values.stdout)
    throw new UsageError('missing the plan file to write (e.g. pacshift init plan.yaml), or --stdout');
  if (positionals.length > 1) throw new UsageError('one plan file at a time');
  const name = values.name ?? (path ? nameFrom(path) : undefined);
  if (values.name !== undefined && !/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(values.name))
    throw new UsageError(
      '--name must be 1–64 letters, digits, ".", "-" or "_", starting with a letter or digit',
    );
  const text = examplePlanYaml(name ? { name } : {});
  if (values.stdout) {
    process.stdout.write(text);
    return Exit.ok;
  }
  if (existsSync(path!) && !values.force) {
    const message = `${path} exists: not overwritten (use --force to replace it)`;
    if (values.json) console.log(JSON.stringify({ ok: false, path, error: message }));
    else console.error(`init: ${message}`);
    return Exit.partial;
  }
  try {
    writeFileSync(path!, text, { flag: values.force ? 'w' : 'wx' });
  } catch (e) {
    const message = `${path}: cannot be written (${(e as NodeJS.ErrnoException).code ?? 'error'})`;
    if (values.json) console.log(JSON.stringify({ ok: false, path, error: message }));
    else console.error(`init: ${message}`);
    return Exit.partial;
  }
  if (values.json)
    console.log(JSON.stringify({ ok: true, path, name: name ?? null, bytes: Buffer.byteLength(text) }));
  else
    console.log(
      `wrote ${path}: every option with its default, an example and why; fill in source and target, then run pacshift check ${path}`,
    );
  return Exit.ok;
}
