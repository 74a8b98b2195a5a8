import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type Archive, type ArchiveOptions, startArchive } from '../../../src/archive/archive.js';
import { readInstanceInfo } from '../../../src/dicom/part10.js';
import { str } from '../../../src/dicom/small-dataset.js';
import { cFindAll } from '../../../src/net/services/find-scu.js';
import { buildIdentifier } from '../../../src/net/services/identifier.js';
import { QR, UNCOMPRESSED_LE } from '../../../src/net/services/sop-classes.js';
import { type SendableInstance, storeInstances } from '../../../src/net/services/store-scu.js';
import { hasCorpus, manifest, type ManifestRow } from '../../harness/corpus.js';
import { makeTempDir, removeTempDir } from '../../harness/tmp.js';
import { channelTo, datasetDigest, distinct } from './fixtures.js';

const MR = '1.2.840.10008.5.1.4.1.1.4';

async function sendable(rows: readonly ManifestRow[]): Promise<SendableInstance[]> {
  const out: SendableInstance[] = [];
  for (const r of rows) {
    const i = await readInstanceInfo(r.absPath);
    if (!i.ok) throw new Error(i.error.message);
    const v = i.value;
    out.push({
      path: r.absPath,
      sopClassUid: v.sopClassUid,
      sopInstanceUid: v.sopInstanceUid,
      transferSyntaxUid: v.transferSyntaxUid,
      datasetOffset: v.datasetOffset,
      datasetLength: v.datasetLength,
    });
  }
  return out;
}

/** Small well-formed files, a few studies, MR and others, even-length data sets. */
function sample(): ManifestRow[] {
  const ok = manifest().filter(
    (r) =>
      r.dcmdumpStatus === 'ok' &&
      r.studyInstanceUid !== '' &&
      /^[0-9.]{1,64}$/.test(r.sopInstanceUid) &&
      r.size < 400_000 &&
      r.sopClass !== '',
  );
  const mr = ok.filter((r) => r.sopClass === 'MR Image Storage').slice(0, 4);
  const other = ok
    .filter((r) => r.sopClass !== 'MR Image Storage' && !r.transferSyntax.startsWith('Deflated'))
    .slice(0, 4);
  return [...mr, ...other];
}

async function withEmptyArchive(
  opts: Partial<ArchiveOptions>,
  fn: (a: Archive, dir: string) => Promise<void>,
) {
  const tmp = makeTempDir('archive-store');
  const a = await startArchive({
    dir: join(tmp, 'archive'),
    port: 0,
    host: '127.0.0.1',
    aeTitle: 'TARGET',
    ...opts,
  });
  try {
    await fn(a, join(tmp, 'archive'));
  } finally {
    await a.close();
    removeTempDir(tmp);
  }
}

const peerOf = (a: Archive) => ({
  host: '127.0.0.1',
  port: a.port,
  aeTitle: a.aeTitle,
  callingAeTitle: 'SENDER',
});

describe.skipIf(!hasCorpus())('archive as Storage SCP', () => {
  it('stores byte for byte, indexes before answering, serves after a restart without re-reading', async () => {
    const rows = sample();
    const tmp = makeTempDir('archive-restart');
    const dir = join(tmp, 'archive');
    try {
      let a = await startArchive({ dir, port: 0, host: '127.0.0.1', aeTitle: 'TARGET' });
      const outcomes = await storeInstances(peerOf(a), await sendable(rows));
      expect(outcomes.map((o) => [o.instance.sopInstanceUid, o.ok && o.status])).toEqual(
        rows.map((r) => [r.sopInstanceUid, 0]),
      );
      expect(a.stats).toMatchObject({
        instances: rows.length,
        studies: distinct(rows.map((r) => r.studyInstanceUid)),
        stored: rows.length,
      });
      // Queryable at once.
      const ch = await channelTo(a, [{ abstractSyntax: QR.study.find, transferSyntaxes: UNCOMPRESSED_LE }]);
      const f = await cFindAll(ch, buildIdentifier('STUDY', { StudyInstanceUID: '', PatientID: '' }));
      expect(f.ok && f.value.identifiers.map((d) => str(d, 0x0020000d)).sort()).toEqual(
        [...new Set(rows.map((r) => r.studyInstanceUid))].sort(),
      );
      await ch.assoc.release();
      // Files: under received/, data set bytes as sent.
      const files = readdirSync(a.storeDir);
      expect(files.length).toBe(rows.length);
      for (const r of rows)
        expect(datasetDigest(join(a.storeDir, `${r.sopInstanceUid}.dcm`))).toBe(datasetDigest(r.absPath));
      await a.close();

      a = await startArchive({ dir, port: 0, host: '127.0.0.1', aeTitle: 'TARGET' });
      try {
        expect(a.indexReport).toMatchObject({ read: 0, unchanged: rows.length, removed: 0 });
        expect(a.stats.instances).toBe(rows.length);
      } finally {
        await a.close();
      }
    } finally {
      removeTempDir(tmp);
    }
  });

  it('refuseSopClasses: 0122 for those, success for the rest', async () => {
    await withEmptyArchive({ refuseSopClasses: [MR] }, async (a) => {
      const rows = sample();
      const outcomes = await storeInstances(peerOf(a), await sendable(rows));
      for (const o of outcomes) {
        if (o.instance.sopClassUid === MR)
          expect([o.ok, o.status, o.entry?.action]).toEqual([false, 0x0122, 'quarantine-capability-gap']);
        else expect([o.ok, o.status]).toEqual([true, 0]);
      }
      const mr = rows.filter((r) => r.sopClass === 'MR Image Storage').length;
      expect(mr).toBeGreaterThan(0);
      expect(a.stats).toMatchObject({
        stored: rows.length - mr,
        storeRefused: mr,
        instances: rows.length - mr,
      });
    });
  });

  it('acceptTransferSyntaxes: contexts in other syntaxes are refused at association time', async () => {
    await withEmptyArchive({ acceptTransferSyntaxes: ['1.2.840.10008.1.2.1'] }, async (a) => {
      const rows = manifest().filter(
        (r) =>
          r.dcmdumpStatus === 'ok' && r.studyInstanceUid !== '' && /^[0-9.]{1,64}$/.test(r.sopInstanceUid),
      );
      const picked = [
        ...rows.filter((r) => r.transferSyntax === 'Explicit VR Little Endian').slice(0, 2),
        ...rows.filter((r) => r.transferSyntax.startsWith('JPEG 2000')).slice(0, 1),
      ];
      expect(picked.length).toBe(3);
      const outcomes = await storeInstances(peerOf(a), await sendable(picked));
      const bySyntax = outcomes.map((o) => [
        o.instance.transferSyntaxUid === '1.2.840.10008.1.2.1',
        o.ok,
        o.ok ? undefined : o.failure?.kind,
      ]);
      expect(bySyntax.sort()).toEqual(
        [
          [false, false, 'no-presentation-context'],
          [true, true, undefined],
          [true, true, undefined],
        ].sort(),
      );
    });
  });

  it('duplicates: replace (default), keep-first, refuse', async () => {
    const rows = sample().slice(0, 1);
    for (const [policy, expected] of [
      ['replace', 0],
      ['keep-first', 0],
      ['refuse', 0x0111],
    ] as const) {
      await withEmptyArchive({ onDuplicate: policy }, async (a) => {
        const inst = await sendable(rows);
        expect((await storeInstances(peerOf(a), inst))[0]!.ok).toBe(true);
        const second = (await storeInstances(peerOf(a), inst))[0]!;
        expect(second.status).toBe(expected);
        const files = readdirSync(a.storeDir);
        expect(files.length, policy).toBe(1); // replace removes the older copy it received itself
        expect(a.stats.instances).toBe(1);
        expect(a.stats.duplicateCopies).toBe(0);
      });
    }
  });

  it('a data set whose SOP Instance UID differs from the command is refused and not kept', async () => {
    await withEmptyArchive({}, async (a) => {
      const [one, two] = await sendable(sample().slice(0, 2));
      // The command names one instance, the bytes are another's.
      const lying = { ...two!, sopInstanceUid: one!.sopInstanceUid, sopClassUid: two!.sopClassUid };
      const o = (await storeInstances(peerOf(a), [lying]))[0]!;
      expect([o.ok, o.status]).toEqual([false, 0xa900]);
      expect(readdirSync(a.storeDir).filter((f) => !f.startsWith('.'))).toEqual([]);
      expect(a.stats.instances).toBe(0);
    });
  });

  it('a read-only served folder is served; C-STOREs are refused with A700', async () => {
    const tmp = makeTempDir('archive-ro');
    try {
      // A store folder that cannot be created: under a regular file.
      const { writeFileSync } = await import('node:fs');
      writeFileSync(join(tmp, 'file'), 'x');
      const a = await startArchive({
        dir: join(tmp, 'served'),
        port: 0,
        host: '127.0.0.1',
        aeTitle: 'RO',
        storeDir: join(tmp, 'file', 'received'),
      });
      try {
        const o = (await storeInstances(peerOf(a), await sendable(sample().slice(0, 1))))[0]!;
        expect([o.ok, o.status]).toEqual([false, 0xa700]);
        expect(existsSync(join(tmp, 'file', 'received'))).toBe(false);
      } finally {
        await a.close();
      }
    } finally {
      removeTempDir(tmp);
    }
  });
});
