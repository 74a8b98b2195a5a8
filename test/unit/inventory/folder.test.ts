/**
 * Inventory of a folder source (the corpus, read in place): the same rows a network inventory
 * writes, every unreadable file a finding with its typed error, duplicates and multi-patient studies
 * reported. Ground truth: the manifest, and readInstanceInfo on each file.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readInstanceInfo } from '../../../src/dicom/part10.js';
import { type InventorySummary, runInventory } from '../../../src/inventory/index.js';
import { corpusDir, hasCorpus, manifest } from '../../harness/corpus.js';
import { type TestMigration, inventoried, migration, truthOf } from './fixtures.js';

describe.skipIf(!hasCorpus())('inventory of a folder source', () => {
  let m: TestMigration;
  let summary: InventorySummary;
  beforeAll(async () => {
    m = await migration(`{ type: folder, path: ${JSON.stringify(corpusDir())} }`);
    summary = await runInventory(m.ctx);
  });
  afterAll(async () => m?.stop());

  it('lists every readable instance once, under its study and series, with the values of its header', async () => {
    // What the files are: identified by readInstanceInfo, first copy of each SOP Instance UID.
    const readable = [];
    const seen = new Set<string>();
    let duplicates = 0;
    for (const row of manifest()) {
      if (/(^|\/)DICOMDIR$/.test(row.path)) continue;
      const info = await readInstanceInfo(row.absPath);
      if (!info.ok || !info.value.studyInstanceUid || !info.value.seriesInstanceUid) continue;
      if (seen.has(info.value.sopInstanceUid)) {
        duplicates++;
        continue;
      }
      seen.add(info.value.sopInstanceUid);
      readable.push(row);
    }
    const truth = truthOf(readable);
    const found = await inventoried(m.ctx.store, truth);
    expect(found.studies).toEqual(new Set(truth.studies.keys()));
    expect(found.series).toEqual(new Set(truth.series.keys()));
    expect(found.instances).toEqual(new Set(truth.instances.keys()));
    expect(summary).toMatchObject({
      complete: true,
      studies: truth.studies.size,
      series: truth.series.size,
      instances: truth.instances.size,
    });
    expect(summary.files?.duplicates).toBe(duplicates);
    expect(summary.findings['inventory.duplicate-instance']).toBe(duplicates);

    for (const row of readable.slice(0, 40)) {
      const inst = await m.ctx.store.getInstance(row.sopInstanceUid);
      expect(inst?.attrs).toEqual({ path: row.path });
      expect(inst?.sizeBytes).toBe(row.size);
      const st = await m.ctx.store.getStudy(row.studyInstanceUid);
      expect(st?.studyDate ?? '').toBe(row.studyDate);
      const se = await m.ctx.store.getSeries(row.seriesInstanceUid);
      expect(se?.modality ?? '').toBe(row.modality);
    }
    // Counts are those of the files found.
    const study = readable[0]!.studyInstanceUid;
    expect((await m.ctx.store.getStudy(study))?.numInstances).toBe(
      readable.filter((r) => r.studyInstanceUid === study).length,
    );
  });

  it('records each unreadable file with its typed error code, and each study found under two patients', async () => {
    const events = await m.ctx.store.listEvents({ kind: 'inventory.unreadable-file', limit: 1000 });
    expect(events.length).toBe(summary.files!.unreadable);
    expect(events.length).toBeGreaterThan(0);
    for (const e of events) {
      const { path, code } = e.detail as { path: string; code: string };
      const info = await readInstanceInfo(`${corpusDir()}/${path}`);
      if (info.ok) expect(code).toMatch(/^missing-(study|series)-uid$/);
      else expect(code).toBe(info.error.code);
    }
    // Studies whose files disagree on PatientID (the manifest says which).
    const patients = new Map<string, Set<string>>();
    const readableStudies = new Set<string>();
    for (const r of manifest()) {
      if (!r.studyInstanceUid) continue;
      patients.set(r.studyInstanceUid, (patients.get(r.studyInstanceUid) ?? new Set()).add(r.patientId));
      if ((await m.ctx.store.getInstance(r.sopInstanceUid))?.attrs) readableStudies.add(r.studyInstanceUid);
    }
    const several = [...patients]
      .filter(([uid, p]) => p.size > 1 && readableStudies.has(uid))
      .map(([uid]) => uid);
    const flagged = (await m.ctx.store.listEvents({ kind: 'inventory.study-in-several-patients' })).map(
      (e) => e.studyUid,
    );
    expect(flagged).toEqual(expect.arrayContaining(several));
    // No patient data in the findings.
    for (const e of await m.ctx.store.listEvents({ limit: 1000 }))
      expect(JSON.stringify(e.detail)).not.toMatch(/PatientName|PatientID|\^/);
  });
});
