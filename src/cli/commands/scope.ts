import { parseArgs } from 'node:util';
import { openMigration, PlanLoadError } from '../../run/context.js';
import { type ScopeSummary, applyScope, evaluateScope } from '../../scope/index.js';
import { parseDA } from '../../inventory/dates.js';
import { UsageError, progress } from '../common.js';
import { Exit } from '../exit-codes.js';

export const usage =
  'pacshift scope PLAN.yaml [--dry-run] [--as-of YYYY-MM-DD] [--list all|excluded|included] [--log-phi] [--json]';

const pad = (s: string, n: number) => (s.length >= n ? s : s + ' '.repeat(n - s.length));

/** The per-rule table: rule, action, studies, instances (no patient data). */
export function formatScope(s: ScopeSummary): string[] {
  const rows = s.rules.map((r) => [
    r.ruleId,
    r.source === 'retention' ? 'exclude (retention)' : r.action,
    String(r.studies),
    String(r.instances),
  ]);
  const head = ['rule', 'action', 'studies', 'instances'];
  const width = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) =>
    `  ${cells.map((c, i) => (i >= 2 ? c.padStart(width[i]!) : pad(c, width[i]!))).join('  ')}`;
  const out = [
    `scope${s.dryRun ? ' (dry run: nothing recorded)' : ''}: ${s.studies} studies, retention as of ${s.asOf}`,
    line(head),
    ...rows.map(line),
    `  in scope ${s.inScope.studies} studies (${s.inScope.instances} instances) · excluded ${s.excluded.studies} studies (${s.excluded.instances} instances)${s.vanished ? ` · ${s.vanished} vanished from the source (no job)` : ''}`,
  ];
  if (!s.dryRun) {
    out.push(
      `  ${s.changed} decisions changed · ${s.jobsCreated} jobs created · ${s.jobsExcluded} pending jobs excluded · ${s.jobsReopened} excluded jobs reopened`,
    );
    if (s.appointments)
      out.push(
        `  appointments: ${s.appointments.patients} patients within the lookahead, ${s.appointments.jobsBumped} jobs moved forward (${s.appointments.rows} rows, ${s.appointments.badDates} with an unreadable date)`,
      );
    if (s.appointmentsError) out.push(`  appointments NOT applied: ${s.appointmentsError.message}`);
  }
  return out;
}

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: {
      json: { type: 'boolean', default: false },
      'dry-run': { type: 'boolean', default: false },
      'as-of': { type: 'string' },
      list: { type: 'string' },
      'log-phi': { type: 'boolean', default: false },
    },
    allowPositionals: true,
  });
  const planPath = positionals[0];
  if (!planPath) throw new UsageError('missing the plan file');
  let asOf: string | undefined;
  if (values['as-of'] !== undefined) {
    asOf = values['as-of'].replace(/-/g, '');
    if (parseDA(asOf) === undefined) throw new UsageError('--as-of must be a date YYYY-MM-DD');
  }
  const list = values.list;
  if (list !== undefined && !['all', 'excluded', 'included'].includes(list))
    throw new UsageError('--list must be all, excluded or included');
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
  try {
    const s = await applyScope(ctx, {
      dryRun: values['dry-run'],
      asOf,
      onProgress: (p) => bar.update(`scope: ${p.studies} studies decided`),
    });
    bar.done();
    const phi = values['log-phi'] || ctx.plan.privacy.logPhi;
    const listed: Record<string, unknown>[] = [];
    if (list) {
      // One line per study: its UID and decision; patient data only when allowed.
      const asOfDay = parseDA(s.asOf)!;
      for (let after: string | undefined; ;) {
        const page = await ctx.store.pageStudies({ after, limit: 500 });
        if (page.length === 0) break;
        after = page.at(-1)!.studyUid;
        for (const st of page) {
          const v = evaluateScope(st, ctx.plan.scope, asOfDay);
          if ((list === 'excluded' && v.inScope) || (list === 'included' && !v.inScope)) continue;
          const item: Record<string, unknown> = {
            studyUid: st.studyUid,
            inScope: v.inScope,
            ruleId: v.ruleId,
          };
          if (phi)
            Object.assign(item, {
              patientId: st.patientId,
              patientName: st.patientName,
              studyDate: st.studyDate,
            });
          if (values.json) listed.push(item);
          else
            console.log(
              [
                st.studyUid,
                v.inScope ? 'include' : 'exclude',
                v.ruleId,
                ...(phi ? [st.patientId ?? '', st.patientName ?? '', st.studyDate ?? ''] : []),
              ].join('\t'),
            );
        }
      }
    }
    if (values.json) console.log(JSON.stringify({ ...s, ...(list ? { list: listed } : {}) }));
    else for (const l of formatScope(s)) console.log(l);
    if (s.studies === 0) {
      if (!values.json) console.error('scope: no inventoried study: run pacshift inventory first');
      return Exit.partial;
    }
    return s.appointmentsError ? Exit.partial : Exit.ok;
  } finally {
    bar.done();
    await ctx.close();
  }
}
