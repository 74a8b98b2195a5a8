/**
 * The pilot migration applies the plan's corrections (issue 7, item 9): Orthanc → Orthanc, the
 * corpus's Siemens study of PatientID DEV (8 files) and a control study uploaded into the source, a
 * plan whose correction table merges DEV into DEV-MERGED (and sets the birth date), the pilot
 * (`runPilot`, what `pacshift sample --migrate` runs) over both studies. The target holds the
 * corrected values (Orthanc REST) for every DEV instance and the control's own values, one copy per
 * SOP Instance UID; the pass-through record that verification compares the target with holds the
 * corrected values; both studies end verified; the audit trail has the changes.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runPilot, type PilotRun } from '../../src/analyse/sample/index.js';
import { runInventory } from '../../src/inventory/index.js';
import { openMigration, type MigrationContext } from '../../src/run/context.js';
import { readTrail } from '../../src/transform/audit.js';
import { hasCorpus } from '../../src/util/corpus.js';
import { manifest, type ManifestRow } from '../harness/corpus.js';
import { e2eDir, writePlan } from '../harness/migration.js';
import { startOrthanc, type Orthanc } from '../harness/orthanc.js';
import { freePort } from '../harness/ports.js';
import { peers } from '../harness/process.js';

const DEV_STUDY = 'dcm_qa/dcm_qa_nih/20180918Si/';
const CONTROL = 'highdicom/ct_image.dcm';
const NEW_BIRTH = '19700102';

describe.skipIf(!peers.orthanc || !hasCorpus())(
  'the pilot applies the corrections: Orthanc → Orthanc',
  () => {
    let work: ReturnType<typeof e2eDir>;
    let source: Orthanc;
    let target: Orthanc;
    let ctx: MigrationContext;
    let rows: ManifestRow[];
    let pilot: PilotRun;

    beforeAll(async () => {
      work = e2eDir('e2e-pilot-corrections');
      rows = manifest().filter((r) => r.path.startsWith(DEV_STUDY) || r.path === CONTROL);
      expect(rows).toHaveLength(9);
      const localPort = await freePort();
      const us = { pacshift: { aeTitle: 'PACSHIFT', host: '127.0.0.1', port: localPort } };
      [source, target] = await Promise.all([
        startOrthanc({ aeTitle: 'OLDPACS', modalities: us }),
        startOrthanc({ aeTitle: 'NEWPACS', modalities: us }),
      ]);
      for (const r of rows) await source.upload(r.absPath);
      await writeFile(join(work.dir, 'merge.csv'), `old_id;new_id;birth\nDEV;DEV-MERGED;${NEW_BIRTH}\n`);
      const planPath = writePlan({
        dir: work.dir,
        local: { port: localPort },
        source: { host: source.host, port: source.dicomPort, calledAe: source.aeTitle },
        target: { host: target.host, port: target.dicomPort, calledAe: target.aeTitle },
        extra: {
          transfer: { quietPeriod: '2s', retries: { maxAttempts: 3, backoff: { base: '1s', cap: '2s' } } },
          verify: { level: 'pixels', sample: { percent: 100, minStudies: 0, seed: 1 } },
          transform: {
            corrections: [
              {
                id: 'mpi-merge',
                csv: join(work.dir, 'merge.csv'),
                delimiter: ';',
                match: { PatientID: 'old_id' },
                set: { PatientID: 'new_id', PatientBirthDate: 'birth' },
              },
            ],
          },
        },
      });
      // As `pacshift sample` opens it (no transform flag): the pilot must load the transform itself.
      ctx = await openMigration(planPath);
      const inv = await runInventory(ctx);
      expect(inv.instances).toBe(9);
      const studies = [...new Set(rows.map((r) => r.studyInstanceUid))];
      pilot = await runPilot(ctx, studies);
    }, 600_000);

    afterAll(async () => {
      await ctx?.close();
      await Promise.all([source?.stop(), target?.stop()]);
      work?.remove();
    });

    it('the target holds the corrected values for every DEV instance, the control its own, one copy each', async () => {
      expect(pilot.instancesStored).toBe(9);
      for (const r of rows) {
        const ids = await target.rest.post<string[]>('/tools/find', {
          Level: 'Instance',
          Query: { SOPInstanceUID: r.sopInstanceUid },
        });
        expect(ids, r.path).toHaveLength(1);
        const tags = await target.rest.get<Record<string, string>>(`/instances/${ids[0]}/simplified-tags`);
        const dev = r.patientId === 'DEV';
        expect({ file: r.path, id: tags.PatientID, birth: tags.PatientBirthDate ?? '' }).toEqual({
          file: r.path,
          id: dev ? 'DEV-MERGED' : r.patientId,
          birth: dev ? NEW_BIRTH : r.patientBirthDate,
        });
      }
    });

    it('verification compares the target with the corrected record, and both studies end verified', async () => {
      expect(pilot.verify).toMatchObject({ studies: 2, verified: 2, withProblems: 0, notVerified: 0 });
      for (const r of rows) {
        const i = await ctx.store.getInstance(r.sopInstanceUid);
        expect(i?.header?.PatientID, r.path).toBe(r.patientId === 'DEV' ? 'DEV-MERGED' : r.patientId);
        expect(i?.verifiedAt, r.path).not.toBeNull();
      }
      const jobs = await ctx.store.listJobs({ limit: 10 });
      expect(jobs.map((j) => j.state)).toEqual(['verified', 'verified']);
    });

    it('the audit trail has the pilot changes: two elements of each DEV instance', async () => {
      const trail = [];
      for await (const t of readTrail(ctx.store, {})) trail.push(t);
      const dev = new Set(rows.filter((r) => r.patientId === 'DEV').map((r) => r.sopInstanceUid));
      const merged = trail.filter((t) => t.by.kind === 'correction' && t.by.id === 'mpi-merge');
      expect(new Set(merged.map((t) => t.sopInstanceUid))).toEqual(dev);
      expect(merged.filter((t) => t.keyword === 'PatientID')).toHaveLength(dev.size);
    });
  },
);
