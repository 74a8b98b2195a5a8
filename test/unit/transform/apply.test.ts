/**
 * The transform step in the migration engine, between two built-in archives (no Debian package): real
 * corpus instances (PatientID 123456: the dcmqi CT study of "Anonymous", and dcmjs-dimse's MR of
 * "JOHN DOE"), a corrections CSV and a rule. What reaches the target is the corrected copy, and it
 * differs from the source file only in the named elements (compared element by element with the walker);
 * the audit trail has one event per changed element per instance; a change the instance's character set
 * cannot hold quarantines the instance, which is never sent uncorrected.
 *
 * Crash safety: the engine is made to fail at each step of the transform (fault injection: a throw at the
 * step, so nothing after it runs), the process is "restarted" (spool re-read from disk, new receiver), and
 * the migration run to its end: every instance corrected exactly once (bytes equal to one rewrite of the
 * source), no event twice, nothing left in the spool.
 */
import { spawnSync } from 'node:child_process';
import { copyFile, mkdir, readdir, writeFile } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startArchive, type Archive } from '../../../src/archive/archive.js';
import { readInstanceInfo } from '../../../src/dicom/part10.js';
import { loadTransformerOrThrow } from '../../../src/run/context.js';
import { TransformStep, readTransformHeader, type CrashPoint } from '../../../src/transform/apply.js';
import { TRANSFORM_EVENT, readTrail } from '../../../src/transform/audit.js';
import { rewriteInstance } from '../../../src/transform/rewrite.js';
import type { Transformer } from '../../../src/transform/index.js';
import { hasCorpus } from '../../../src/util/corpus.js';
import { manifest, type ManifestRow } from '../../harness/corpus.js';
import { e2eDir, migrateCommand, writePlan } from '../../harness/migration.js';
import { openPipeline, type Pipeline } from '../../harness/pipeline.js';
import { freePort } from '../../harness/ports.js';
import { diffElements } from './apply-elements.js';

const CSV = [
  'old_id,old_name,new_id,new_name',
  '123456,Anonymous,123456-A,Anonymous^Alpha',
  // dcmjs-dimse's MR is ISO_IR 100 (Latin-1): "Ł" cannot be written into it (quarantined).
  '123456,JOHN DOE,JD-1,Łukasz^Doe',
  '',
].join('\n');

function rowsOf(): ManifestRow[] {
  return manifest().filter(
    (r) => r.path.startsWith('dcmqi/segmentations/23x38x3/') || r.path === 'dcmjs-dimse/ele.dcm',
  );
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.skipIf(!hasCorpus())('transform step in the engine (built-in archives, corpus files)', () => {
  let work: ReturnType<typeof e2eDir>;
  let source: Archive;
  let target: Archive;
  let planPath: string;
  let p: Pipeline;
  let transformer: Transformer;
  let rows: ManifestRow[];
  const srcFile = new Map<string, string>();

  beforeEach(async () => {
    work = e2eDir('transform-apply');
    rows = rowsOf();
    const srcDir = join(work.dir, 'source-archive');
    await mkdir(srcDir, { recursive: true });
    for (const r of rows) {
      const to = join(srcDir, `${r.sopInstanceUid}-${basename(r.path)}`);
      await copyFile(r.absPath, to);
      srcFile.set(r.sopInstanceUid, to);
    }
    await writeFile(join(work.dir, 'corrections.csv'), CSV);
    const localPort = await freePort();
    source = await startArchive({
      dir: srcDir,
      port: 0,
      host: '127.0.0.1',
      aeTitle: 'OLDPACS',
      peers: { PACSHIFT: { host: '127.0.0.1', port: localPort } },
    });
    target = await startArchive({
      dir: join(work.dir, 'target-archive'),
      port: 0,
      host: '127.0.0.1',
      aeTitle: 'NEWPACS',
    });
    planPath = writePlan({
      dir: work.dir,
      local: { port: localPort },
      source: { host: '127.0.0.1', port: source.port, calledAe: 'OLDPACS' },
      target: { host: '127.0.0.1', port: target.port, calledAe: 'NEWPACS' },
      extra: {
        transfer: {
          quietPeriod: '500ms',
          retries: { maxAttempts: 20, backoff: { base: '200ms', cap: '1s' } },
        },
        transform: {
          corrections: [
            {
              id: 'mpi-merge',
              csv: join(work.dir, 'corrections.csv'),
              match: { PatientID: 'old_id', PatientName: 'old_name' },
              set: { PatientID: 'new_id', PatientName: 'new_name' },
            },
          ],
          rules: [
            { id: 'institution', set: { InstitutionName: 'Pacshift General' } },
            // Applied twice, this would read OLD-OLD-…: the bytes comparison with one rewrite catches it.
            { id: 'accession-prefix', replace: { AccessionNumber: { pattern: '/^(.*)$/', with: 'OLD-$1' } } },
          ],
        },
      },
    });
    p = await openPipeline(planPath);
    transformer = await loadTransformerOrThrow(planPath, p.ctx.plan);
    await p.prepare();
  }, 60_000);

  afterEach(async () => {
    await p?.close();
    await source?.close();
    await target?.close();
    work?.remove();
  });

  const step = (crashAt?: (c: CrashPoint) => void) =>
    new TransformStep({ transformer, store: p.ctx.store, spool: p.spool, crashAt });

  /** Engine runs until no transfer job is left (failed retryably by a crash: after its short back-off). */
  async function migrate(crashAt?: (c: CrashPoint) => void): Promise<void> {
    const deadline = Date.now() + 120_000;
    for (;;) {
      await p.engine({ transform: step(crashAt) });
      const c = await p.ctx.store.countJobsByState();
      if (c.pending + c.retrieving + c.retrieved + c.storing === 0) return;
      if (Date.now() > deadline) throw new Error(`jobs left: ${JSON.stringify(c)}`);
      await sleep(300);
    }
  }

  /** The target archive's files by SOP Instance UID. */
  async function targetFiles(): Promise<Map<string, string>> {
    const dir = target.storeDir;
    const out = new Map<string, string>();
    for (const f of await readdir(dir, { recursive: true })) {
      const r = await readInstanceInfo(join(dir, f));
      if (r.ok) out.set(r.value.sopInstanceUid, join(dir, f));
    }
    return out;
  }

  /** What the plan should do to each source file, from its own header (not typed in). */
  async function expected() {
    const out = new Map<string, { changes: number; tags: Set<number>; refused: boolean }>();
    for (const [uid, f] of srcFile) {
      const h = await readTransformHeader(f, transformer.readKeywords);
      if (!h.ok) throw new Error(h.message);
      const study = await p.ctx.store.getStudy(rows.find((r) => r.sopInstanceUid === uid)!.studyInstanceUid);
      const planned = transformer.plan(h.header, study);
      // Every planned value is ASCII except the one Latin-1 cannot hold.
      const refused = planned.some((c) => (c.value ?? '').includes('Ł'));
      out.set(uid, { changes: planned.length, tags: new Set(planned.map((c) => c.tag)), refused });
    }
    return out;
  }

  async function checkOutcome(): Promise<void> {
    const want = await expected();
    const got = await targetFiles();
    const trail = [];
    for await (const t of readTrail(p.ctx.store)) trail.push(t);
    let changedInstances = 0;
    for (const [uid, w] of want) {
      const events = trail.filter((t) => t.sopInstanceUid === uid);
      if (w.refused) {
        expect(got.has(uid), `${uid} refused by the transform, never sent`).toBe(false);
        const q = (await p.ctx.store.listQuarantine()).find((e) => e.sopInstanceUid === uid);
        expect(q?.category).toBe('transform-not-encodable');
        expect(q?.cause).toMatch(
          /^transform \(not sent\): PatientName \(0010,0010\).*\[correction mpi-merge row 2\]$/,
        );
        expect(q?.cause).not.toContain('Łukasz');
        expect(q?.status).toBe(0xa900);
        expect(events).toEqual([]);
        continue;
      }
      const file = got.get(uid);
      expect(file, `${uid} at the target`).toBeDefined();
      const d = await diffElements(srcFile.get(uid)!, file!);
      expect(new Set(d.differ)).toEqual(w.tags);
      expect(d.same).toBeGreaterThan(10);
      // exactly one event per changed element
      expect(events.map((e) => parseInt(e.tag.replace(',', ''), 16)).sort()).toEqual([...w.tags].sort());
      // applied once: the target's bytes are one rewrite of the source
      const once = join(work.dir, `once-${uid}.dcm`);
      const h = await readTransformHeader(srcFile.get(uid)!, transformer.readKeywords);
      const study = await p.ctx.store.getStudy(rows.find((r) => r.sopInstanceUid === uid)!.studyInstanceUid);
      const planned = transformer.plan(h.ok ? h.header : {}, study);
      const r = await rewriteInstance(
        srcFile.get(uid)!,
        once,
        planned.map((c) => ({ tag: c.tag, value: c.value })),
      );
      expect(r.ok).toBe(true);
      expect((await diffElements(once, file!)).differ).toEqual([]);
      // what was recorded (verification's expected side) is the corrected copy
      const rec = await p.ctx.store.getInstance(uid);
      expect(rec?.header?.PatientID).toBe(
        planned.find((c) => c.keyword === 'PatientID')?.value ??
          rows.find((x) => x.sopInstanceUid === uid)!.patientId,
      );
      changedInstances++;
    }
    expect(changedInstances).toBeGreaterThan(0);
    expect(trail.length).toBe(
      [...want.values()].filter((w) => !w.refused).reduce((n, w) => n + w.changes, 0),
    );
    expect(await readdir(p.spool.incoming)).toEqual([]);
  }

  it('sends the corrected copies, changes only the named elements, records each change once, quarantines what cannot be written', async () => {
    await migrate();
    await checkOutcome();
    const events = await p.ctx.store.listEvents({ kind: TRANSFORM_EVENT });
    expect(events.every((e) => e.jobId !== null)).toBe(true);
  }, 180_000);

  it.each<CrashPoint>(['rewritten', 'recorded', 'events', 'renamed', 'quarantine-moved'])(
    'killed at "%s": after a restart every instance is corrected exactly once, nothing lost, no event twice',
    async (point) => {
      let crashed = 0;
      // The first run dies at the point (the first time it is reached); nothing after it runs.
      await p.engine({
        transform: step((c) => {
          if (c === point && crashed++ === 0) throw new Error(`injected crash at ${c}`);
        }),
      });
      expect(crashed).toBeGreaterThan(0);
      // Restart: a new process reads the spool from disk (its recovery) and runs to the end.
      await p.close();
      p = await openPipeline(planPath);
      // The spool's recovery: no temporary file left, no original next to its (recorded) transformed copy.
      const names = await readdir(p.spool.incoming);
      expect(names.filter((n) => n.startsWith('.'))).toEqual([]);
      const transformed = names.map((n) => /^(.*)\.x[0-9a-f]{12}\.dcm$/.exec(n)).filter((m) => m !== null);
      for (const m of transformed) expect(names).not.toContain(m[1]);
      if (point === 'renamed') expect(transformed.length).toBeGreaterThan(0);
      await migrate();
      await checkOutcome();
    },
    180_000,
  );
});

describe('pacshift migrate loads the transform', () => {
  it('a correction table that cannot be loaded is a plan error: exit 2, plan file, path, row and column, no value', async () => {
    const work = e2eDir('transform-load');
    try {
      await writeFile(join(work.dir, 'fix.csv'), 'old_id,birth\nP-1,19990101\nP-2,not-a-date-SECRET\n');
      const planPath = writePlan({
        dir: work.dir,
        local: { port: 1 },
        source: { host: '127.0.0.1', port: 2, calledAe: 'OLDPACS' },
        target: { host: '127.0.0.1', port: 3, calledAe: 'NEWPACS' },
        extra: {
          transform: {
            corrections: [
              {
                id: 'fix',
                csv: join(work.dir, 'fix.csv'),
                match: { PatientID: 'old_id' },
                set: { PatientBirthDate: 'birth' },
              },
            ],
          },
        },
      });
      const { cmd, args } = migrateCommand(planPath);
      const r = spawnSync(cmd, args, {
        encoding: 'utf8',
        cwd: resolve(import.meta.dirname, '..', '..', '..'),
      });
      expect(r.status).toBe(2);
      expect(r.stderr).toContain(`${planPath}: the transform cannot be loaded`);
      expect(r.stderr).toMatch(/transform\.corrections\[0\]\.csv: row 2, column "birth"/);
      expect(r.stderr).not.toContain('SECRET');
      expect(r.stderr).not.toContain('P-2');
    } finally {
      work.remove();
    }
  }, 120_000);
});
