/**
 * `pacshift check PLAN`: is the plan ready to run? Nothing is moved or recorded.
 *
 * | check            | pass means                                                                                     |
 * | ---------------- | ---------------------------------------------------------------------------------------------- |
 * | plan             | the plan loads and validates (else exit 2 with every error and its fix)                        |
 * | files            | every file and folder the plan names exists                                                    |
 * | state            | the state database opens at this pacshift's schema (created empty if it does not exist yet)    |
 * | listener         | local.host:local.port can be bound (C-MOVE sub-operations and commitment reports arrive there) |
 * | source echo/find | the source accepts our association, C-ECHO and Study Root C-FIND                               |
 * | move-destination | the source knows our AE title as a move destination (see src/inventory/source-check.ts for      |
 * |                  | exactly what this proves and what it cannot) — or, with retrieve: c-get, that C-GET is accepted |
 * | move-round-trip  | with --move-test: one real instance moved to our listener arrived (C-MOVE works end to end)   |
 * | target echo      | the target accepts our association and C-ECHO                                                  |
 * | target qido      | a DICOMweb target answers QIDO-RS GET /studies?limit=1 with the plan's credentials             |
 * | folders          | a folder source is readable; a folder target is writable (or can be created)                  |
 * | appointments     | the appointments CSV has the configured columns                                                |
 *
 * Exit codes: 0 every check passed (warnings allowed), 1 a check failed, 2 the plan is invalid,
 * 3 the source or target could not be reached at all.
 */
import { constants, readFileSync } from 'node:fs';
import { access, readdir, stat } from 'node:fs/promises';
import { createServer } from 'node:net';
import { dirname } from 'node:path';
import { parseArgs } from 'node:util';
import {
  type ListenerSettings,
  type SourceCheck,
  checkEcho,
  checkMoveRoundTrip,
  checkSource,
} from '../../inventory/source-check.js';
import { checkPlanFiles, formatPlanErrors, loadPlan, type Plan } from '../../plan/index.js';
import { openStateOf, peerOf } from '../../run/context.js';
import { dayOf, readAppointments } from '../../scope/priority.js';
import { checkDicomwebTarget } from '../../transfer/targets/check.js';
import { MissingSecretError, dicomwebEndpoint } from '../../transfer/targets/index.js';
import { UsageError, progress } from '../common.js';
import { Exit } from '../exit-codes.js';

export const usage = 'pacshift check PLAN.yaml [--move-test] [--json]';

type Check = SourceCheck;

const timed = async (name: string, f: () => Promise<Omit<Check, 'name' | 'ms'>>): Promise<Check> => {
  const t0 = performance.now();
  const r = await f();
  return { name, ...r, ms: Math.round(performance.now() - t0) };
};

function checkListener(plan: Plan): Promise<Check> {
  return timed('listener', async () => {
    const { host, port } = plan.local;
    const needed = plan.source.type === 'dimse' && plan.source.retrieve === 'c-move';
    const code = await new Promise<string | undefined>((resolve) => {
      const srv = createServer();
      srv.once('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? 'error'));
      srv.listen(port, host, () => srv.close(() => resolve(undefined)));
    });
    if (!code) return { outcome: 'pass', detail: `${host}:${port} can be bound (${plan.local.aeTitle})` };
    const why =
      code === 'EADDRINUSE'
        ? 'is in use (another pacshift receive or migrate running? another service?)'
        : code === 'EACCES'
          ? 'needs privileges (ports below 1024): use 11112'
          : `cannot be bound (${code})`;
    return {
      outcome: needed ? 'fail' : 'warn',
      detail: `${host}:${port} ${why}${needed ? '' : '; only needed for C-MOVE and commitment reports'}`,
    };
  });
}

async function nearestExisting(path: string): Promise<string> {
  for (let p = path; ; p = dirname(p)) {
    try {
      await stat(p);
      return p;
    } catch {
      if (dirname(p) === p) return p;
    }
  }
}

function checkFolder(name: string, path: string, mode: 'read' | 'write'): Promise<Check> {
  return timed(name, async () => {
    if (mode === 'read') {
      try {
        const entries = await readdir(path);
        return {
          outcome: entries.length > 0 ? 'pass' : 'warn',
          detail: `${path} is readable (${entries.length} entries at its top)`,
        };
      } catch (e) {
        return {
          outcome: 'fail',
          detail: `${path} cannot be read (${(e as NodeJS.ErrnoException).code ?? 'error'})`,
        };
      }
    }
    const existing = await nearestExisting(path);
    try {
      await access(existing, constants.W_OK);
      return {
        outcome: 'pass',
        detail: existing === path ? `${path} is writable` : `${path} can be created (in ${existing})`,
      };
    } catch {
      return { outcome: 'fail', detail: `${existing === path ? path : existing} is not writable` };
    }
  });
}

/** Our listener as the plan describes it (for the round trip). */
function listenerOf(plan: Plan): ListenerSettings {
  const l = plan.local;
  return {
    aeTitle: l.aeTitle,
    host: l.host,
    port: l.port,
    allow: l.allow.map((a) => ({ aeTitle: a.aeTitle, ...(a.host ? { hosts: [a.host] } : {}) })),
    ...(l.tls
      ? {
          tls: {
            cert: readFileSync(l.tls.cert),
            key: readFileSync(l.tls.key),
            ...(l.tls.ca ? { ca: readFileSync(l.tls.ca) } : {}),
            requireClientCertificate: l.tls.requireClientCert,
          },
        }
      : {}),
  };
}

async function runChecks(
  plan: Plan,
  planPath: string,
  moveTest: boolean,
  onStep: (name: string) => void,
): Promise<Check[]> {
  const checks: Check[] = [];
  const step = async (name: string, f: () => Promise<Check | Check[]>) => {
    onStep(name);
    const r = await f();
    checks.push(...(Array.isArray(r) ? r : [r]));
  };
  await step('files', () =>
    timed('files', async () => {
      const errors = checkPlanFiles(plan, planPath);
      return errors.length === 0
        ? { outcome: 'pass', detail: 'every file and folder the plan names exists' }
        : { outcome: 'fail', detail: formatPlanErrors(errors) };
    }),
  );
  await step('state', () =>
    timed('state', async () => {
      try {
        const store = await openStateOf(plan);
        await store.close();
        return {
          outcome: 'pass',
          detail: plan.state.type === 'sqlite' ? `${plan.state.path} opens` : 'PostgreSQL opens',
        };
      } catch (e) {
        return {
          outcome: 'fail',
          detail: `the state database cannot be opened: ${(e as Error).message.split('\n')[0]}`,
        };
      }
    }),
  );
  await step('listener', () => checkListener(plan));
  const src = plan.source;
  if (src.type === 'dimse') {
    await step('source', async () =>
      (
        await checkSource(peerOf(src, plan), {
          model: src.queryModel === 'patient-root' ? 'patient' : 'study',
          retrieve: src.retrieve,
          moveDestination: src.moveDestination,
        })
      ).map((c) => ({ ...c, name: `source ${c.name}` })),
    );
    const reachable = !checks.some((c) => c.unreachable);
    if (moveTest && reachable && src.retrieve === 'c-move')
      await step('source move-round-trip', async () => ({
        ...(await checkMoveRoundTrip(peerOf(src, plan), {
          model: src.queryModel === 'patient-root' ? 'patient' : 'study',
          destination: src.moveDestination ?? plan.local.aeTitle,
          listen: listenerOf(plan),
        })),
        name: 'source move-round-trip',
      }));
  } else await step('source folder', () => checkFolder('source folder', src.path, 'read'));
  const tgt = plan.target;
  if (tgt.type === 'dimse') await step('target echo', () => checkEcho(peerOf(tgt, plan), 'target echo'));
  else if (tgt.type === 'dicomweb')
    await step('target qido', () =>
      timed('target qido', async () => {
        try {
          return await checkDicomwebTarget(dicomwebEndpoint(tgt));
        } catch (e) {
          if (e instanceof MissingSecretError) return { outcome: 'fail', detail: e.message };
          throw e;
        }
      }),
    );
  else await step('target folder', () => checkFolder('target folder', tgt.path, 'write'));
  const appt = plan.transfer.appointments;
  if (appt)
    await step('appointments', () =>
      timed('appointments', async () => {
        const r = readAppointments(appt, dayOf(Date.now()));
        if (!r.ok) return { outcome: 'fail', detail: r.error.message };
        const v = r.value;
        return {
          outcome: v.badDates.length > 0 ? 'warn' : 'pass',
          detail: `${v.rows} rows, ${v.upcoming.size} patients within ${appt.lookaheadDays} days${v.badDates.length ? `, ${v.badDates.length} rows with a date not in ${appt.dateFormat} (lines ${v.badDates.slice(0, 5).join(', ')})` : ''}`,
        };
      }),
    );
  return checks;
}

const MARK = { pass: 'ok  ', warn: 'WARN', fail: 'FAIL' } as const;

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: { json: { type: 'boolean', default: false }, 'move-test': { type: 'boolean', default: false } },
    allowPositionals: true,
  });
  const planPath = positionals[0];
  if (!planPath) throw new UsageError('missing the plan file');
  const loaded = loadPlan(planPath);
  if (!loaded.ok) {
    if (values.json)
      console.log(JSON.stringify({ ok: false, plan: { outcome: 'fail', errors: loaded.error } }));
    else console.error(`plan: ${planPath} is not valid:\n${formatPlanErrors(loaded.error)}`);
    return Exit.usage;
  }
  const bar = progress(!values.json);
  let checks: Check[];
  try {
    checks = await runChecks(loaded.value, planPath, values['move-test'] ?? false, (name) =>
      bar.update(`check: ${name}…`),
    );
  } finally {
    bar.done();
  }
  const ok = checks.every((c) => c.outcome !== 'fail');
  if (values.json) console.log(JSON.stringify({ ok, plan: { outcome: 'pass' }, checks }));
  else {
    console.log(`${MARK.pass}  plan              ${planPath} is valid`);
    for (const c of checks)
      console.log(`${MARK[c.outcome]}  ${c.name.padEnd(16)}  ${c.detail}${c.ms >= 5 ? ` (${c.ms} ms)` : ''}`);
    console.log(ok ? 'ready' : 'NOT ready: fix what failed above');
  }
  if (checks.some((c) => c.unreachable)) return Exit.peer;
  return ok ? Exit.ok : Exit.partial;
}
