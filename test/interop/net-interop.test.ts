import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { str, type SmallDataset } from '../../src/dicom/small-dataset.js';
import {
  STORAGE_COMMITMENT_PUSH,
  QR,
  UNCOMPRESSED_LE,
  VERIFICATION,
  type QueryLevel,
  type QueryModel,
} from '../../src/net/services/sop-classes.js';
import { cEcho } from '../../src/net/services/echo.js';
import { cFindAll } from '../../src/net/services/find-scu.js';
import { buildIdentifier } from '../../src/net/services/identifier.js';
import { cGet, cMove } from '../../src/net/services/retrieve-scu.js';
import { requestCommitment } from '../../src/net/services/commitment-scu.js';
import { storeInstances } from '../../src/net/services/store-scu.js';
import { FolderStoreTarget, type StoreResult } from '../../src/net/services/store-target.js';
import { openChannel, type Peer } from '../../src/net/peer.js';
import type { SendableInstance } from '../../src/net/services/store-scu.js';
import { hasCorpus, manifest, type ManifestRow } from '../harness/corpus.js';
import { startDcmqrscp, type Dcmqrscp } from '../harness/dcmqrscp.js';
import { datasetOffset } from '../harness/dicom-file.js';
import {
  elementsOf,
  readSendable,
  receivedDigest,
  sentDigest,
  startTestScp,
  printTable,
  type TestScp,
} from '../harness/net-peer.js';
import { startOrthanc, type Orthanc } from '../harness/orthanc.js';
import { peers } from '../harness/process.js';
import { echoscu, storescu } from '../harness/scu.js';
import { startStorescp, type Storescp } from '../harness/storescp.js';
import { makeTempDir, removeTempDir } from '../harness/tmp.js';

// pacshift's network stack against DCMTK (storescp, dcmqrscp, echoscu, storescu) and Orthanc 1.10, both ways:
// C-ECHO, C-FIND at four levels, C-MOVE and C-GET into pacshift, C-STORE both ways, storage commitment.
// Expectations come from the MANIFEST rows of the files loaded, never from the peer's own answers.

const rel = (p: string) => p.replace(/^.*\/corpus\//, '');
const EXPLICIT_LE = '1.2.840.10008.1.2.1';

/** The Q/R set: a 4-series Siemens MR study, one MR image in 9 encodings, a patient with 2 JPEG studies. */
const isQrFile = (r: ManifestRow) =>
  r.path.startsWith('dcm_qa/dcm_qa_nih/20180918Si/') ||
  r.path.startsWith('dcm_qa/dcm_qa_ts/') ||
  r.path.startsWith('orthanc-tests/PatientWith2studies/');
/** Files pacshift stores into the peers: a CT study with CT, enhanced CT and SEG in implicit and explicit VR. */
const isStoreFile = (r: ManifestRow) => r.path.startsWith('dcmqi/segmentations/23x38x3/');
/** Files storescu sends to pacshift. */
const isStorescuFile = (r: ManifestRow) =>
  r.path === 'highdicom/ct_image.dcm' || r.path === 'highdicom/sr_document.dcm';

const UNCOMPRESSED = new Set(['1.2.840.10008.1.2', '1.2.840.10008.1.2.1', '1.2.840.10008.1.2.2']);

/** The bytes after a file's meta. */
const datasetOf = (path: string): Buffer => {
  const b = readFileSync(path);
  return b.subarray(datasetOffset(b));
};

interface Hierarchy {
  patients: Set<string>;
  /** `${PatientID}\\${StudyInstanceUID}`: Orthanc and dcmqrscp key studies on both. */
  studies: Set<string>;
  seriesOfStudy: Map<string, Set<string>>;
  instancesOfSeries: Map<string, Set<string>>;
}

function hierarchyOf(rows: readonly ManifestRow[]): Hierarchy {
  const h: Hierarchy = {
    patients: new Set(),
    studies: new Set(),
    seriesOfStudy: new Map(),
    instancesOfSeries: new Map(),
  };
  for (const r of rows) {
    h.patients.add(r.patientId);
    h.studies.add(`${r.patientId}\\${r.studyInstanceUid}`);
    h.seriesOfStudy.set(
      r.studyInstanceUid,
      (h.seriesOfStudy.get(r.studyInstanceUid) ?? new Set()).add(r.seriesInstanceUid),
    );
    h.instancesOfSeries.set(
      r.seriesInstanceUid,
      (h.instancesOfSeries.get(r.seriesInstanceUid) ?? new Set()).add(r.sopInstanceUid),
    );
  }
  return h;
}

async function find(
  peer: Peer,
  model: QueryModel,
  level: QueryLevel,
  keys: Record<string, string>,
): Promise<SmallDataset[]> {
  const ch = await openChannel(peer, [{ abstractSyntax: QR[model].find, transferSyntaxes: UNCOMPRESSED_LE }]);
  if (!ch.ok) throw new Error(`find: ${ch.error.kind}: ${ch.error.message}`);
  const r = await cFindAll(ch.value, buildIdentifier(level, keys), { model });
  await ch.value.assoc.release();
  if (!r.ok) throw new Error(`find: ${r.error.kind}: ${r.error.message}`);
  expect(r.value.status).toBe(0);
  expect(r.value.complete).toBe(true);
  expect(r.value.matches).toBe(r.value.identifiers.length);
  return r.value.identifiers;
}

async function echo(peer: Peer) {
  const ch = await openChannel(peer, [{ abstractSyntax: VERIFICATION, transferSyntaxes: UNCOMPRESSED_LE }]);
  if (!ch.ok) return ch;
  const r = await cEcho(ch.value);
  await ch.value.assoc.release();
  return r;
}

const describeIf = describe.skipIf(!peers.dcmtk || !peers.orthanc || !hasCorpus());

describeIf('interop: pacshift network core against DCMTK and Orthanc', () => {
  let scp: TestScp;
  let orthanc: Orthanc;
  let qr: Dcmqrscp;
  let storescp: Storescp;
  let qrRows: ManifestRow[];
  const ORTHANC_NAME = 'pacshift';

  const orthancPeer = (callingAeTitle = 'PACSHIFT'): Peer => ({
    host: orthanc.host,
    port: orthanc.dicomPort,
    aeTitle: orthanc.aeTitle,
    callingAeTitle,
  });
  const qrPeer = (): Peer => ({
    host: qr.host,
    port: qr.port,
    aeTitle: qr.aeTitle,
    callingAeTitle: 'PACSHIFT',
  });
  const storescpPeer = (): Peer => ({
    host: storescp.host,
    port: storescp.port,
    aeTitle: storescp.aeTitle,
    callingAeTitle: 'PACSHIFT',
  });

  beforeAll(async () => {
    qrRows = manifest().filter(isQrFile);
    scp = await startTestScp({ aeTitle: 'PACSHIFT_DEST' });
    const dest = { aeTitle: scp.aeTitle, host: scp.host, port: scp.port };
    [orthanc, qr, storescp] = await Promise.all([
      startOrthanc({ aeTitle: 'ORTHANC_QR', modalities: { [ORTHANC_NAME]: dest } }),
      startDcmqrscp({ aeTitle: 'DCMQRSCP', files: qrRows.map((r) => r.absPath), peers: [dest] }),
      startStorescp({ aeTitle: 'STORESCP' }),
    ]);
    for (const r of qrRows) await orthanc.upload(r.absPath);
  }, 120_000);
  afterAll(async () => {
    await Promise.all([orthanc?.stop(), qr?.stop(), storescp?.stop()]);
    await scp?.stop();
  });

  it('loaded every Q/R file into both peers', async () => {
    expect(qrRows.length).toBeGreaterThan(15);
    expect(qr.refused).toEqual([]);
    expect(qr.indexed).toHaveLength(qrRows.length);
    const instances = await orthanc.rest.get<string[]>('/instances');
    expect(instances).toHaveLength(qrRows.length);
  });

  describe('C-ECHO both ways', () => {
    it('echoscu → pacshift SCP', async () => {
      const r = await echoscu(scp);
      expect(r.ok, r.stderr).toBe(true);
    });

    it('pacshift → storescp, dcmqrscp and Orthanc', async () => {
      for (const peer of [storescpPeer(), qrPeer(), orthancPeer()]) {
        const r = await echo(peer);
        expect(r.ok, `${peer.aeTitle}: ${r.ok ? '' : r.error.message}`).toBe(true);
        if (r.ok) expect(r.value.status).toBe(0);
      }
    });

    it('Orthanc (REST /modalities/{name}/echo) → pacshift SCP', async () => {
      const before = scp.associations.length;
      await orthanc.rest.post(`/modalities/${ORTHANC_NAME}/echo`, {});
      expect(scp.associations.length).toBe(before + 1);
      expect(scp.associations.at(-1)!.info.callingAeTitle).toBe(orthanc.aeTitle);
    });

    it('an echo to a port nobody listens on is a typed connect failure', async () => {
      const r = await echo({ ...storescpPeer(), port: 1 });
      expect(r.ok).toBe(false);
      if (!r.ok) expect(r.error.kind).toBe('connect-failed');
    });
  });

  describe('C-FIND at patient, study, series and image level', () => {
    for (const which of ['Orthanc', 'dcmqrscp'] as const) {
      it(`${which}: every level answers what was loaded`, async () => {
        const peer = which === 'Orthanc' ? orthancPeer() : qrPeer();
        const h = hierarchyOf(qrRows);

        const patients = await find(peer, 'patient', 'PATIENT', { PatientID: '' });
        expect(new Set(patients.map((m) => str(m, 0x00100020)))).toEqual(h.patients);
        expect(patients).toHaveLength(h.patients.size);

        const studies = await find(peer, 'study', 'STUDY', { PatientID: '', StudyInstanceUID: '' });
        expect(new Set(studies.map((m) => `${str(m, 0x00100020)}\\${str(m, 0x0020000d)}`))).toEqual(
          h.studies,
        );
        expect(studies).toHaveLength(h.studies.size);

        let seriesCount = 0;
        let imageCount = 0;
        for (const [study, series] of h.seriesOfStudy) {
          const s = await find(peer, 'study', 'SERIES', { StudyInstanceUID: study, SeriesInstanceUID: '' });
          expect(new Set(s.map((m) => str(m, 0x0020000e))), study).toEqual(series);
          expect(s).toHaveLength(series.size);
          seriesCount += s.length;
          for (const se of series) {
            const images = await find(peer, 'study', 'IMAGE', {
              StudyInstanceUID: study,
              SeriesInstanceUID: se,
              SOPInstanceUID: '',
            });
            expect(new Set(images.map((m) => str(m, 0x00080018))), se).toEqual(h.instancesOfSeries.get(se));
            expect(images).toHaveLength(h.instancesOfSeries.get(se)!.size);
            imageCount += images.length;
          }
        }
        expect(imageCount).toBe(qrRows.length);
        if (which === 'Orthanc') {
          // Orthanc's own index agrees.
          expect((await orthanc.rest.get<string[]>('/patients')).length).toBe(h.patients.size);
          expect((await orthanc.rest.get<string[]>('/studies')).length).toBe(h.studies.size);
          expect((await orthanc.rest.get<string[]>('/series')).length).toBe(seriesCount);
        }
        console.log(
          `${which} C-FIND: ${patients.length} patients, ${studies.length} studies, ${seriesCount} series, ${imageCount} images`,
        );
      });
    }
  });

  /** The Q/R files of one study, with what the sender knows of each (SOP class, transfer syntax, data set range). */
  async function studyFiles(studyUid: string): Promise<SendableInstance[]> {
    const rows = qrRows.filter((r) => r.studyInstanceUid === studyUid);
    const { sendable, unsendable } = await readSendable(rows.map((r) => r.absPath));
    expect(unsendable).toEqual([]);
    return sendable;
  }

  /** Per instance of a retrieve: arrived with identical data set bytes, arrived in another syntax, or missing. */
  async function reconcile(expected: readonly SendableInstance[], results: readonly StoreResult[]) {
    const arrived = results.flatMap((r) => (r.ok ? [r.instance] : []));
    const rows: {
      inst: SendableInstance;
      state: 'identical' | 'other-syntax' | 'different-bytes' | 'missing';
      receivedTs?: string;
    }[] = [];
    for (const inst of expected) {
      const got = arrived.filter((a) => a.sopInstanceUid === inst.sopInstanceUid);
      if (got.length === 0) {
        rows.push({ inst, state: 'missing' });
        continue;
      }
      expect(got, `${rel(inst.path)} arrived more than once`).toHaveLength(1);
      const r = await receivedDigest(got[0]!.path);
      const s = await sentDigest(inst);
      const state =
        r.transferSyntaxUid !== inst.transferSyntaxUid
          ? 'other-syntax'
          : r.sha256 === s.sha256
            ? 'identical'
            : 'different-bytes';
      rows.push({ inst, state, receivedTs: r.transferSyntaxUid });
    }
    // Nothing arrived that was not asked for.
    expect(arrived.filter((a) => !expected.some((e) => e.sopInstanceUid === a.sopInstanceUid))).toEqual([]);
    return rows;
  }

  /**
   * dcmqrscp sends each uncompressed file on the first context accepted for its SOP class, explicit VR little endian
   * (C-MOVE: it proposes that first; C-GET: the first we proposed), converting implicit VR and big endian files.
   */
  const expectDcmqrscpConversions = (rows: Awaited<ReturnType<typeof reconcile>>) => {
    for (const r of rows.filter((x) => x.state !== 'missing')) {
      if (r.inst.transferSyntaxUid === EXPLICIT_LE) expect(r.state, rel(r.inst.path)).toBe('identical');
      else expect([r.state, r.receivedTs], rel(r.inst.path)).toEqual(['other-syntax', EXPLICIT_LE]);
    }
  };

  const printReconciled = (title: string, rows: Awaited<ReturnType<typeof reconcile>>) =>
    printTable(
      title,
      ['file', 'sent as', 'state', 'received as'],
      rows.map((r) => [rel(r.inst.path), r.inst.transferSyntaxUid, r.state, r.receivedTs ?? '']),
    );

  describe('C-MOVE into a pacshift SCP', () => {
    it('from Orthanc: every instance of every study arrives with its data set bytes; final status and counts agree', async () => {
      const ch = await openChannel(orthancPeer(), [
        { abstractSyntax: QR.study.move, transferSyntaxes: UNCOMPRESSED_LE },
      ]);
      if (!ch.ok) throw new Error(ch.error.message);
      const all: Awaited<ReturnType<typeof reconcile>> = [];
      for (const study of new Set(qrRows.map((r) => r.studyInstanceUid))) {
        const expected = await studyFiles(study);
        const from = scp.stored.length;
        const r = await cMove(ch.value, buildIdentifier('STUDY', { StudyInstanceUID: study }), scp.aeTitle);
        if (!r.ok) throw new Error(`${r.error.kind}: ${r.error.message}`);
        expect(r.value.status).toBe(0);
        expect(r.value.counts.completed).toBe(expected.length);
        expect(r.value.counts.failed ?? 0).toBe(0);
        expect(r.value.failedSopInstanceUids).toEqual([]);
        // The sub-operations ran on other associations: the final response came after them (Orthanc is synchronous).
        const rows = await reconcile(expected, scp.stored.slice(from));
        all.push(...rows);
      }
      await ch.value.assoc.release();
      printReconciled('C-MOVE from Orthanc', all);
      expect(all.filter((r) => r.state !== 'identical').map((r) => rel(r.inst.path))).toEqual([]);
    });

    it('from dcmqrscp: uncompressed instances arrive; compressed ones fail as DCMTK cannot send them, and the counts say so', async () => {
      const ch = await openChannel(qrPeer(), [
        { abstractSyntax: QR.study.move, transferSyntaxes: UNCOMPRESSED_LE },
      ]);
      if (!ch.ok) throw new Error(ch.error.message);
      const all: Awaited<ReturnType<typeof reconcile>> = [];
      for (const study of new Set(qrRows.map((r) => r.studyInstanceUid))) {
        const expected = await studyFiles(study);
        const compressed = expected.filter((e) => !UNCOMPRESSED.has(e.transferSyntaxUid));
        const from = scp.stored.length;
        const r = await cMove(ch.value, buildIdentifier('STUDY', { StudyInstanceUID: study }), scp.aeTitle);
        if (!r.ok) throw new Error(`${r.error.kind}: ${r.error.message}`);
        console.log(
          `dcmqrscp C-MOVE ${study}: status 0x${r.value.status.toString(16)} counts ${JSON.stringify(r.value.counts)} failed list ${r.value.failedSopInstanceUids.length}`,
        );
        const rows = await reconcile(expected, scp.stored.slice(from));
        all.push(...rows);
        expect(r.value.counts.completed ?? 0).toBe(expected.length - compressed.length);
        expect(r.value.counts.failed ?? 0).toBe(compressed.length);
        // DCMTK: all sub-operations failed → A702 (unable to perform sub-operations); some → B000; none → 0000.
        expect(r.value.status).toBe(
          compressed.length === 0 ? 0 : compressed.length === expected.length ? 0xa702 : 0xb000,
        );
        expect(new Set(r.value.failedSopInstanceUids)).toEqual(
          new Set(compressed.map((c) => c.sopInstanceUid)),
        );
        expect(rows.filter((x) => x.state === 'missing').map((x) => x.inst)).toEqual(compressed);
      }
      await ch.value.assoc.release();
      printReconciled('C-MOVE from dcmqrscp', all);
      expectDcmqrscpConversions(all);
    });
  });

  describe('C-GET into pacshift (storage contexts from the study)', () => {
    /** One storage context per (SOP class, transfer syntax) of the study's files, with the SCP role. */
    const storageOf = (files: readonly SendableInstance[]) => {
      const seen = new Map<string, { sopClassUid: string; transferSyntaxes: string[] }>();
      for (const f of files)
        seen.set(`${f.sopClassUid}|${f.transferSyntaxUid}`, {
          sopClassUid: f.sopClassUid,
          transferSyntaxes: [f.transferSyntaxUid],
        });
      return [...seen.values()];
    };

    for (const which of ['Orthanc', 'dcmqrscp'] as const) {
      it(`from ${which}`, async () => {
        const dir = makeTempDir('cget');
        const all: Awaited<ReturnType<typeof reconcile>> = [];
        try {
          for (const study of new Set(qrRows.map((r) => r.studyInstanceUid))) {
            const expected = await studyFiles(study);
            const results: StoreResult[] = [];
            const r = await cGet(
              which === 'Orthanc' ? orthancPeer() : qrPeer(),
              buildIdentifier('STUDY', { StudyInstanceUID: study }),
              storageOf(expected),
              new FolderStoreTarget(dir),
              {
                onStored: (x) => results.push(x),
              },
            );
            if (!r.ok) throw new Error(`${which} C-GET ${study}: ${r.error.kind}: ${r.error.message}`);
            console.log(
              `${which} C-GET ${study}: status 0x${r.value.status.toString(16)} counts ${JSON.stringify(r.value.counts)} failed list ${r.value.failedSopInstanceUids.length}`,
            );
            const rows = await reconcile(expected, results);
            all.push(...rows);
            const missing = rows.filter((x) => x.state === 'missing').map((x) => x.inst);
            if (which === 'Orthanc') {
              expect(r.value.status).toBe(0);
              expect(r.value.counts.completed).toBe(expected.length);
              expect(missing).toEqual([]);
            } else {
              // dcmqrscp only sends uncompressed data sets and cannot decompress: compressed files fail, counted and listed.
              const compressed = expected.filter((e) => !UNCOMPRESSED.has(e.transferSyntaxUid));
              expect(missing).toEqual(compressed);
              expect(r.value.counts.completed ?? 0).toBe(expected.length - compressed.length);
              expect(r.value.counts.failed ?? 0).toBe(compressed.length);
              expect(new Set(r.value.failedSopInstanceUids)).toEqual(
                new Set(compressed.map((c) => c.sopInstanceUid)),
              );
              expect(r.value.status).toBe(
                compressed.length === 0 ? 0 : compressed.length === expected.length ? 0xa702 : 0xb000,
              );
            }
          }
        } finally {
          removeTempDir(dir);
        }
        printReconciled(`C-GET from ${which}`, all);
        if (which === 'Orthanc')
          expect(all.filter((r) => r.state !== 'identical').map((r) => rel(r.inst.path))).toEqual([]);
        else expectDcmqrscpConversions(all);
      });
    }
  });

  describe('C-STORE both ways', () => {
    it('storescu → pacshift SCP: every file arrives, data set bytes as storescu sent them', async () => {
      const rows = manifest().filter(isStorescuFile);
      const from = scp.stored.length;
      const r = await storescu(
        scp,
        rows.map((x) => x.absPath),
      );
      expect(r.ok, r.stderr).toBe(true);
      const results = await scp.waitForStored(from + rows.length);
      const got = results.slice(from).flatMap((x) => (x.ok ? [x.instance] : []));
      expect(new Set(got.map((g) => g.sopInstanceUid))).toEqual(new Set(rows.map((x) => x.sopInstanceUid)));
      for (const g of got) expect(g.callingAeTitle).toBe('PACSHIFT');
      const changed: string[] = [];
      for (const row of rows) {
        const g = got.find((x) => x.sopInstanceUid === row.sopInstanceUid)!;
        const r2 = await receivedDigest(g.path);
        expect(r2.readError).toBeUndefined();
        if (!datasetOf(g.path).equals(datasetOf(row.absPath))) changed.push(rel(row.absPath));
      }
      // storescu (no -nh... it re-encodes in explicit VR LE): report, do not hide, what it changed.
      console.log(
        `storescu → pacshift: ${rows.length - changed.length}/${rows.length} data sets unchanged by storescu${changed.length ? `; re-encoded by storescu: ${changed.join(', ')}` : ''}`,
      );
    });

    it('Orthanc (REST /modalities/{name}/store) → pacshift SCP: a study arrives with its data set bytes', async () => {
      const study = qrRows.find((r) => r.path.startsWith('dcm_qa/dcm_qa_nih/20180918Si/'))!.studyInstanceUid;
      const expected = await studyFiles(study);
      const [orthancStudy] = await orthanc.rest.post<{ ID: string }[]>('/tools/lookup', study);
      const from = scp.stored.length;
      await orthanc.rest.post(`/modalities/${ORTHANC_NAME}/store`, {
        Resources: [orthancStudy!.ID],
        Synchronous: true,
      });
      await scp.waitForStored(from + expected.length);
      const rows = await reconcile(expected, scp.stored.slice(from));
      expect(rows.filter((x) => x.state !== 'identical').map((x) => rel(x.inst.path))).toEqual([]);
    });

    it('pacshift → storescp: every instance stored, data set bytes identical', async () => {
      const { sendable } = await readSendable(
        manifest()
          .filter(isStoreFile)
          .map((r) => r.absPath),
      );
      const before = storescp.received().length;
      const outcomes = await storeInstances(storescpPeer(), sendable);
      expect(outcomes.map((o) => [rel(o.instance.path), o.ok, o.status])).toEqual(
        sendable.map((i) => [rel(i.path), true, 0]),
      );
      const files = (await storescp.waitForFiles(before + sendable.length)).slice(before);
      const received = await Promise.all(files.map(receivedDigest));
      for (const i of sendable) {
        const s = await sentDigest(i, 'other');
        expect(
          received.some((r) => r.sopInstanceUid === i.sopInstanceUid && r.sha256 === s.sha256),
          rel(i.path),
        ).toBe(true);
      }
    });

    it('pacshift → Orthanc: every instance stored, Orthanc holds the data set bytes; storage commitment reported by N-EVENT-REPORT', async () => {
      const { sendable } = await readSendable(
        manifest()
          .filter(isStoreFile)
          .map((r) => r.absPath),
      );
      const outcomes = await storeInstances(orthancPeer(), sendable, { associations: 2 });
      expect(outcomes.filter((o) => !o.ok || o.status !== 0)).toEqual([]);
      // Orthanc re-encodes what it receives by C-STORE (DCMTK writes undefined-length sequences with explicit
      // lengths): the bytes may differ, the elements must not.
      const kept: string[][] = [];
      const dir = makeTempDir('orthanc-files');
      try {
        for (const i of sendable) {
          const found = await orthanc.rest.post<{ ID: string; Type: string }[]>(
            '/tools/lookup',
            i.sopInstanceUid,
          );
          const inst = found.filter((f) => f.Type === 'Instance');
          expect(inst, rel(i.path)).toHaveLength(1);
          const bytes = Buffer.from(
            await (await orthanc.rest.request('GET', `/instances/${inst[0]!.ID}/file`)).arrayBuffer(),
          );
          const copy = join(dir, `${i.sopInstanceUid}.dcm`);
          writeFileSync(copy, bytes);
          const same = bytes.subarray(datasetOffset(bytes)).equals(datasetOf(i.path));
          kept.push([rel(i.path), same ? 'bytes identical' : 'bytes differ, elements compared']);
          if (!same) expect(await elementsOf(copy), rel(i.path)).toEqual(await elementsOf(i.path));
        }
      } finally {
        removeTempDir(dir);
      }
      printTable('pacshift → Orthanc: what Orthanc holds', ['file', 'data set'], kept);

      // Storage commitment: Orthanc answers N-ACTION, then reports on a new association to the calling AE
      // (registered in its DicomModalities as our SCP).
      const unknown = {
        sopClassUid: sendable[0]!.sopClassUid,
        sopInstanceUid: '1.2.826.0.1.3680043.2.1143.424242.1',
      };
      const ch = await openChannel(orthancPeer(scp.aeTitle), [
        { abstractSyntax: STORAGE_COMMITMENT_PUSH, transferSyntaxes: UNCOMPRESSED_LE },
      ]);
      if (!ch.ok) throw new Error(ch.error.message);
      const asked = [
        ...sendable.map((i) => ({ sopClassUid: i.sopClassUid, sopInstanceUid: i.sopInstanceUid })),
        unknown,
      ];
      const before = scp.reports.length;
      const r = await requestCommitment(ch.value, asked);
      await ch.value.assoc.release();
      if (!r.ok) throw new Error(`${r.error.kind}: ${r.error.message}`);
      expect(r.value.status).toBe(0);
      const [report] = (await scp.waitForReports(before + 1)).slice(before);
      expect(report!.transactionUid).toBe(r.value.transactionUid);
      // Event type 2: some failed (1 = all committed). Failures carry a reason from the status table.
      expect(report!.eventTypeId).toBe(2);
      expect(new Set(report!.committed.map((c) => c.sopInstanceUid))).toEqual(
        new Set(sendable.map((i) => i.sopInstanceUid)),
      );
      expect(report!.failed.map((f) => f.sopInstanceUid)).toEqual([unknown.sopInstanceUid]);
      console.log(
        `storage commitment failure reason from Orthanc: 0x${report!.failed[0]!.reason.toString(16).padStart(4, '0')} (${report!.failed[0]!.entry.meaning})`,
      );
      expect(report!.failed[0]!.reason).toBe(0x0112);
      expect(report!.failed[0]!.entry.action).toBe('resend-commit');
    });
  });
});
