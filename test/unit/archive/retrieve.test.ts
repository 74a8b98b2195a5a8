import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeSmallDataset, encodingOf } from '../../../src/dicom/small-dataset.js';
import type { AssociationServer } from '../../../src/net/association/server.js';
import { CommandField, DATASET_PRESENT, NO_DATASET, Priority } from '../../../src/net/dimse/command.js';
import { lookupStatus } from '../../../src/net/dimse/status.js';
import { buildIdentifier } from '../../../src/net/services/identifier.js';
import { cGet, cMove } from '../../../src/net/services/retrieve-scu.js';
import { startScp, storageAcceptPolicy } from '../../../src/net/services/scp.js';
import { QR, UNCOMPRESSED_LE } from '../../../src/net/services/sop-classes.js';
import { FolderStoreTarget, type ReceivedInstance } from '../../../src/net/services/store-target.js';
import { hasCorpus, manifest, type ManifestRow } from '../../harness/corpus.js';
import { freePort } from '../../harness/ports.js';
import { makeTempDir, removeTempDir } from '../../harness/tmp.js';
import {
  type CorpusArchive,
  channelTo,
  datasetDigest,
  distinct,
  sentDigest,
  servedRows,
  startCorpusArchive,
} from './fixtures.js';

const MOVE_CONTEXTS = [
  { abstractSyntax: QR.study.move, transferSyntaxes: UNCOMPRESSED_LE },
  { abstractSyntax: QR.patient.move, transferSyntaxes: UNCOMPRESSED_LE },
];

/** A pacshift Storage SCP writing what it receives into a temp folder. */
async function startReceiver(aeTitle: string) {
  const dir = makeTempDir('recv');
  const received: ReceivedInstance[] = [];
  const server: AssociationServer = await startScp({
    aeTitle,
    port: 0,
    host: '127.0.0.1',
    policy: storageAcceptPolicy(),
    handlers: { store: new FolderStoreTarget(dir), onStored: (r) => r.ok && received.push(r.instance) },
  });
  return {
    dir,
    received,
    server,
    stop: async () => {
      await server.close();
      removeTempDir(dir);
    },
  };
}

/** Every received instance is byte-identical (data set SHA-256, see sentDigest) to a corpus file holding its SOP Instance UID. */
function expectByteIdentical(received: readonly ReceivedInstance[], rows: readonly ManifestRow[]) {
  const digestsByUid = new Map<string, Set<string>>();
  for (const r of rows) {
    const set = digestsByUid.get(r.sopInstanceUid) ?? new Set();
    set.add(sentDigest(r.absPath));
    digestsByUid.set(r.sopInstanceUid, set);
  }
  for (const inst of received) {
    const expected = digestsByUid.get(inst.sopInstanceUid);
    expect(expected, inst.sopInstanceUid).toBeDefined();
    expect(expected!.has(datasetDigest(inst.path)), inst.sopInstanceUid).toBe(true);
  }
}

describe.skipIf(!hasCorpus())('archive C-MOVE', () => {
  let a: CorpusArchive;
  let dest: Awaited<ReturnType<typeof startReceiver>>;
  let served: ManifestRow[];
  let allRows: ManifestRow[];

  beforeAll(async () => {
    dest = await startReceiver('DEST');
    a = await startCorpusArchive({ peers: [{ aeTitle: 'DEST', host: '127.0.0.1', port: dest.server.port }] });
    served = servedRows(a.archive);
    const { manifest } = await import('../../harness/corpus.js');
    allRows = manifest();
  });
  afterAll(async () => {
    await a?.stop();
    await dest?.stop();
  });

  it('moves every served instance of the corpus, byte-identical, with pending counts', async () => {
    const ch = await channelTo(a.archive, MOVE_CONTEXTS);
    const studies = [...new Set(served.map((r) => r.studyInstanceUid))];
    const pendings: number[] = [];
    const r = await cMove(ch, buildIdentifier('STUDY', { StudyInstanceUID: studies.join('\\') }), 'DEST', {
      onPending: (c) => pendings.push(c.completed ?? -1),
    });
    await ch.assoc.release();
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    // The pacshift receiver refuses (0117) instances whose SOP Instance UID breaks the UID rules; the corpus has some.
    const validUid = (u: string) => /^[0-9.]{1,64}$/.test(u);
    const all = [...new Set(served.map((x) => x.sopInstanceUid))];
    const refused = all.filter((u) => !validUid(u)).sort();
    expect(refused.length).toBeGreaterThan(0);
    expect(r.value.status).toBe(0xb000);
    expect(r.value.errorComment).toMatch(/0117/);
    expect([...r.value.failedSopInstanceUids].sort()).toEqual(refused);
    expect(r.value.counts).toMatchObject({
      completed: all.length - refused.length,
      failed: refused.length,
      warning: 0,
    });
    expect(r.value.pendingResponses).toBe(all.length - 1);
    expect(pendings.slice(0, 3)).toEqual([1, 2, 3]);
    const arrived = dest.received.map((x) => x.sopInstanceUid);
    expect(arrived.sort()).toEqual(all.filter(validUid).sort());
    expectByteIdentical(dest.received, allRows);
    // The move originator is named in each sub-operation.
    expect(new Set(dest.received.map((x) => x.moveOriginatorMessageId))).toEqual(new Set([1]));
    expect(new Set(dest.received.map((x) => x.callingAeTitle))).toEqual(new Set(['ARCHIVE']));
  });

  it('SERIES and IMAGE level moves send exactly the selected instances', async () => {
    dest.received.length = 0;
    const multi = served.filter(
      (r) => served.filter((x) => x.seriesInstanceUid === r.seriesInstanceUid).length >= 3,
    )[0]!;
    const seriesRows = served.filter(
      (x) => x.studyInstanceUid === multi.studyInstanceUid && x.seriesInstanceUid === multi.seriesInstanceUid,
    );
    const ch = await channelTo(a.archive, MOVE_CONTEXTS);
    const s = await cMove(
      ch,
      buildIdentifier('SERIES', {
        StudyInstanceUID: multi.studyInstanceUid,
        SeriesInstanceUID: multi.seriesInstanceUid,
      }),
      'DEST',
    );
    expect(s.ok && s.value.counts.completed).toBe(seriesRows.length);
    const two = seriesRows.slice(0, 2).map((x) => x.sopInstanceUid);
    const i = await cMove(
      ch,
      buildIdentifier('IMAGE', {
        StudyInstanceUID: multi.studyInstanceUid,
        SeriesInstanceUID: multi.seriesInstanceUid,
        SOPInstanceUID: two.join('\\'),
      }),
      'DEST',
    );
    expect(i.ok && [i.value.status, i.value.counts.completed]).toEqual([0, 2]);
    // Patient root, PATIENT level.
    const pid = multi.patientId;
    const p = await cMove(ch, buildIdentifier('PATIENT', { PatientID: pid }), 'DEST', { model: 'patient' });
    expect(p.ok && p.value.counts.completed).toBe(
      distinct(served.filter((x) => x.patientId === pid).map((x) => x.sopInstanceUid)),
    );
    await ch.assoc.release();
    expect(dest.received.map((x) => x.sopInstanceUid).sort()).toEqual(
      [
        ...seriesRows.map((x) => x.sopInstanceUid),
        ...two,
        ...served.filter((x) => x.patientId === pid).map((x) => x.sopInstanceUid),
      ].sort(),
    );
    expectByteIdentical(dest.received, allRows);
  });

  it('an unknown destination is A801; a retrieve without its unique key is A900; no match is Success with zero counts', async () => {
    const ch = await channelTo(a.archive, MOVE_CONTEXTS);
    const unknown = await cMove(
      ch,
      buildIdentifier('STUDY', { StudyInstanceUID: served[0]!.studyInstanceUid }),
      'NOWHERE',
    );
    expect(unknown.ok && unknown.value.status).toBe(0xa801);
    expect(unknown.ok && lookupStatus('C-MOVE', unknown.value.status).action).toBe('stop-run');
    const noKey = await cMove(ch, buildIdentifier('STUDY', { PatientName: 'A*' }), 'DEST');
    expect(noKey.ok && noKey.value.status).toBe(0xa900);
    const none = await cMove(ch, buildIdentifier('STUDY', { StudyInstanceUID: '1.2.3.4.5.6.7.8.9' }), 'DEST');
    expect(none.ok && [none.value.status, none.value.counts.completed, none.value.counts.failed]).toEqual([
      0, 0, 0,
    ]);
    await ch.assoc.release();
  });

  it('a destination that cannot be reached: every sub-operation fails, A702 with the Failed SOP Instance UID List', async () => {
    const port = await freePort(); // nothing listens there
    const b = await startCorpusArchive({ peers: { DOWN: { host: '127.0.0.1', port } } });
    try {
      const ch = await channelTo(b.archive, MOVE_CONTEXTS);
      const study = served[0]!.studyInstanceUid;
      const r = await cMove(ch, buildIdentifier('STUDY', { StudyInstanceUID: study }), 'DOWN');
      await ch.assoc.release();
      const uids = [
        ...new Set(served.filter((x) => x.studyInstanceUid === study).map((x) => x.sopInstanceUid)),
      ].sort();
      expect(r.ok && r.value.status).toBe(0xa702);
      expect(r.ok && r.value.counts.failed).toBe(uids.length);
      expect(r.ok && [...r.value.failedSopInstanceUids].sort()).toEqual(uids);
      expect(r.ok && r.value.errorComment).toMatch(/connect|association/);
    } finally {
      await b.stop();
    }
  });

  it('pendingEvery N: one pending response every N sub-operations', async () => {
    const b = await startCorpusArchive({
      pendingEvery: 4,
      peers: [{ aeTitle: 'DEST', host: '127.0.0.1', port: dest.server.port }],
    });
    try {
      const study = [...new Set(served.map((x) => x.studyInstanceUid))]
        .map((u) => served.filter((x) => x.studyInstanceUid === u && /^[0-9.]{1,64}$/.test(x.sopInstanceUid)))
        .find((rows) => rows.length >= 9)!;
      const ch = await channelTo(b.archive, MOVE_CONTEXTS);
      const counts: number[] = [];
      const r = await cMove(
        ch,
        buildIdentifier('STUDY', { StudyInstanceUID: study[0]!.studyInstanceUid }),
        'DEST',
        {
          onPending: (c) => counts.push(c.completed!),
        },
      );
      await ch.assoc.release();
      const n = served.filter((x) => x.studyInstanceUid === study[0]!.studyInstanceUid).length;
      expect(r.ok && r.value.counts.completed).toBe(n);
      expect(counts).toEqual(Array.from({ length: Math.floor((n - 1) / 4) }, (_, i) => 4 * (i + 1)));
    } finally {
      await b.stop();
    }
  });

  it('C-CANCEL stops the sub-operations: FE00 with the remaining count', async () => {
    dest.received.length = 0;
    const ch = await channelTo(a.archive, MOVE_CONTEXTS);
    const studies = [...new Set(served.map((r) => r.studyInstanceUid))];
    const ctx = ch.findContext(QR.study.move)!;
    const messageId = 4242;
    let cancelSent = false;
    const r = await ch.request(
      ctx.id,
      {
        CommandField: CommandField.C_MOVE_RQ,
        MessageID: messageId,
        AffectedSOPClassUID: QR.study.move,
        Priority: Priority.MEDIUM,
        MoveDestination: 'DEST',
        CommandDataSetType: DATASET_PRESENT,
      },
      encodeSmallDataset(
        buildIdentifier('STUDY', { StudyInstanceUID: studies.join('\\') }),
        encodingOf(ctx.transferSyntax),
      ),
      {
        timeoutMs: 60_000,
        onResponse: (m) => {
          if (m.command.Status === 0xff00) {
            if (!cancelSent) {
              cancelSent = true;
              void ch.send(ctx.id, {
                CommandField: CommandField.C_CANCEL_RQ,
                MessageIDBeingRespondedTo: messageId,
                CommandDataSetType: NO_DATASET,
              });
            }
            return undefined;
          }
          return m.command;
        },
      },
    );
    await ch.assoc.release();
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    const total = distinct(served.map((x) => x.sopInstanceUid));
    expect(r.value.Status).toBe(0xfe00);
    const remaining = r.value.NumberOfRemainingSuboperations!;
    expect(remaining).toBeGreaterThan(0);
    const done = r.value.NumberOfCompletedSuboperations! + r.value.NumberOfFailedSuboperations!;
    expect(done + remaining).toBe(total);
    expect(dest.received.length).toBe(r.value.NumberOfCompletedSuboperations);
  });
});

describe.skipIf(!hasCorpus())('archive C-GET', () => {
  let a: CorpusArchive;
  let served: ManifestRow[];
  beforeAll(async () => {
    a = await startCorpusArchive();
    served = servedRows(a.archive);
  });
  afterAll(async () => a?.stop());

  /** Storage contexts for rows: one per (SOP class, transfer syntax) of their files, as read by the archive. */
  async function storageFor(rows: readonly ManifestRow[]) {
    const { readInstanceInfo } = await import('../../../src/dicom/part10.js');
    const pairs = new Map<string, { sopClassUid: string; transferSyntaxes: string[] }>();
    for (const r of rows) {
      const i = await readInstanceInfo(r.absPath);
      if (!i.ok) throw new Error(i.error.message);
      pairs.set(`${i.value.sopClassUid}|${i.value.transferSyntaxUid}`, {
        sopClassUid: i.value.sopClassUid,
        transferSyntaxes: [i.value.transferSyntaxUid],
      });
    }
    return [...pairs.values()];
  }

  it('sends the instances back on the same association, byte-identical; without a context they fail with their UIDs', async () => {
    // The three studies with the most distinct (SOP class, syntax) pairs, compressed ones included.
    const byStudy = new Map<string, ManifestRow[]>();
    for (const r of served) byStudy.set(r.studyInstanceUid, [...(byStudy.get(r.studyInstanceUid) ?? []), r]);
    const picked = [...byStudy.values()]
      .sort(
        (p, q) =>
          distinct(q.map((x) => `${x.sopClass}|${x.transferSyntax}`)) -
          distinct(p.map((x) => `${x.sopClass}|${x.transferSyntax}`)),
      )
      .slice(0, 3)
      .flat();
    expect(distinct(picked.map((x) => x.transferSyntax))).toBeGreaterThan(1);
    const storage = await storageFor(picked);
    const tmp = makeTempDir('cget');
    try {
      const got: ReceivedInstance[] = [];
      const peer = { host: '127.0.0.1', port: a.archive.port, aeTitle: 'ARCHIVE', callingAeTitle: 'GETSCU' };
      const studies = [...new Set(picked.map((x) => x.studyInstanceUid))];
      const r = await cGet(
        peer,
        buildIdentifier('STUDY', { StudyInstanceUID: studies.join('\\') }),
        storage,
        new FolderStoreTarget(join(tmp, 'all')),
        {
          onStored: (x) => x.ok && got.push(x.instance),
        },
      );
      expect(r.ok).toBe(true);
      if (!r.ok) return;
      const uids = [...new Set(picked.map((x) => x.sopInstanceUid))].sort();
      expect(r.value.status).toBe(0);
      expect(r.value.counts).toMatchObject({ completed: uids.length, failed: 0 });
      expect(got.map((x) => x.sopInstanceUid).sort()).toEqual(uids);
      expectByteIdentical(got, picked);

      // Leave out the contexts of one SOP class: its instances fail, the rest arrive. B000 with the failed list.
      const left = storage[0]!.sopClassUid;
      const got2: ReceivedInstance[] = [];
      const r2 = await cGet(
        peer,
        buildIdentifier('STUDY', { StudyInstanceUID: studies.join('\\') }),
        storage.filter((s) => s.sopClassUid !== left),
        new FolderStoreTarget(join(tmp, 'partial')),
        { onStored: (x) => x.ok && got2.push(x.instance) },
      );
      expect(r2.ok).toBe(true);
      if (!r2.ok) return;
      const { readInstanceInfo } = await import('../../../src/dicom/part10.js');
      const failedExpected: string[] = [];
      for (const x of picked) {
        const i = await readInstanceInfo(x.absPath);
        if (i.ok && i.value.sopClassUid === left && !failedExpected.includes(x.sopInstanceUid))
          failedExpected.push(x.sopInstanceUid);
      }
      expect(failedExpected.length).toBeGreaterThan(0);
      expect(r2.value.status).toBe(failedExpected.length === uids.length ? 0xa702 : 0xb000);
      expect([...r2.value.failedSopInstanceUids].sort()).toEqual(failedExpected.sort());
      expect(r2.value.counts).toMatchObject({
        completed: uids.length - failedExpected.length,
        failed: failedExpected.length,
      });
      expect(got2.map((x) => x.sopInstanceUid).sort()).toEqual(
        uids.filter((u) => !failedExpected.includes(u)),
      );
    } finally {
      removeTempDir(tmp);
    }
  });

  it('without role selection the requestor is not a storage SCP: every sub-operation fails', async () => {
    const row = served.find((x) => x.transferSyntax === 'Explicit VR Little Endian')!;
    const storage = await storageFor([row]);
    const ch = await channelTo(a.archive, [
      { abstractSyntax: QR.study.get, transferSyntaxes: UNCOMPRESSED_LE },
      { abstractSyntax: storage[0]!.sopClassUid, transferSyntaxes: storage[0]!.transferSyntaxes }, // no SCP role proposed
    ]);
    const { cGetOn } = await import('../../../src/net/services/retrieve-scu.js');
    const r = await cGetOn(
      ch,
      buildIdentifier('IMAGE', {
        StudyInstanceUID: row.studyInstanceUid,
        SeriesInstanceUID: row.seriesInstanceUid,
        SOPInstanceUID: row.sopInstanceUid,
      }),
    );
    await ch.assoc.release();
    expect(r.ok && [r.value.status, r.value.counts.failed, r.value.failedSopInstanceUids]).toEqual([
      0xa702,
      1,
      [row.sopInstanceUid],
    ]);
  });
});

describe.skipIf(!hasCorpus())('files changed behind the archive', () => {
  it('a retrieve sends files as they are now: gone or replaced ones fail with the cause, touched ones go', async () => {
    const { copyFileSync, rmSync, utimesSync, mkdirSync } = await import('node:fs');
    const { startArchive } = await import('../../../src/archive/archive.js');
    const rows = wellFormed().slice(0, 4);
    const tmp = makeTempDir('archive-fresh');
    const served = join(tmp, 'served');
    mkdirSync(served);
    rows.slice(0, 3).forEach((r, i) => copyFileSync(r.absPath, join(served, `${i}.dcm`)));
    const dest = await startReceiver('DEST');
    const a = await startArchive({
      dir: served,
      port: 0,
      host: '127.0.0.1',
      aeTitle: 'FRESH',
      dbPath: join(tmp, 'i.sqlite'),
      storeDir: join(tmp, 'received'),
      peers: [{ aeTitle: 'DEST', host: '127.0.0.1', port: dest.server.port }],
    });
    try {
      expect(a.stats.instances).toBe(3);
      rmSync(join(served, '0.dcm'));
      copyFileSync(rows[3]!.absPath, join(served, '1.dcm')); // another instance in its place
      utimesSync(join(served, '2.dcm'), new Date(), new Date(Date.now() + 5000)); // same bytes, new mtime
      const ch = await channelTo(a, MOVE_CONTEXTS);
      const studies = [...new Set(rows.slice(0, 3).map((r) => r.studyInstanceUid))];
      const r = await cMove(ch, buildIdentifier('STUDY', { StudyInstanceUID: studies.join('\\') }), 'DEST');
      await ch.assoc.release();
      expect(r.ok).toBe(true);
      if (!r.ok) return;
      expect(r.value.status).toBe(0xb000);
      expect([...r.value.failedSopInstanceUids].sort()).toEqual(
        [rows[0]!.sopInstanceUid, rows[1]!.sopInstanceUid].sort(),
      );
      expect(dest.received.map((x) => x.sopInstanceUid)).toEqual([rows[2]!.sopInstanceUid]);
      expect(datasetDigest(dest.received[0]!.path)).toBe(sentDigest(rows[2]!.absPath));
      // The index followed: the deleted file is gone, the replaced one serves its new instance.
      expect(a.stats.instances).toBe(2);
      expect(a.problems()).toEqual([]);
    } finally {
      await a.close();
      await dest.stop();
      removeTempDir(tmp);
    }
  });
});

/** Well-formed files with valid UIDs, each from another study. */
function wellFormed(): ManifestRow[] {
  const seen = new Set<string>();
  return manifest().filter((r) => {
    const ok =
      r.dcmdumpStatus === 'ok' &&
      r.studyInstanceUid !== '' &&
      /^[0-9.]{1,64}$/.test(r.sopInstanceUid) &&
      !seen.has(r.studyInstanceUid);
    if (ok) seen.add(r.studyInstanceUid);
    return ok && r.transferSyntax === 'Explicit VR Little Endian';
  });
}
