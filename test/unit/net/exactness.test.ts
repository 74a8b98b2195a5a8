import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { storeInstances, type StoreOutcome } from '../../../src/net/services/store-scu.js';
import { corpusFiles, hasCorpus } from '../../harness/corpus.js';
import {
  matchDigests,
  printTable,
  readSendable,
  receivedDigest,
  sentDigest,
  startTestScp,
  type DatasetDigest,
  type TestScp,
  type Unsendable,
} from '../../harness/net-peer.js';

// Every corpus file, sent by pacshift (storeInstances) to a pacshift SCP (FolderStoreTarget): the data set bytes
// that arrive must be the bytes after the original file's meta, and every file that cannot be sent has a typed cause.
// Needs no Debian package (the DCMTK half is test/interop/net-exactness.test.ts).

const rel = (p: string) => p.replace(/^.*\/corpus\//, '');
const describeOutcome = (o: StoreOutcome): string =>
  o.status !== undefined
    ? `0x${o.status.toString(16).padStart(4, '0')}`
    : o.ok
      ? 'ok'
      : `${o.failure?.kind}: ${o.failure?.message}`;

describe.skipIf(!hasCorpus())('exactness: pacshift → pacshift SCP, whole corpus', () => {
  let scp: TestScp;
  let unsendable: Unsendable[];
  let sent: (DatasetDigest & { padded: boolean })[];
  let outcomes: StoreOutcome[];
  let files: string[];
  let refusedUids = new Set<string>();

  beforeAll(async () => {
    files = corpusFiles();
    scp = await startTestScp({ aeTitle: 'EXACT_SCP' });
    const r = await readSendable(files);
    unsendable = r.unsendable;
    sent = await Promise.all(r.sendable.map((i) => sentDigest(i, 'pacshift')));
    outcomes = await storeInstances(scp.peer(), r.sendable, { associations: 2 });
  }, 120_000);
  afterAll(async () => {
    await scp?.stop();
  });

  it('gives every file an outcome: sent, or a typed cause; none crashes the process', () => {
    expect(sent.length + unsendable.length).toBe(files.length);
    expect(outcomes).toHaveLength(sent.length);
    const byCause = new Map<string, number>();
    for (const u of unsendable) byCause.set(u.cause, (byCause.get(u.cause) ?? 0) + 1);
    printTable(
      'files that cannot be sent (typed cause)',
      ['file', 'cause'],
      unsendable.map((u) => [rel(u.path), u.cause]),
    );
    printTable(
      'by cause',
      ['cause', 'files'],
      [...byCause].sort().map(([c, n]) => [c, n]),
    );
    // Each cause names what is wrong; no generic failure.
    for (const u of unsendable) {
      expect(
        [
          'no-meta',
          'unknown-transfer-syntax',
          'lying-transfer-syntax',
          'truncated',
          'too-deep',
          'missing-uid',
          'malformed',
          'deflate-error',
          'not-dicom',
        ],
        rel(u.path),
      ).toContain(u.cause);
      expect(u.message).toContain(u.path);
    }
    // The corpus README names these files as broken in these ways.
    const causeOf = (p: string) => unsendable.find((u) => u.path.endsWith(p))?.cause;
    expect(causeOf('pydicom/debian_test_files/no_meta.dcm')).toBe('no-meta');
    expect(causeOf('pydicom/debian_test_files/meta_missing_tsyntax.dcm')).toBe('no-meta');
    expect(causeOf('fo-dicom/CR-MONO1-10-chest')).toBe('no-meta');
    expect(causeOf('dcm4che/3gb-bulk-data-truncated')).toBe('truncated');
    expect(causeOf('orthanc-tests/2026-05-06-Deeply-Nested-Sequence.dcm')).toBe('too-deep');
  });

  it('the SCP stores every sendable file with Success, except UIDs a file meta cannot hold (0117, explained)', () => {
    const notStored = outcomes.filter((o) => !o.ok || o.status !== 0);
    printTable(
      'sent but refused by the pacshift SCP',
      ['file', 'status', 'comment'],
      notStored.map((o) => [rel(o.instance.path), describeOutcome(o), o.errorComment ?? '']),
    );
    // The only refusal: a SOP Instance UID that breaks PS3.5 9.1 (too long, or not digits and dots).
    const badUid = (u: string) => !/^[0-9.]{1,64}$/.test(u);
    expect(notStored.map((o) => [rel(o.instance.path), o.status])).toEqual(
      outcomes.filter((o) => badUid(o.instance.sopInstanceUid)).map((o) => [rel(o.instance.path), 0x0117]),
    );
    expect(scp.stored.filter((s) => s.ok)).toHaveLength(sent.length - notStored.length);
    refusedUids = new Set(notStored.map((o) => o.instance.sopInstanceUid));
  });

  it('every received data set is byte-identical (SHA-256) to the bytes after the original meta, and reads back', async () => {
    const received = await Promise.all(scp.files().map(receivedDigest));
    const expected = sent.filter((s) => !refusedUids.has(s.sopInstanceUid));
    const { identical, missing, unexpected } = matchDigests(expected, received);
    expect(missing.map((m) => rel(m.path))).toEqual([]);
    expect(unexpected).toEqual([]);
    expect(identical).toHaveLength(expected.length);
    // The received file carries the transfer syntax the data set was sent in.
    for (const r of received) {
      const s = sent.find((x) => x.sopInstanceUid === r.sopInstanceUid && x.sha256 === r.sha256)!;
      expect(r.transferSyntaxUid).toBe(s.transferSyntaxUid);
    }
    // Odd-length data sets travel with one NUL pad (PS3.8 Annex E); the receiver drops it after the last element
    // (a Deflate stream keeps it: its own pad). Before, highdicom/dx_image.dcm (odd Pixel Data) arrived with a
    // stray byte after its last element: received, it could not be read back ("truncated").
    const padded = expected.filter((s) => s.padded);
    printTable(
      'odd-length data sets (sent with a NUL pad)',
      ['file', 'transfer syntax', 'received file read back'],
      padded.map((p) => [
        rel(p.path),
        p.transferSyntaxUid,
        received.find((r) => r.sha256 === p.sha256)?.readError ?? 'ok',
      ]),
    );
    expect(padded.map((p) => rel(p.path))).toContain('highdicom/dx_image.dcm');
    // Every file was readable at the sender (readSendable): every received file reads back.
    expect(received.filter((r) => r.readError).map((r) => [rel(r.path), r.readError])).toEqual([]);
    console.log(
      `exactness (pacshift SCP): ${identical.length} identical (${padded.length} of them odd-length), ${refusedUids.size} refused (0117), ${unsendable.length} not sendable, of ${files.length} files`,
    );
    expect(identical.length + refusedUids.size + unsendable.length).toBe(files.length);
  });
});
