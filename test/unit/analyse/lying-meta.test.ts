/**
 * A file whose File Meta names one transfer syntax while its data set is in another (issue 7, item
 * 20). The corpus has readers' edge cases but none our reader takes for a lie (GH177's Big Endian data
 * set is what its meta says; its UN sequence is implicit LE by CP-246), so the test makes one from a
 * corpus file: pydicom's rtplan.dcm (implicit VR little endian) wrapped in a File Meta that says
 * explicit VR little endian, data set bytes unchanged, in a temporary folder beside a symlink to the
 * original. The inventory names the unreadable file by its (0002,0003); the analysis reports the
 * mismatch as its own finding and the other copy of the same SOP Instance UID.
 */
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runAnalysis, type AnalysisResult } from '../../../src/analyse/index.js';
import { buildPart10Meta } from '../../../src/dicom/meta.js';
import { readInstanceInfo } from '../../../src/dicom/part10.js';
import { runInventory } from '../../../src/inventory/index.js';
import { corpusRow, hasCorpus } from '../../harness/corpus.js';
import { datasetBytes } from '../../harness/dicom-file.js';
import { makeTempDir, removeTempDir } from '../../harness/tmp.js';
import { testPlan, type TestPlan } from './fixtures.js';

const ORIGINAL = 'pydicom/debian_test_files/rtplan.dcm';
const EXPLICIT_LE = '1.2.840.10008.1.2.1';

describe.skipIf(!hasCorpus())('analyze: a File Meta that names another transfer syntax', () => {
  let folder: string;
  let plan: TestPlan;
  let result: AnalysisResult;
  const row = hasCorpus() ? corpusRow(ORIGINAL) : undefined;

  beforeAll(async () => {
    expect(row!.transferSyntax).toBe('Implicit VR Little Endian');
    folder = makeTempDir('lying-meta');
    mkdirSync(join(folder, 'a'));
    mkdirSync(join(folder, 'b'));
    symlinkSync(row!.absPath, join(folder, 'a', 'rtplan.dcm'));
    const meta = buildPart10Meta({
      sopClassUid: '1.2.840.10008.5.1.4.1.1.481.5',
      sopInstanceUid: row!.sopInstanceUid,
      transferSyntaxUid: EXPLICIT_LE,
      implementationClassUid: '1.2.826.0.1.3680043.9.7433.1',
      implementationVersionName: 'RELABELLED',
    });
    writeFileSync(join(folder, 'b', 'relabelled.dcm'), Buffer.concat([meta, datasetBytes(row!.absPath)]));
    const lie = await readInstanceInfo(join(folder, 'b', 'relabelled.dcm'));
    expect(lie.ok ? 'ok' : lie.error.code).toBe('lying-transfer-syntax');

    plan = await testPlan(`{ type: folder, path: ${JSON.stringify(folder)} }`);
    const inv = await runInventory(plan.ctx);
    expect(inv.instances).toBe(1);
    expect(inv.files?.unreadable).toBe(1);
    result = await runAnalysis(plan.ctx);
  }, 60_000);

  afterAll(async () => {
    await plan?.stop();
    if (folder) removeTempDir(folder);
  });

  const of = (code: string) => result.findings.filter((f) => f.code === code);

  it('the unreadable file is named by its (0002,0003)', () => {
    expect(of('FILE_UNREADABLE').map((f) => [f.subject, f.sopInstanceUid, f.detail])).toEqual([
      [
        row!.sopInstanceUid,
        row!.sopInstanceUid,
        expect.objectContaining({ path: join('b', 'relabelled.dcm'), code: 'lying-transfer-syntax' }),
      ],
    ]);
  });

  it('the transfer-syntax mismatch is its own finding, with what the meta says and what the data set is', () => {
    expect(of('TRANSFER_SYNTAX_MISMATCH').map((f) => [f.subject, f.detail])).toEqual([
      [
        row!.sopInstanceUid,
        {
          path: join('b', 'relabelled.dcm'),
          declared: EXPLICIT_LE,
          actualEncoding: 'implicit VR little endian',
        },
      ],
    ]);
  });

  it('the other copy of the same SOP Instance UID is reported, with its study and both files', () => {
    const f = of('SOP_COPY_UNREADABLE');
    expect(f.map((x) => [x.subject, x.studyUids])).toEqual([[row!.sopInstanceUid, [row!.studyInstanceUid]]]);
    expect(f[0]!.detail).toEqual({
      readable: [join('a', 'rtplan.dcm')],
      unreadable: [join('b', 'relabelled.dcm')],
    });
  });
});
