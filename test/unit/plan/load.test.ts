import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import {
  checkPlanFiles,
  examplePlanYaml,
  formatPlanErrors,
  loadPlan,
  planJsonSchema,
} from '../../../src/plan/index.js';
import { MINIMAL, PLAN_DIR, mustParse, tempDir } from './helpers.js';

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
const temp = (files: Record<string, string> = {}) => {
  const d = tempDir(files);
  dirs.push(d);
  return d;
};

describe('example plan', () => {
  it('round-trips through loadPlan', () => {
    const dir = temp({ 'plan.yaml': examplePlanYaml() });
    const r = loadPlan(join(dir, 'plan.yaml'));
    if (!r.ok) throw new Error(formatPlanErrors(r.error));
    expect(r.value.name).toBe('oldpacs-to-newpacs');
    expect(r.value.source.type).toBe('dimse');
    expect(r.value.state).toEqual({ type: 'sqlite', path: join(dir, 'oldpacs-to-newpacs.sqlite') });
    expect(r.value.transfer.windows).toHaveLength(3);
  });

  it('uses the given name', () => {
    const plan = mustParse(examplePlanYaml({ name: 'rehearsal-1' }));
    expect(plan.name).toBe('rehearsal-1');
  });

  it('documents every top-level section and the options an administrator looks for', () => {
    const y = examplePlanYaml();
    for (const key of [
      'local:',
      'source:',
      'target:',
      '# state:',
      'spool:',
      'scope:',
      '# transform:',
      'transfer:',
      'verify:',
      'report:',
      'privacy:',
    ])
      expect(y).toContain(`\n${key}`);
    for (const s of [
      'findLimit',
      'moveDestination',
      'storageCommitment',
      'retention',
      'appointments',
      'circuitBreaker',
      'rerunEvery',
      'logPhi',
    ])
      expect(y).toContain(s);
    // Each documented option says why.
    expect(y.match(/# Why: /g)?.length).toBeGreaterThan(60);
    // The folder alternatives are shown, commented out.
    expect(y).toContain('#   type: folder');
  });

  it('has the written-out values equal to what the loader produces as defaults', () => {
    const written = parseYaml(examplePlanYaml()) as Record<string, Record<string, unknown>>;
    const plan = mustParse(examplePlanYaml());
    expect(written.verify?.level).toBe(plan.verify.level);
    expect(written.transfer?.priority).toBe(plan.transfer.priority);
    expect(written.local?.port).toBe(plan.local.port);
  });
});

describe('defaults', () => {
  const plan = mustParse(MINIMAL);

  it('samples the larger of 500 studies and 5%, at pixel depth, re-run weekly', () => {
    expect(plan.verify.sample).toEqual({ percent: 5, minStudies: 500 });
    expect(plan.verify.level).toBe('pixels');
    expect(plan.verify.rerunEvery).toBe(7 * 24 * 3600 * 1000);
    expect(plan.verify.attributes).toContain('PatientID');
  });

  it('moves newest studies first', () => {
    expect(plan.transfer.priority).toBe('newest-first');
    expect(plan.transfer.windows).toEqual([]);
    expect(plan.transfer.appointments).toBeUndefined();
  });

  it('keeps state in <name>.sqlite beside the plan, spool and reports beside it too', () => {
    expect(plan.state).toEqual({ type: 'sqlite', path: join(PLAN_DIR, 'test-migration.sqlite') });
    expect(plan.spool).toEqual({
      dir: join(PLAN_DIR, 'test-migration.spool'),
      maxBytes: 20 * 1024 ** 3,
      keepAfterStore: false,
    });
    expect(plan.report).toEqual({
      dir: join(PLAN_DIR, 'test-migration-report'),
      formats: ['html', 'csv', 'json'],
    });
  });

  it('derives AE titles and the listener allow list from the peers', () => {
    expect(plan.local).toMatchObject({ aeTitle: 'PACSHIFT', host: '0.0.0.0', port: 11112 });
    expect(plan.local.allow.map((a) => a.aeTitle)).toEqual(['OLDPACS', 'NEWPACS']);
    if (plan.source.type !== 'dimse' || plan.target.type !== 'dimse') throw new Error('dimse expected');
    expect(plan.source).toMatchObject({
      callingAe: 'PACSHIFT',
      moveDestination: 'PACSHIFT',
      retrieve: 'c-move',
      queryModel: 'study-root',
      maxAssociations: 2,
      timeouts: { connect: 10_000, artim: 30_000, dimse: 300_000 },
    });
    expect(plan.source.findLimit).toBeUndefined();
    expect(plan.target).toMatchObject({
      callingAe: 'PACSHIFT',
      maxAssociations: 4,
      storageCommitment: false,
      preferredTransferSyntaxes: [],
    });
  });

  it('follows local.aeTitle when it is changed', () => {
    const p = mustParse(`${MINIMAL}local:\n  aeTitle: MIGRATOR\n`);
    expect(p.source).toMatchObject({ callingAe: 'MIGRATOR', moveDestination: 'MIGRATOR' });
  });

  it('uses the peers association limits as default concurrency', () => {
    expect(plan.transfer.concurrency).toEqual({ retrieve: 2, store: 4 });
    expect(plan.transfer.retries).toEqual({
      maxAttempts: 5,
      backoff: { base: 10_000, factor: 2, cap: 600_000 },
    });
    expect(plan.transfer.circuitBreaker).toEqual({ failures: 5, coolDown: 300_000 });
  });

  it('includes what no rule matches, keeps logs free of patient data', () => {
    expect(plan.scope).toEqual({ default: 'include', rules: [], retention: [] });
    expect(plan.privacy.logPhi).toBe(false);
  });

  it('accepts empty sections (all options commented out) as all-default', () => {
    const p = mustParse(`${MINIMAL}spool:\nverify:\n  sample:\n`);
    expect(p.spool.maxBytes).toBe(20 * 1024 ** 3);
    expect(p.verify.sample.minStudies).toBe(500);
  });

  it('has no moveDestination with c-get', () => {
    const p = mustParse(MINIMAL.replace('calledAe: OLDPACS', 'calledAe: OLDPACS\n  retrieve: c-get'));
    expect(p.source.type === 'dimse' && p.source.moveDestination).toBeUndefined();
  });
});

describe('relative paths', () => {
  it('resolve against the folder of the plan file', () => {
    const dir = temp({
      'plan.yaml': `${MINIMAL}
state:
  sqlite: state/site-a.sqlite
spool:
  dir: ../spool
report:
  dir: /var/lib/pacshift/reports
transform:
  corrections:
    - id: ris
      csv: corrections.csv
      match: { PatientID: old_id }
      set: { PatientID: new_id }
transfer:
  appointments:
    csv: ./schedule/appointments.csv
    patientIdColumn: pid
    dateColumn: date
`.replace('calledAe: OLDPACS', 'calledAe: OLDPACS\n  tls:\n    ca: tls/ca.pem'),
    });
    const r = loadPlan(join(dir, 'plan.yaml'));
    if (!r.ok) throw new Error(formatPlanErrors(r.error));
    const plan = r.value;
    expect(plan.state).toEqual({ type: 'sqlite', path: join(dir, 'state/site-a.sqlite') });
    expect(plan.spool.dir).toBe(join(dir, '..', 'spool'));
    expect(plan.report.dir).toBe('/var/lib/pacshift/reports');
    expect(plan.transform.corrections[0]?.csv).toBe(join(dir, 'corrections.csv'));
    expect(plan.transfer.appointments?.csv).toBe(join(dir, 'schedule/appointments.csv'));
    expect(plan.source.type === 'dimse' && plan.source.tls?.ca).toBe(join(dir, 'tls/ca.pem'));

    // The referenced input files do not exist yet: checkPlanFiles says which.
    const missing = checkPlanFiles(plan, 'plan.yaml').map((e) => e.path);
    expect(missing).toEqual(['source.tls.ca', 'transform.corrections[0].csv', 'transfer.appointments.csv']);
    writeFileSync(join(dir, 'corrections.csv'), 'old_id,new_id\n');
    expect(checkPlanFiles(plan, 'plan.yaml').map((e) => e.path)).not.toContain(
      'transform.corrections[0].csv',
    );
  });

  it('resolve a folder source against the plan folder', () => {
    const p = mustParse(
      MINIMAL.replace(/source:\n( {2}.*\n)+/, 'source:\n  type: folder\n  path: export/old\n'),
    );
    expect(p.source).toEqual({ type: 'folder', path: join(PLAN_DIR, 'export/old') });
    expect(p.transfer.concurrency.retrieve).toBe(2);
  });

  it('postgres state is kept as a URL', () => {
    const p = mustParse(`${MINIMAL}state:\n  postgres: postgres://pacshift@db.local/pacshift\n`);
    expect(p.state).toEqual({ type: 'postgres', url: 'postgres://pacshift@db.local/pacshift' });
  });
});

describe('JSON Schema for editors', () => {
  it('describes every section and option of the plan as written', () => {
    const js = planJsonSchema() as {
      properties: Record<string, { description?: string }>;
      required: string[];
    };
    expect(Object.keys(js.properties)).toEqual(
      expect.arrayContaining(['name', 'source', 'target', 'scope', 'verify']),
    );
    expect(js.required).toEqual(expect.arrayContaining(['name', 'version', 'source', 'target']));
    expect(js.properties.verify?.description).toMatch(/target is checked/);
  });
});

describe('loadPlan I/O', () => {
  it('reports a missing file with a fix', () => {
    const r = loadPlan('/nonexistent/plan.yaml');
    expect(r.ok).toBe(false);
    if (!r.ok)
      expect(formatPlanErrors(r.error)).toBe(
        '/nonexistent/plan.yaml: no such file: check the path, or create a plan with pacshift init',
      );
  });
});
