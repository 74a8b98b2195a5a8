/**
 * The folder source against real corpus files: what the inventory listed is copied into the spool byte for
 * byte and accounted per instance; a file gone or changed on disk is not delivered, with its typed cause.
 * Also the STOW-RS response reader on the answer shape Orthanc 1.10 gives (captured in the targets contract).
 */
import { copyFileSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { folderSource, type FolderRecord } from '../../../src/transfer/sources/index.js';
import { Spool } from '../../../src/transfer/spool.js';
import { parseStowResponse } from '../../../src/transfer/targets/stow-response.js';
import { lookupHttpStatus } from '../../../src/transfer/targets/stow-status.js';
import { corpusRow, hasCorpus } from '../../harness/corpus.js';
import { makeTempDir, removeTempDir } from '../../harness/tmp.js';

const FILES = [
  'orthanc-tests/HierarchicalAnonymization/RTH/CT01.dcm',
  'orthanc-tests/2020-09-11-Christopher-ELSCINT1-Raw.dcm',
  'dcmjs-dimse/sr.dcm',
];

describe.skipIf(!hasCorpus())('folder source', () => {
  const dir = makeTempDir('folder-source');
  afterAll(() => removeTempDir(dir));

  it('copies what the inventory listed byte for byte; gone and changed files are typed failures', async () => {
    const src = join(dir, 'src');
    const rows = FILES.map((p) => corpusRow(p));
    const records = new Map<string, FolderRecord>();
    mkdirSync(src, { recursive: true });
    rows.forEach((r, k) => {
      copyFileSync(r.absPath, join(src, `f${k}.dcm`));
      records.set(r.sopInstanceUid, { path: `f${k}.dcm`, sizeBytes: r.size });
    });
    // After the inventory: f1 is deleted, f2 is replaced by another instance.
    rmSync(join(src, 'f1.dcm'));
    copyFileSync(rows[0]!.absPath, join(src, 'f2.dcm'));
    const spool = new Spool(join(dir, 'spool'), 1 << 30);
    await spool.open();
    const source = folderSource(src, async () => records);
    // All three files are of different studies: ask per study, as the engine does.
    const reports = [];
    for (const r of rows)
      reports.push(
        await source.retrieveStudy(spool, {
          studyUid: r.studyInstanceUid,
          expected: new Map([[r.sopInstanceUid, { sopClassUid: null, seriesUid: r.seriesInstanceUid }]]),
          quietMs: 0,
          imageRetries: 0,
        }),
      );
    expect(reports[0]!.arrived.map((s) => s.sopInstanceUid)).toEqual([rows[0]!.sopInstanceUid]);
    expect(readFileSync(reports[0]!.arrived[0]!.path).equals(readFileSync(rows[0]!.absPath))).toBe(true);
    expect(reports[1]!.missing).toEqual([rows[1]!.sopInstanceUid]);
    expect(reports[1]!.causes?.get(rows[1]!.sopInstanceUid)).toMatch(/^FOLDER_FILE_MISSING/);
    expect(reports[2]!.missing).toEqual([rows[2]!.sopInstanceUid]);
    expect(reports[2]!.causes?.get(rows[2]!.sopInstanceUid)).toMatch(
      /^FOLDER_FILE_CHANGED: .*now holds SOP Instance UID/,
    );
  });
});

describe('STOW-RS answers', () => {
  it('reads Referenced and Failed SOP Sequences (Failure Reason as a number)', () => {
    const body = Buffer.from(
      JSON.stringify({
        '00081198': {
          vr: 'SQ',
          Value: [{ '00081155': { vr: 'UI', Value: ['1.2.3'] }, '00081197': { vr: 'US', Value: [49152] } }],
        },
        '00081199': { vr: 'SQ', Value: [{ '00081155': { vr: 'UI', Value: ['1.2.4'] } }] },
      }),
    );
    const a = parseStowResponse(body, 'application/dicom+json');
    expect(a.failed.get('1.2.3')?.reason).toBe(0xc000);
    expect(a.stored.has('1.2.4')).toBe(true);
    expect(parseStowResponse(Buffer.from('<html>'), 'text/html').readable).toBe(false);
  });

  it('maps HTTP statuses: 401/403 stop (0x0124), 5xx retry (0xA700), 400/409/413 split the batch', () => {
    expect(lookupHttpStatus(401).status).toBe(0x0124);
    expect(lookupHttpStatus(403).status).toBe(0x0124);
    expect(lookupHttpStatus(503).status).toBe(0xa700);
    expect(lookupHttpStatus(501).status).toBe(0x0211);
    for (const s of [400, 409, 413]) expect(lookupHttpStatus(s).splitBatch).toBe(true);
    expect(lookupHttpStatus(200).status).toBeUndefined();
  });
});
