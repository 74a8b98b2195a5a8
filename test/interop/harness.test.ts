import { X509Certificate } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  corpusFiles,
  hasCorpus,
  manifest,
  wellFormedUncompressed,
  type ManifestRow,
} from '../harness/corpus.js';
import { startDcmqrscp, type Dcmqrscp } from '../harness/dcmqrscp.js';
import { datasetBytes } from '../harness/dicom-file.js';
import { PDataCollector } from '../harness/pdata.js';
import { startOrthanc, type Orthanc, type OrthancModality } from '../harness/orthanc.js';
import { freePort, waitForPort } from '../harness/ports.js';
import { hasCommand, peers } from '../harness/process.js';
import { startProxy, type Proxy } from '../harness/proxy.js';
import { echoscu, findscu, movescu, storescu } from '../harness/scu.js';
import { startStorescp, type Storescp } from '../harness/storescp.js';
import { makeCertificates, type Certificates } from '../harness/tls.js';

// Proves the harness against the real peers. Peers that are not installed skip their block.

/** A few small, well-formed, uncompressed files from different studies. */
function sampleFiles(count: number): ManifestRow[] {
  const seen = new Set<string>();
  const picked: ManifestRow[] = [];
  for (const row of wellFormedUncompressed()
    .filter((r) => r.transferSyntax === 'Explicit VR Little Endian' && r.size < 300_000)
    .sort((a, b) => a.path.localeCompare(b.path))) {
    if (seen.has(row.studyInstanceUid)) continue;
    seen.add(row.studyInstanceUid);
    picked.push(row);
    if (picked.length === count) break;
  }
  return picked;
}

describe('ports', () => {
  it('freePort gives a port nobody listens on; waitForPort times out on it', async () => {
    const port = await freePort();
    expect(port).toBeGreaterThan(0);
    await expect(waitForPort(port, 200)).rejects.toThrow(/nothing listening/);
  });
});

describe.skipIf(!hasCorpus())('corpus manifest', () => {
  it('has 364 typed rows whose files exist', () => {
    const rows = manifest();
    expect(rows).toHaveLength(364);
    expect(corpusFiles().every((f) => existsSync(f))).toBe(true);
    const ct = rows.find((r) => r.path === 'dcm4che/CT-JPEGLosslessSV1.dcm')!;
    expect(ct.size).toBe(131058);
    expect(ct.sopClass).toBe('CT Image Storage');
    expect(ct.dciodvfyErrors).toBe(5);
    expect(ct.numberOfFrames).toBeNull();
    expect(wellFormedUncompressed().length).toBeGreaterThan(100);
  });
});

describe.skipIf(!peers.dcmtk || !hasCorpus())('storescp', () => {
  let scp: Storescp | undefined;
  beforeAll(async () => {
    scp = await startStorescp({ aeTitle: 'HARNESS_SCP' });
  });
  afterAll(async () => {
    await scp?.stop();
  });

  it('answers C-ECHO', async () => {
    const r = await echoscu(scp!);
    expect(r.ok, r.stderr).toBe(true);
  });

  it('writes the data set bytes exactly as they came over the wire', async () => {
    // storescu -> proxy (capturing P-DATA) -> storescp: what storescp wrote must equal what was sent.
    // (storescu itself re-encodes some files, e.g. it sends an all-space PN as empty: compare with the wire.)
    const rows = sampleFiles(3);
    expect(rows).toHaveLength(3);
    const wire = new PDataCollector();
    const proxy = await startProxy({
      targetHost: scp!.host,
      targetPort: scp!.port,
      onData: (d, chunk) => d === 'upstream' && wire.push(chunk),
    });
    try {
      const r = await storescu(
        { ...scp!, host: proxy.host, port: proxy.port },
        rows.map((row) => row.absPath),
      );
      expect(r.ok, r.stderr + scp!.logTail()).toBe(true);
    } finally {
      await proxy.stop();
    }
    const received = await scp!.waitForFiles(3);
    const sent = wire.datasets();
    expect(sent).toHaveLength(3);
    // -xcr reports files asynchronously: their order may differ from the sending order
    for (const file of received)
      expect(
        sent.some((s) => s.equals(datasetBytes(file))),
        file,
      ).toBe(true);
    const unchanged = rows.filter((row) => sent.some((s) => s.equals(datasetBytes(row.absPath)))).length;
    console.log(`storescu sent ${unchanged} of ${rows.length} files with their data set bytes unchanged`);
    expect(scp!.files()).toHaveLength(3);
  });
});

describe.skipIf(!peers.dcmtk || !hasCorpus())('storescp with a restricted accept list', () => {
  let scp: Storescp | undefined;
  beforeAll(async () => {
    scp = await startStorescp({
      aeTitle: 'ONLY_CT',
      accept: { sopClasses: ['1.2.840.10008.5.1.4.1.1.2'], transferSyntaxes: ['1.2.840.10008.1.2.1'] },
    });
  });
  afterAll(async () => {
    await scp?.stop();
  });

  it('takes CT and refuses MR', async () => {
    const uncompressed = wellFormedUncompressed().filter(
      (r) => r.transferSyntax === 'Explicit VR Little Endian' && r.size < 300_000,
    );
    const ct = uncompressed.find((r) => r.sopClass === 'CT Image Storage')!;
    const mr = uncompressed.find((r) => r.sopClass === 'MR Image Storage')!;
    expect((await echoscu(scp!)).ok).toBe(true);
    expect((await storescu(scp!, [ct.absPath])).ok).toBe(true);
    expect((await storescu(scp!, [mr.absPath])).ok).toBe(false);
    expect(await scp!.waitForFiles(1)).toHaveLength(1);
  });
});

describe.skipIf(!peers.dcmtk || !hasCorpus())('dcmqrscp', () => {
  let qr: Dcmqrscp | undefined;
  let dest: Storescp | undefined;
  beforeAll(async () => {
    dest = await startStorescp({ aeTitle: 'MOVE_DEST' });
    qr = await startDcmqrscp({ aeTitle: 'HARNESS_QR', files: corpusFiles(), peers: [dest] });
  });
  afterAll(async () => {
    await qr?.stop();
    await dest?.stop();
  });

  it('indexes the corpus, reporting what it refuses', () => {
    const { indexed, refused } = qr!;
    console.log(
      `dcmqrscp indexed ${indexed.length}, refused ${refused.length} of ${corpusFiles().length} corpus files`,
    );
    for (const r of refused)
      console.log(`  refused ${r.file.replace(/^.*\/corpus\//, '')}: ${r.reason.slice(0, 160)}`);
    expect(indexed.length + refused.length).toBe(corpusFiles().length);
    expect(indexed.length).toBeGreaterThan(300);
    // the deeply nested file crashes dcmqridx; indexing must go on past it
    expect(refused.some((r) => r.file.endsWith('2026-05-06-Deeply-Nested-Sequence.dcm'))).toBe(true);
  });

  it('answers C-ECHO and C-FIND at study level', async () => {
    expect((await echoscu(qr!)).ok).toBe(true);
    const r = await findscu(qr!, { level: 'STUDY', keys: { StudyInstanceUID: '' } });
    expect(r.ok, r.stderr).toBe(true);
    // dcmqrscp answers one study-level match per (PatientID, StudyInstanceUID): the corpus has two study UIDs
    // shared by two patients each, so they come twice.
    const indexedRows = manifest().filter((m) => qr!.indexed.includes(m.absPath));
    const studies = new Set(indexedRows.map((m) => m.studyInstanceUid));
    const pairs = new Set(indexedRows.map((m) => `${m.patientId}\\${m.studyInstanceUid}`));
    console.log(
      `dcmqrscp C-FIND: ${r.matches.length} matches (final status ${r.finalStatus}) for ${studies.size} study UIDs`,
    );
    expect(r.matches.length).toBe(pairs.size);
    expect(new Set(r.matches.map((m) => m.StudyInstanceUID))).toEqual(studies);
    expect(r.finalStatus).toBe('Success');
  });

  it('C-MOVEs an uncompressed study to a known destination', async () => {
    const row = sampleFiles(1)[0]!;
    const studyRows = manifest().filter(
      (m) => m.studyInstanceUid === row.studyInstanceUid && qr!.indexed.includes(m.absPath),
    );
    const r = await movescu(qr!, {
      level: 'STUDY',
      keys: { StudyInstanceUID: row.studyInstanceUid },
      destination: dest!.aeTitle,
    });
    expect(r.ok, r.stderr + qr!.logTail()).toBe(true);
    await dest!.waitForFiles(studyRows.length);
  });
});

describe.skipIf(!peers.orthanc || !hasCorpus())('Orthanc', () => {
  let orthanc: Orthanc | undefined;
  let capped: Orthanc | undefined;
  let dest: Storescp | undefined;
  beforeAll(async () => {
    dest = peers.dcmtk ? await startStorescp({ aeTitle: 'ORTHANC_DEST' }) : undefined;
    const modalities: Record<string, OrthancModality> = dest
      ? { dest: { aeTitle: dest.aeTitle, host: dest.host, port: dest.port } }
      : {};
    [orthanc, capped] = await Promise.all([
      startOrthanc({ aeTitle: 'HARNESS_ORTHANC', modalities, dicomWeb: peers.dicomweb }),
      startOrthanc({ aeTitle: 'CAPPED', config: { LimitFindResults: 2 } }),
    ]);
  });
  afterAll(async () => {
    await Promise.all([orthanc?.stop(), capped?.stop(), dest?.stop()]);
  });

  it('answers C-ECHO and GET /system', async () => {
    expect(
      (await echoscu({ host: orthanc!.host, port: orthanc!.dicomPort, aeTitle: orthanc!.aeTitle })).ok,
    ).toBe(true);
    const system = await orthanc!.rest.get<{ DicomAet: string; Version: string }>('/system');
    expect(system.DicomAet).toBe('HARNESS_ORTHANC');
    console.log(`Orthanc ${system.Version}`);
  });

  it('stores what storescu sends and what upload() posts; REST and C-FIND see them', async () => {
    const target = { host: orthanc!.host, port: orthanc!.dicomPort, aeTitle: orthanc!.aeTitle };
    const rows = sampleFiles(4);
    const r = await storescu(
      target,
      rows.slice(0, 3).map((row) => row.absPath),
    );
    expect(r.ok, r.stderr + orthanc!.logTail()).toBe(true);
    const uploaded = await orthanc!.upload(rows[3]!.absPath);
    expect(uploaded.Status).toBe('Success');
    const instances = await orthanc!.rest.get<string[]>('/instances');
    expect(instances).toHaveLength(4);
    const sopUids = await Promise.all(
      instances.map((id) => orthanc!.rest.get<string>(`/instances/${id}/content/0008-0018`)),
    );
    expect(new Set(sopUids.map((s) => s.replace(/[\s\0]+$/, '')))).toEqual(
      new Set(rows.map((row) => row.sopInstanceUid)),
    );
    const find = await findscu(target, { level: 'STUDY', keys: { StudyInstanceUID: '' } });
    expect(find.matches.map((m) => m.StudyInstanceUID).sort()).toEqual(
      rows.map((row) => row.studyInstanceUid).sort(),
    );
    expect(find.finalStatus).toBe('Success');
  });

  it.skipIf(!peers.dcmtk)('C-MOVEs a study to a registered modality', async () => {
    const target = { host: orthanc!.host, port: orthanc!.dicomPort, aeTitle: orthanc!.aeTitle };
    const row = sampleFiles(1)[0]!;
    const modalities = await orthanc!.rest.get<string[]>('/modalities');
    expect(modalities).toEqual(['dest']);
    const r = await movescu(target, {
      level: 'STUDY',
      keys: { StudyInstanceUID: row.studyInstanceUid },
      destination: dest!.aeTitle,
    });
    expect(r.ok, r.stderr + orthanc!.logTail()).toBe(true);
    const [file] = await dest!.waitForFiles(1);
    expect(datasetBytes(file!).length).toBeGreaterThan(0);
  });

  it.skipIf(!peers.dicomweb)('serves DICOMweb when asked', async () => {
    const studies = await orthanc!.rest.get<unknown[]>('/dicom-web/studies');
    expect(studies.length).toBe(4);
  });

  it('with LimitFindResults, ends a capped C-FIND with Cancel (FE00)', async () => {
    const target = { host: capped!.host, port: capped!.dicomPort, aeTitle: capped!.aeTitle };
    for (const row of sampleFiles(3)) await capped!.upload(row.absPath);
    const find = await findscu(target, { level: 'STUDY', keys: { StudyInstanceUID: '' } });
    console.log(
      `Orthanc LimitFindResults=2 with 3 studies: ${find.matches.length} matches, final status ${find.finalStatus}`,
    );
    expect(find.matches).toHaveLength(2);
    expect(find.finalStatus).toMatch(/^Cancel/);
  });
});

describe.skipIf(!peers.dcmtk)('proxy in front of storescp', () => {
  let scp: Storescp | undefined;
  let proxy: Proxy | undefined;
  beforeAll(async () => {
    scp = await startStorescp({ aeTitle: 'BEHIND_PROXY' });
    proxy = await startProxy({ targetHost: scp.host, targetPort: scp.port });
  });
  afterAll(async () => {
    await proxy?.stop();
    await scp?.stop();
  });
  const viaProxy = () => ({ host: proxy!.host, port: proxy!.port, aeTitle: 'BEHIND_PROXY' });

  it('passes C-ECHO through', async () => {
    const r = await echoscu(viaProxy());
    expect(r.ok, r.stderr).toBe(true);
    const stats = proxy!.stats();
    expect(stats.connections).toBe(1);
    expect(stats.bytes.upstream).toBeGreaterThan(68); // at least an A-ASSOCIATE-RQ
    expect(stats.bytes.downstream).toBeGreaterThan(68);
  });

  it('cutAfterBytes makes C-ECHO fail, in either direction; clearFaults heals', async () => {
    proxy!.cutAfterBytes(100, 'upstream');
    const up = await echoscu(viaProxy());
    expect(up.ok).toBe(false);
    proxy!.clearFaults();
    proxy!.cutAfterBytes(10, 'downstream', { mode: 'close' });
    const down = await echoscu(viaProxy());
    expect(down.ok).toBe(false);
    proxy!.clearFaults();
    expect((await echoscu(viaProxy())).ok).toBe(true);
    expect(proxy!.stats().cuts).toBe(2);
  });

  it('a once-fault fails the first attempt only', async () => {
    proxy!.cutAfterBytes(0, 'downstream', { once: true });
    expect((await echoscu(viaProxy())).ok).toBe(false);
    expect((await echoscu(viaProxy())).ok).toBe(true);
    proxy!.clearFaults();
  });

  it('pause holds every byte until resume', async () => {
    proxy!.pause();
    const before = proxy!.stats();
    const pending = echoscu(viaProxy());
    await new Promise((r) => setTimeout(r, 300));
    const during = proxy!.stats();
    expect(during.connections).toBe(before.connections + 1);
    expect(during.bytes).toEqual(before.bytes);
    proxy!.resume();
    expect((await pending).ok).toBe(true);
  });

  it('inject writes raw bytes into open connections', async () => {
    // Connections of the earlier tests may still be closing: inject must reach ours alone.
    while (proxy!.stats().open > 0) await new Promise((r) => setTimeout(r, 5));
    const socket = connect({ host: proxy!.host, port: proxy!.port });
    socket.on('error', () => undefined); // storescp resets the connection after the upstream garbage
    const received: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => received.push(chunk));
    await new Promise<void>((r) => socket.once('connect', () => r()));
    while (proxy!.stats().open < 1) await new Promise((r) => setTimeout(r, 5));
    expect(proxy!.inject('downstream', Buffer.from('not a PDU'))).toBe(1);
    while (Buffer.concat(received).length < 9) await new Promise((r) => setTimeout(r, 5));
    expect(Buffer.concat(received).toString()).toBe('not a PDU');
    // upstream garbage: storescp drops the connection
    const closed = new Promise<void>((r) => socket.once('close', () => r()));
    proxy!.inject('upstream', Buffer.from([0x09, 0, 0, 0, 0, 2, 0, 0]));
    await closed;
  });

  it('a blackholed connection times out', async () => {
    proxy!.cutAfterBytes(0, 'downstream', { mode: 'blackhole', once: true });
    const r = await echoscu(viaProxy(), { networkTimeoutS: 1 });
    expect(r.ok).toBe(false);
    proxy!.closeAll();
    proxy!.clearFaults();
  });
});

describe.skipIf(!peers.dcmtk || !hasCommand('openssl'))('TLS', () => {
  let certs: Certificates | undefined;
  let scp: Storescp | undefined;
  beforeAll(async () => {
    certs = await makeCertificates({ hosts: ['localhost', '127.0.0.1'] });
    scp = await startStorescp({
      aeTitle: 'TLS_SCP',
      tls: { key: certs.server.key, cert: certs.server.cert, ca: certs.ca.cert, requirePeerCert: true },
    });
  });
  afterAll(async () => {
    await scp?.stop();
    certs?.cleanup();
  });

  it('makes certificates for the right and the wrong names', () => {
    const server = new X509Certificate(readFileSync(certs!.server.cert));
    const ca = new X509Certificate(readFileSync(certs!.ca.cert));
    const untrusted = new X509Certificate(readFileSync(certs!.untrusted.cert));
    const wrong = new X509Certificate(readFileSync(certs!.wrongHost.cert));
    expect(server.verify(ca.publicKey)).toBe(true);
    expect(server.checkHost('localhost')).toBe('localhost');
    expect(server.checkIP('127.0.0.1')).toBe('127.0.0.1');
    expect(untrusted.verify(ca.publicKey)).toBe(false);
    expect(wrong.verify(ca.publicKey)).toBe(true);
    expect(wrong.checkHost('localhost')).toBeUndefined();
  });

  it('storescp with TLS: a trusted client echoes, an untrusted one and a plain TCP one do not', async () => {
    const trusted = await echoscu(scp!, {
      tls: { key: certs!.client.key, cert: certs!.client.cert, ca: certs!.ca.cert },
    });
    expect(trusted.ok, trusted.stderr + scp!.logTail()).toBe(true);
    const untrusted = await echoscu(scp!, {
      tls: { key: certs!.untrusted.key, cert: certs!.untrusted.cert, ca: certs!.ca.cert },
    });
    expect(untrusted.ok).toBe(false);
    const plain = await echoscu(scp!, { networkTimeoutS: 2 });
    expect(plain.ok).toBe(false);
  });
});
