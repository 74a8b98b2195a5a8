/**
 * A rewritten instance travels as written: pacshift's own C-STORE SCU sends rewritten corpus files (explicit
 * and implicit VR little endian, explicit VR big endian, deflated) to DCMTK storescp (bit preserving), using the
 * data set offset and length rewriteInstance returned; what storescp wrote after its own meta is our data set,
 * byte for byte (the new values are in it: test/unit/transform/rewrite.test.ts checks the rewritten files).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readInstanceInfo } from '../../src/dicom/part10.js';
import { Tags } from '../../src/dicom/tag.js';
import { storeInstances, type SendableInstance } from '../../src/net/services/store-scu.js';
import { rewriteInstance, type RewriteResult } from '../../src/transform/rewrite.js';
import { hasCorpus, wellFormedUncompressed, manifest } from '../harness/corpus.js';
import { peers } from '../harness/process.js';
import { startStorescp, type Storescp } from '../harness/storescp.js';

const SYNTAXES = [
  'Explicit VR Little Endian',
  'Implicit VR Little Endian',
  'Explicit VR Big Endian',
  'Deflated Explicit VR Little Endian',
];

describe.skipIf(!peers.dcmtk || !hasCorpus())('rewritten instances through pacshift store → storescp', () => {
  let scp: Storescp;
  const dir = mkdtempSync(join(tmpdir(), 'pacshift-rewrite-interop-'));
  beforeAll(async () => {
    scp = await startStorescp({ aeTitle: 'REWRITE_SCP' });
  });
  afterAll(async () => {
    await scp?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('storescp receives exactly the rewritten data set (offsets and lengths from rewriteInstance)', async () => {
    const wellFormed = new Set(wellFormedUncompressed().map((r) => r.path));
    const sent: { inst: SendableInstance; res: RewriteResult; path: string }[] = [];
    for (const ts of SYNTAXES) {
      // The first readable file of each syntax (well formed for DCMTK where it is uncompressed).
      for (const row of manifest()) {
        if (row.transferSyntax !== ts) continue;
        if (ts !== 'Deflated Explicit VR Little Endian' && !wellFormed.has(row.path)) continue;
        const info = await readInstanceInfo(row.absPath);
        if (!info.ok) continue;
        const out = join(dir, `${sent.length}.dcm`);
        const r = await rewriteInstance(row.absPath, out, [
          { tag: Tags.PatientID.tag, value: `REWRITTEN-${sent.length}` },
          { tag: Tags.PatientName.tag, value: 'REWRITTEN^PATIENT' },
          { tag: Tags.IssuerOfPatientID.tag, value: 'PACSHIFT' },
        ]);
        if (!r.ok) throw new Error(r.error.message);
        sent.push({
          path: out,
          res: r.value,
          inst: {
            path: out,
            sopClassUid: info.value.sopClassUid,
            sopInstanceUid: info.value.sopInstanceUid,
            transferSyntaxUid: r.value.transferSyntaxUid,
            datasetOffset: r.value.datasetOffset,
            datasetLength: r.value.datasetLength,
          },
        });
        break;
      }
    }
    expect(sent).toHaveLength(SYNTAXES.length);

    const outcomes = await storeInstances(
      { host: scp.host, port: scp.port, aeTitle: scp.aeTitle, callingAeTitle: 'PACSHIFT' },
      sent.map((s) => s.inst),
    );
    for (const o of outcomes) expect(o.ok && o.status, o.instance.path).toBe(0);
    const received = await scp.waitForFiles(sent.length, 60_000);
    expect(received).toHaveLength(sent.length);

    for (const s of sent) {
      const mine = readFileSync(s.path).subarray(s.res.datasetOffset);
      expect(mine.length).toBe(s.res.datasetLength);
      let matched = false;
      for (const f of received) {
        const info = await readInstanceInfo(f);
        if (!info.ok || info.value.sopInstanceUid !== s.inst.sopInstanceUid) continue;
        const theirs = readFileSync(f).subarray(info.value.metaEnd);
        expect(info.value.transferSyntaxUid).toBe(s.inst.transferSyntaxUid);
        expect(theirs.equals(mine), `${s.inst.transferSyntaxUid}: storescp's data set equals ours`).toBe(
          true,
        );
        matched = true;
      }
      expect(matched, s.inst.sopInstanceUid).toBe(true);
    }
  }, 180_000);
});
