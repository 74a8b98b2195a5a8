/**
 * A study whose instances disagree on PatientID, one of them empty (issue 7, item 19): the corpus's
 * 4-series Siemens study (PatientID DEV, 8 files) as a folder source, with one instance's PatientID
 * emptied by DCMTK's dcmodify in a temporary copy (the other files are symlinks to the corpus). The
 * study is one StudyInstanceUID under two identities — STUDY_MULTI_PATIENT, not "a study without
 * PatientID" — and the inventory's word does not disappear once the sample has read a header of
 * every series.
 */
import { chmodSync, copyFileSync, mkdirSync, symlinkSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runAnalysis, type AnalysisResult } from '../../../src/analyse/index.js';
import { runInventory } from '../../../src/inventory/index.js';
import { hasCorpus, manifest } from '../../harness/corpus.js';
import { peers, runTool } from '../../harness/process.js';
import { makeTempDir, removeTempDir } from '../../harness/tmp.js';
import { testPlan, type TestPlan } from './fixtures.js';

const STUDY_DIR = 'dcm_qa/dcm_qa_nih/20180918Si/';

const of = (r: AnalysisResult, code: string) => r.findings.filter((f) => f.code === code);

// The first instance of its series (the one the default sample reads), then the second (never read by it).
describe.skipIf(!hasCorpus() || !peers.dcmtk).each(['00001', '00002'])(
  'analyze: a study with PatientID emptied in epi_pe_ap-%s',
  (n) => {
    const EMPTIED = `${STUDY_DIR}mr_0003/epi_pe_ap-${n}.dcm`;
    let folder: string;
    let studyUid: string;
    const plans: TestPlan[] = [];

    beforeAll(async () => {
      folder = makeTempDir('mixed-pid');
      const rows = manifest().filter((r) => r.path.startsWith(STUDY_DIR));
      expect(rows).toHaveLength(8);
      expect(new Set(rows.map((r) => r.patientId))).toEqual(new Set(['DEV']));
      studyUid = rows[0]!.studyInstanceUid;
      for (const r of rows) {
        const dest = join(folder, r.path);
        mkdirSync(dirname(dest), { recursive: true });
        if (r.path !== EMPTIED) symlinkSync(r.absPath, dest);
        else {
          copyFileSync(r.absPath, dest);
          chmodSync(dest, 0o644);
          const res = await runTool('dcmodify', ['-nb', '-ma', '(0010,0020)=', dest]);
          expect(res.code, res.stderr).toBe(0);
        }
      }
    }, 60_000);

    afterAll(async () => {
      for (const p of plans) await p.stop();
      removeTempDir(folder);
    });

    const analyse = async (sample: Parameters<typeof runAnalysis>[1]): Promise<AnalysisResult> => {
      const plan = await testPlan(`{ type: folder, path: ${JSON.stringify(folder)} }`);
      plans.push(plan);
      const inv = await runInventory(plan.ctx);
      expect(inv.instances).toBe(8);
      return runAnalysis(plan.ctx, sample);
    };

    for (const [label, sample] of [
      ['the inventory alone (no sample)', { sample: false }],
      ['after the default sample (a header of every series read)', {}],
      ['after reading every instance', { sample: { perSeries: 'all' } }],
    ] as const)
      it(`${label}: STUDY_MULTI_PATIENT, not PATIENT_ID_MISSING`, async () => {
        const r = await analyse(sample);
        const multi = of(r, 'STUDY_MULTI_PATIENT');
        expect(multi.map((f) => f.subject)).toEqual([studyUid]);
        expect(multi[0]!.detail).toMatchObject({ patients: 2 });
        expect(of(r, 'PATIENT_ID_MISSING')).toEqual([]);
      }, 120_000);
  },
);
