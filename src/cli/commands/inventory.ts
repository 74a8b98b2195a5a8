import { parseArgs } from 'node:util';
import { type InventorySummary, type UndatedKey, runInventory } from '../../inventory/index.js';
import type { Store } from '../../state/index.js';
import { openMigration, PlanLoadError } from '../../run/context.js';
import { UsageError, progress } from '../common.js';
import { Exit } from '../exit-codes.js';

export const usage =
  'pacshift inventory PLAN.yaml [--undated-keys ModalitiesInStudy,PatientID,PatientName] [--note TEXT] [--json]';

const UNDATED_KEYS: readonly UndatedKey[] = ['ModalitiesInStudy', 'PatientID', 'PatientName'];

const changes = (c: InventorySummary['changes']['study']): string =>
  `${c.new} new, ${c.vanished} vanished, ${c.reappeared} reappeared, ${c['counts-changed']} with changed counts, ${c['attributes-changed']} with changed attributes`;

/** The summary in words: counts and UIDs only, never patient data. */
export function formatSummary(s: InventorySummary, source: string): string[] {
  const lines = [
    `inventory run ${s.runId} of ${source}: ${s.complete ? 'COMPLETE' : s.stopped ? 'STOPPED (incomplete)' : `INCOMPLETE: ${[s.uncoveredQueries.length > 0 ? `${s.uncoveredQueries.length} recorded queries not covered` : '', s.findings['inventory.match-without-uid'] ? `${s.findings['inventory.match-without-uid']} answer(s) without a UID, not listed` : ''].filter(Boolean).join('; ')}`}`,
    `  found      ${s.studies} studies · ${s.series} series · ${s.instances} instances · ${s.undatedStudies} studies without a StudyDate`,
  ];
  if (s.queries) {
    const q = s.queries;
    lines.push(
      `  queries    ${q.issued} issued · ${q.complete} complete · ${q.capped} capped (split) · ${q.failed} failed · ${q.residual} with parts that missed studies` +
        ` · study level: ${q.studyLevel.all} root, ${q.studyLevel.dated} dated, ${q.studyLevel.undated} undated · ${q.associations} associations`,
    );
    if (q.droppedKeys.length > 0)
      lines.push(`  refused    study-level keys ${q.droppedKeys.join(', ')} (taken from the series)`);
  }
  if (s.files)
    lines.push(
      `  files      ${s.files.read} read · ${s.files.unreadable} unreadable · ${s.files.duplicates} duplicate copies · ${s.files.skipped} skipped (DICOMDIR)`,
    );
  if (s.exceptions.recorded > 0 || s.exceptions.resolved > 0)
    lines.push(
      `  exceptions ${s.exceptions.recorded} recorded (open until fixed at the source or accepted; pacshift report lists them) · ${s.exceptions.resolved} resolved (no longer found)`,
    );
  lines.push(`  studies    ${changes(s.changes.study)}`);
  lines.push(`  series     ${changes(s.changes.series)}`);
  lines.push(`  instances  ${changes(s.changes.instance)}`);
  const unchecked = (['study', 'series', 'instance'] as const).filter((l) => !s.vanishChecked[l]);
  if (unchecked.length > 0)
    lines.push(`  vanished   not checked for ${unchecked.join(', ')} (that level was not listed completely)`);
  const findings = Object.entries(s.findings);
  if (findings.length > 0)
    lines.push(
      `  findings   ${findings.map(([k, n]) => `${k.replace(/^inventory\./, '')} ${n}`).join(' · ')} (details: audit events)`,
    );
  if (!s.complete && s.uncoveredQueries.length > 0)
    lines.push(
      `  not covered: queries ${s.uncoveredQueries.slice(0, 20).join(', ')}${s.uncoveredQueries.length > 20 ? ' …' : ''}`,
    );
  lines.push(`  took       ${(s.durationMs / 1000).toFixed(1)} s`);
  return lines;
}

/** The source was never reached: every query failed and no association opened. */
export const sourceUnreachable = (s: InventorySummary): boolean =>
  s.queries !== undefined && s.queries.associations === 0 && s.queries.failed > 0;

/**
 * "source OLDPACS@host:port could not be reached: <cause>": the cause of the last failed query (its
 * audit event), which names the peer and what happened (refused, closed, not DICOM, timeout).
 */
export async function unreachableLine(store: Store, source: string): Promise<string> {
  let last: { error?: unknown } | undefined;
  for (let afterId = 0; ;) {
    const page = await store.listEvents({ kind: 'inventory.query-failed', afterId, limit: 10_000 });
    if (page.length === 0) break;
    last = page[page.length - 1]!.detail as { error?: unknown };
    afterId = page[page.length - 1]!.id;
  }
  const cause = typeof last?.error === 'string' ? last.error : 'every query failed';
  return `source ${source} could not be reached: ${cause.startsWith(source) ? cause.slice(source.length + 2) : cause}`;
}

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: {
      json: { type: 'boolean', default: false },
      note: { type: 'string' },
      'undated-keys': { type: 'string' },
    },
    allowPositionals: true,
  });
  const planPath = positionals[0];
  if (!planPath) throw new UsageError('missing the plan file');
  let undatedKeys: UndatedKey[] | undefined;
  if (values['undated-keys'] !== undefined) {
    const keys = values['undated-keys']
      .split(',')
      .map((k) => k.trim())
      .filter(Boolean);
    const bad = keys.filter((k) => !UNDATED_KEYS.includes(k as UndatedKey));
    if (bad.length > 0)
      throw new UsageError(`--undated-keys: ${bad.join(', ')} not one of ${UNDATED_KEYS.join(', ')}`);
    undatedKeys = keys as UndatedKey[];
  }
  let ctx;
  try {
    ctx = await openMigration(planPath);
  } catch (e) {
    if (e instanceof PlanLoadError) {
      console.error(e.message);
      return Exit.usage;
    }
    throw e;
  }
  const bar = progress(!values.json);
  const ac = new AbortController();
  const onSigint = () => ac.abort();
  process.once('SIGINT', onSigint);
  try {
    const s = await runInventory(ctx, {
      undatedKeys,
      note: values.note,
      signal: ac.signal,
      onWait: () =>
        console.error('another process is running an inventory of this migration: waiting for it'),
      onProgress: (p) =>
        bar.update(
          p.totalFiles !== undefined
            ? `inventory: ${p.files}/${p.totalFiles} files, ${p.instances} instances`
            : `inventory: ${p.studiesFound} studies found, ${p.studiesListed} listed · ${p.series} series · ${p.instances} instances · ${p.queries} queries (${p.capped} capped)`,
        ),
    });
    bar.done();
    const src = ctx.plan.source;
    const source = src.type === 'dimse' ? `${src.calledAe}@${src.host}:${src.port}` : src.path;
    if (values.json) console.log(JSON.stringify(s));
    else for (const l of formatSummary(s, source)) console.log(l);
    if (sourceUnreachable(s)) {
      console.error(`inventory: ${await unreachableLine(ctx.store, source)}`);
      return Exit.peer;
    }
    return s.complete ? Exit.ok : Exit.partial;
  } finally {
    bar.done();
    process.removeListener('SIGINT', onSigint);
    await ctx.close();
  }
}
