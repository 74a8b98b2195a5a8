/**
 * applyScope over the corpus's inventoried studies (folder source, read in place): decisions recorded
 * with their rule, per-rule table, jobs in priority order, appointment bumps, re-decisions.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addYears, daysFromCivil, formatDA, parseDA } from '../../../src/inventory/dates.js';
import { runInventory } from '../../../src/inventory/index.js';
import { type MigrationContext, openMigration } from '../../../src/run/context.js';
import { DEFAULT_RULE_ID, applyScope } from '../../../src/scope/index.js';
import { ManualClock, type Study } from '../../../src/state/index.js';
import { corpusDir, hasCorpus } from '../../harness/corpus.js';
import { makeTempDir, removeTempDir } from '../../harness/tmp.js';

const SOURCE = () =>
  `source: { type: folder, path: ${JSON.stringify(corpusDir())} }\ntarget: { type: folder, path: ./target }\n`;
const RULES = `scope:
  retentionAsOf: 2026-03-15
  rules:
    - { id: exclude-sr, action: exclude, description: structured reports stay, match: { modality: [SR] } }
    - { id: include-2000s, action: include, match: { studyDate: { from: 2000-01-01, to: 2009-12-31 } } }
    - { id: exclude-test, action: exclude, match: { patientName: 'TEST*' } }
  retention:
    - { id: keep-20y, keepYears: 20 }
`;

/** The rules above, written out plainly for the study rows the inventory holds. */
function expected(s: Study, testNames = /^test/i): { ruleId: string; inScope: boolean } {
  const mods = (s.modalitiesInStudy ?? '').split('\\');
  const day = parseDA(s.studyDate);
  const expired = day !== undefined && addYears(day, 20) < parseDA('20260315')!;
  const keep = (ruleId: string) =>
    expired ? { ruleId: 'keep-20y', inScope: false } : { ruleId, inScope: true };
  if (mods.includes('SR')) return { ruleId: 'exclude-sr', inScope: false };
  if (day !== undefined && day >= parseDA('20000101')! && day <= parseDA('20091231')!)
    return keep('include-2000s');
  if (testNames.test(s.patientName ?? '')) return { ruleId: 'exclude-test', inScope: false };
  return keep(DEFAULT_RULE_ID);
}

async function allStudies(ctx: MigrationContext): Promise<Study[]> {
  const out: Study[] = [];
  for (
    let after: string | undefined, page;
    (page = await ctx.store.pageStudies({ after, limit: 200 })).length > 0;
    after = page.at(-1)!.studyUid
  )
    out.push(...page);
  return out;
}

describe.skipIf(!hasCorpus())('applyScope over the inventoried corpus', () => {
  let dir: string;
  let ctx: MigrationContext;
  let studies: Study[];
  const clock = new ManualClock(Date.UTC(2026, 2, 15, 9));
  const open = async (name: string, body: string): Promise<MigrationContext> => {
    writeFileSync(join(dir, name), `name: scope-test\nversion: 1\n${SOURCE()}${body}`);
    return openMigration(join(dir, name), { clock });
  };

  beforeAll(async () => {
    dir = makeTempDir('scope');
    ctx = await open('plan.yaml', RULES);
    await runInventory(ctx);
    studies = await allStudies(ctx);
  });
  afterAll(async () => {
    await ctx?.close();
    removeTempDir(dir);
  });

  it('a dry run decides and counts, and writes nothing', async () => {
    const s = await applyScope(ctx, { dryRun: true });
    expect(s.dryRun).toBe(true);
    expect(s.studies).toBe(studies.length);
    expect(await ctx.store.getScopeDecision(studies[0]!.studyUid)).toBeUndefined();
    expect(await ctx.store.countJobsByState()).toMatchObject({ pending: 0, excluded: 0 });
  });

  it('records every decision with its rule, prints what each rule decided, and creates jobs for the in-scope studies', async () => {
    const s = await applyScope(ctx);
    const want = new Map(studies.map((st) => [st.studyUid, expected(st)]));
    for (const st of studies) {
      const d = await ctx.store.getScopeDecision(st.studyUid);
      expect({ uid: st.studyUid, inScope: d?.inScope, ruleId: d?.ruleId }).toEqual({
        uid: st.studyUid,
        ...want.get(st.studyUid),
      });
    }
    // The table: every rule in plan order, the default, the retention policy; studies and instances each decided.
    expect(s.rules.map((r) => r.ruleId)).toEqual([
      'exclude-sr',
      'include-2000s',
      'exclude-test',
      DEFAULT_RULE_ID,
      'keep-20y',
    ]);
    for (const r of s.rules) {
      const mine = studies.filter((st) => want.get(st.studyUid)!.ruleId === r.ruleId);
      expect({ rule: r.ruleId, studies: r.studies, instances: r.instances }).toEqual({
        rule: r.ruleId,
        studies: mine.length,
        instances: mine.reduce((a, st) => a + (st.numInstances ?? 0), 0),
      });
    }
    expect(s.rules.find((r) => r.ruleId === 'exclude-sr')).toMatchObject({
      action: 'exclude',
      source: 'rule',
      description: 'structured reports stay',
    });
    expect(s.rules.find((r) => r.ruleId === 'keep-20y')!.studies).toBeGreaterThan(0);
    const inScope = studies.filter((st) => want.get(st.studyUid)!.inScope);
    expect(s.inScope.studies).toBe(inScope.length);
    expect(s.excluded.studies).toBe(studies.length - inScope.length);
    expect(s.jobsCreated).toBe(inScope.length);
    expect(s.changed).toBe(studies.length);
    expect((await ctx.store.countJobsByState()).pending).toBe(inScope.length);
    // Nothing in the summary is patient data.
    expect(JSON.stringify(s)).not.toMatch(/\^|Anonymi/i);
  });

  it('claims jobs newest study first, undated last', async () => {
    const jobs = await ctx.store.claimJobs('test', 10_000, 60_000);
    const dates = jobs.map(
      (j) => parseDA(studies.find((st) => st.studyUid === j.studyUid)!.studyDate) ?? -Infinity,
    );
    expect(dates.length).toBeGreaterThan(10);
    for (let i = 1; i < dates.length; i++) expect(dates[i]!).toBeLessThanOrEqual(dates[i - 1]!);
    for (const j of jobs) await ctx.store.releaseJob(j.id, 'test');
  });

  it('re-deciding with changed rules excludes pending jobs and says how many decisions changed', async () => {
    const stricter = await open(
      'plan-2.yaml',
      RULES.replace("match: { patientName: 'TEST*' }", "match: { patientName: 'A*' }"),
    );
    try {
      const before = new Map(studies.map((st) => [st.studyUid, expected(st)]));
      const after = new Map(studies.map((st) => [st.studyUid, expected(st, /^a/i)]));
      const s = await applyScope(stricter);
      const differs = studies.filter(
        (st) => JSON.stringify(before.get(st.studyUid)) !== JSON.stringify(after.get(st.studyUid)),
      );
      const nowOut = differs.filter(
        (st) => before.get(st.studyUid)!.inScope && !after.get(st.studyUid)!.inScope,
      );
      const backIn = differs.filter(
        (st) => !before.get(st.studyUid)!.inScope && after.get(st.studyUid)!.inScope,
      );
      expect(nowOut.length).toBeGreaterThan(0);
      expect(backIn.length).toBeGreaterThan(0);
      expect(s.changed).toBe(differs.length);
      expect(s.jobsExcluded).toBe(nowOut.length);
      expect(s.jobsCreated).toBe(backIn.length);
      for (const st of differs)
        expect((await stricter.store.getScopeDecision(st.studyUid))?.ruleId).toBe(
          after.get(st.studyUid)!.ruleId,
        );
      const events = await stricter.store.listEvents({ kind: 'scope.changed', limit: 1000 });
      expect(events).toHaveLength(s.changed);
    } finally {
      await stricter.close();
    }
  });
});

describe.skipIf(!hasCorpus())('appointments and oldest-first', () => {
  let dir: string;
  let ctx: MigrationContext;
  let studies: Study[];
  const clock = new ManualClock(Date.UTC(2026, 2, 15, 9));
  const today = daysFromCivil(2026, 3, 15);
  const iso = (day: number) => formatDA(day).replace(/^(\d{4})(\d{2})(\d{2})$/, '$1-$2-$3');

  beforeAll(async () => {
    dir = makeTempDir('scope-appt');
    ctx = await openMigrationWith(dir, clock, '');
    await runInventory(ctx);
    studies = await allStudies(ctx);
  });
  afterAll(async () => {
    await ctx?.close();
    removeTempDir(dir);
  });

  it('bumps the patients coming back within the lookahead, soonest first, and orders the rest oldest first', async () => {
    const byPatient = new Map<string, Study[]>();
    for (const st of studies)
      if (st.patientId) byPatient.set(st.patientId, [...(byPatient.get(st.patientId) ?? []), st]);
    const [soon, later, far] = [...byPatient.keys()].filter((p) => /^[A-Za-z0-9]+$/.test(p)).sort();
    writeFileSync(
      join(dir, 'appointments.csv'),
      [
        'patient_id;appointment_date;room',
        `${soon};${iso(today + 2)};"Room 1; east"`,
        `${later};${iso(today + 10)};2`,
        `${soon};${iso(today + 12)};2`,
        `${far};${iso(today + 30)};3`,
        `${far};31/12/2026;3`,
        '',
      ].join('\r\n'),
    );
    await ctx.close();
    ctx = await openMigrationWith(
      dir,
      clock,
      `transfer:\n  priority: oldest-first\n  appointments: { csv: appointments.csv, patientIdColumn: patient_id, dateColumn: appointment_date, delimiter: ';' }\n`,
    );
    const s = await applyScope(ctx);
    expect(s.appointments).toEqual({
      patients: 2,
      jobsBumped: byPatient.get(soon!)!.length + byPatient.get(later!)!.length,
      rows: 5,
      badDates: 1,
    });
    const jobs = await ctx.store.claimJobs('test', 10_000, 60_000);
    const patientOf = (uid: string) => studies.find((st) => st.studyUid === uid)!.patientId;
    const soonJobs = jobs.filter((j) => patientOf(j.studyUid) === soon);
    const laterJobs = jobs.filter((j) => patientOf(j.studyUid) === later);
    expect(soonJobs.every((j) => j.bumpedPriority === 14 + 1 - 2)).toBe(true);
    expect(laterJobs.every((j) => j.bumpedPriority === 14 + 1 - 10)).toBe(true);
    expect(jobs.slice(0, soonJobs.length).map((j) => patientOf(j.studyUid))).toEqual(
      soonJobs.map(() => soon),
    );
    expect(
      jobs
        .slice(soonJobs.length, soonJobs.length + laterJobs.length)
        .every((j) => patientOf(j.studyUid) === later),
    ).toBe(true);
    // The rest: oldest study first, undated last.
    const rest = jobs
      .slice(soonJobs.length + laterJobs.length)
      .map((j) => parseDA(studies.find((st) => st.studyUid === j.studyUid)!.studyDate) ?? Infinity);
    for (let i = 1; i < rest.length; i++) expect(rest[i]!).toBeGreaterThanOrEqual(rest[i - 1]!);
  });

  it('reports an appointments file whose columns are not there, without patient data', async () => {
    writeFileSync(join(dir, 'appointments.csv'), 'id;when\nP1;2026-03-16\n');
    const s = await applyScope(ctx);
    expect(s.appointmentsError?.kind).toBe('columns');
    expect(s.appointmentsError?.message).toMatch(
      /no column patient_id, appointment_date in its header \(columns: id, when\)/,
    );
    expect(s.appointmentsError?.message).not.toContain('P1');
  });
});

async function openMigrationWith(dir: string, clock: ManualClock, extra: string): Promise<MigrationContext> {
  writeFileSync(join(dir, 'plan.yaml'), `name: appt\nversion: 1\n${SOURCE()}${extra}`);
  return openMigration(join(dir, 'plan.yaml'), { clock });
}
