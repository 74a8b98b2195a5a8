import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeSmallDataset, type SmallDataset } from '../../src/dicom/small-dataset.js';
import {
  storeInstances,
  type SendableInstance,
  type StoreOutcome,
} from '../../src/net/services/store-scu.js';
import { decideStoreOutcome } from '../../src/transfer/store-outcome.js';
import { corpusFiles, hasCorpus, manifest } from '../harness/corpus.js';
import { dcmdumpFailures } from '../harness/dicom-file.js';
import {
  matchDigests,
  printTable,
  readSendable,
  receivedDigest,
  sentDigest,
  startTestScp,
  type DatasetDigest,
  type Unsendable,
} from '../harness/net-peer.js';
import { peers } from '../harness/process.js';
import { startStorescp, type Storescp } from '../harness/storescp.js';
import { makeTempDir, removeTempDir } from '../harness/tmp.js';

// Every corpus file, sent by pacshift (storeInstances, 2 associations) to DCMTK storescp (+B bit preserving,
// +xa -pm: every syntax and storage class DCMTK 3.6.7 knows). What storescp wrote after its meta must be the bytes
// after the original file's meta; what it refused must be explained by a known DCMTK limit.
// (The same with a pacshift SCP, needing no Debian package: test/unit/net/exactness.test.ts.)

const rel = (p: string) => p.replace(/^.*\/corpus\//, '');

/** Transfer syntaxes storescp 3.6.7 `+xa` does not accept: newer than DCMTK, or not in its +xa list. */
const NOT_IN_STORESCP_XA: Record<string, string> = {
  '1.2.840.10008.1.2.4.57': 'JPEG Lossless P14 (not in storescp +xa)',
  '1.2.840.10008.1.2.4.111': 'JPEG XL JPEG Recompression (newer than DCMTK 3.6.7)',
  '1.2.840.10008.1.2.4.201': 'HTJ2K Lossless (newer than DCMTK 3.6.7)',
  '1.2.840.10008.1.2.4.202': 'HTJ2K Lossless RPCL (newer than DCMTK 3.6.7)',
  '1.2.840.10008.1.2.4.203': 'HTJ2K (newer than DCMTK 3.6.7)',
  '1.2.840.10008.1.2.8.1': 'Deflated Image Frame Compression (newer than DCMTK 3.6.7)',
};
/** Storage classes DCMTK knows but does not list as storage (storescp -pm leaves them out). */
const NOT_IN_STORESCP_PM: Record<string, string> = {
  '1.2.840.10008.5.1.4.38.1': 'Hanging Protocol Storage (not in storescp -pm)',
};

const describeOutcome = (o: StoreOutcome): string => {
  if (o.status !== undefined) return `0x${o.status.toString(16).padStart(4, '0')}`;
  const f = o.ok ? undefined : o.failure;
  return f?.kind === 'no-response' && f.cause ? `${f.kind}/${f.cause.kind}` : String(f?.kind);
};

/** Why storescp did not store an instance, from the outcome and the instance's own properties; undefined = unexplained. */
function explain(o: StoreOutcome): string | undefined {
  const i = o.instance;
  if (o.ok) return undefined;
  // Not sent: an odd-length data set whose last element is not its Pixel Data cannot reach a peer unchanged.
  if (o.failure?.kind === 'unsendable') return 'odd-length data set: not sent (typed unsendable)';
  if (o.failure?.kind === 'no-presentation-context')
    return NOT_IN_STORESCP_XA[i.transferSyntaxUid] ?? NOT_IN_STORESCP_PM[i.sopClassUid];
  // DCMTK aborts the association when it cannot parse the command set: a UID over the 64 characters of VR UI.
  if (
    o.failure?.kind === 'no-response' &&
    o.failure.cause?.kind === 'aborted' &&
    i.sopInstanceUid.length > 64
  ) {
    return 'DCMTK aborts on a command UID longer than 64 characters';
  }
  return undefined;
}

describe.skipIf(!peers.dcmtk || !hasCorpus())('exactness: pacshift → storescp (+B), whole corpus', () => {
  let scp: Storescp;
  let unsendable: Unsendable[];
  let sent: (DatasetDigest & { padded: boolean })[];
  let outcomes: StoreOutcome[];
  let files: string[];

  beforeAll(async () => {
    files = corpusFiles();
    scp = await startStorescp({ aeTitle: 'EXACT_DCMTK' });
    const r = await readSendable(files);
    unsendable = r.unsendable;
    sent = await Promise.all(r.sendable.map((i) => sentDigest(i, 'other')));
    outcomes = await storeInstances(
      { host: scp.host, port: scp.port, aeTitle: scp.aeTitle, callingAeTitle: 'PACSHIFT' },
      r.sendable,
      { associations: 2 },
    );
  }, 120_000);
  afterAll(async () => {
    await scp?.stop();
  });

  it('every file has an outcome; every file storescp refused is explained by a DCMTK limit', () => {
    expect(outcomes).toHaveLength(sent.length);
    expect(sent.length + unsendable.length).toBe(files.length);
    const refused = outcomes.filter((o) => !o.ok || o.status !== 0);
    printTable(
      'refused by storescp',
      ['file', 'transfer syntax', 'outcome', 'explanation'],
      refused.map((o) => [
        rel(o.instance.path),
        o.instance.transferSyntaxUid,
        describeOutcome(o),
        explain(o) ?? 'UNEXPLAINED',
      ]),
    );
    expect(refused.filter((o) => explain(o) === undefined).map((o) => rel(o.instance.path))).toEqual([]);
    // Conversely, every sendable file in a syntax or class storescp refuses was refused (none silently "stored").
    const mustRefuse = outcomes.filter(
      (o) => NOT_IN_STORESCP_XA[o.instance.transferSyntaxUid] || NOT_IN_STORESCP_PM[o.instance.sopClassUid],
    );
    expect(mustRefuse.length).toBeGreaterThan(0);
    expect(mustRefuse.filter((o) => o.ok)).toEqual([]);
    const byCause = new Map<string, number>();
    for (const u of unsendable)
      byCause.set(`not sendable: ${u.cause}`, (byCause.get(`not sendable: ${u.cause}`) ?? 0) + 1);
    for (const o of refused)
      byCause.set(`refused: ${explain(o)}`, (byCause.get(`refused: ${explain(o)}`) ?? 0) + 1);
    printTable(
      'files not stored, by cause',
      ['cause', 'files'],
      [...byCause].sort().map(([c, n]) => [c, n]),
    );
  });

  it('storescp wrote exactly the bytes sent (SHA-256 after its meta) for every instance it stored', async () => {
    const stored = outcomes.filter((o) => o.ok && o.status === 0);
    const written = await scp.waitForFiles(stored.length, 30_000);
    expect(written).toHaveLength(stored.length);
    const received = await Promise.all(written.map(receivedDigest));
    const expected = sent.filter((s) => stored.some((o) => o.instance.path === s.path));
    const { identical, missing, unexpected } = matchDigests(expected, received);
    expect(missing.map((m) => rel(m.path))).toEqual([]);
    expect(unexpected).toEqual([]);
    const padded = expected.filter((s) => s.padded);
    printTable(
      'odd-length data sets: storescp stored them (native Pixel Data padded to even, Deflate with its NUL)',
      ['file', 'transfer syntax'],
      padded.map((p) => [rel(p.path), p.transferSyntaxUid]),
    );
    console.log(
      `exactness (storescp): ${identical.length} identical (${padded.length} odd-length), ${outcomes.length - stored.length} refused (explained), ${unsendable.length} not sendable, of ${files.length} files`,
    );
    expect(identical.length + (outcomes.length - stored.length) + unsendable.length).toBe(files.length);
    // Every file storescp wrote (bit-preserving: the bytes as they arrived) reads back, by pacshift's reader and by
    // dcmdump, when the sent file did. Before, highdicom/dx_image.dcm (odd Pixel Data length) arrived with a stray
    // NUL after its last element: neither could read it.
    await expectReadBack(received, expected);
  });
});

/** Sent files dcmdump reads (the corpus manifest's dcmdump status). */
const dcmdumpReads = (): Set<string> =>
  new Set(
    manifest()
      .filter((r) => r.dcmdumpStatus.startsWith('ok'))
      .map((r) => r.absPath),
  );

/**
 * Every received file reads back with pacshift's reader (`receivedDigest` reports its error) and with dcmdump,
 * whenever the file it came from does (every sent file was readable by pacshift: readSendable).
 */
async function expectReadBack(
  received: readonly (DatasetDigest & { readError?: string })[],
  sent: readonly DatasetDigest[],
): Promise<void> {
  expect(received.filter((r) => r.readError).map((r) => [r.path, r.readError])).toEqual([]);
  const dumpable = dcmdumpReads();
  const failures = await dcmdumpFailures(received.map((r) => r.path));
  // A received file came from the sent file with its UID and digest (the corpus shares UIDs between files).
  const key = (d: DatasetDigest) => `${d.sopInstanceUid}|${d.sha256}`;
  const fromDumpable = new Set(sent.filter((s) => dumpable.has(s.path)).map(key));
  const bad = received.filter((r) => failures.has(r.path) && fromDumpable.has(key(r)));
  expect(bad.map((r) => [r.sopInstanceUid, failures.get(r.path)])).toEqual([]);
  expect(received.filter((r) => fromDumpable.has(key(r))).length).toBeGreaterThan(300);
}

describe.skipIf(!peers.dcmtk || !hasCorpus())(
  'exactness: pacshift → pacshift SCP, read back by dcmdump',
  () => {
    it('every received file is the sent data set byte for byte and reads back with pacshift and with dcmdump', async () => {
      const scp = await startTestScp({ aeTitle: 'EXACT_PACSHIFT' });
      try {
        const files = corpusFiles();
        const r = await readSendable(files);
        const sent = await Promise.all(r.sendable.map((i) => sentDigest(i, 'pacshift')));
        const outcomes = await storeInstances(scp.peer(), r.sendable, { associations: 2 });
        const stored = outcomes.filter((o) => o.ok && o.status === 0);
        // The pacshift SCP refuses only UIDs a file meta cannot hold (test/unit/net/exactness.test.ts).
        expect(outcomes.filter((o) => !o.ok).every((o) => o.status === 0x0117)).toBe(true);
        const received = await Promise.all(scp.files().map(receivedDigest));
        const expected = sent.filter((s) => stored.some((o) => o.instance.path === s.path));
        const { identical, missing } = matchDigests(expected, received);
        expect(missing.map((m) => rel(m.path))).toEqual([]);
        expect(identical.map((i) => rel(i.path))).toContain('highdicom/dx_image.dcm');
        await expectReadBack(received, expected);
      } finally {
        await scp.stop();
      }
    }, 180_000);
  },
);

describe.skipIf(!peers.dcmtk)(
  'an odd-length data set pacshift cannot pad to a peer that is not pacshift',
  () => {
    it('is not sent: a typed unsendable outcome, quarantined with its cause; the association goes on', async () => {
      const dir = makeTempDir('odd-unsendable');
      const scp = await startStorescp({ aeTitle: 'ODD_DCMTK' });
      try {
        const SC = '1.2.840.10008.5.1.4.1.1.7';
        const file = (name: string, uid: string, tail: Buffer): SendableInstance => {
          const ds: SmallDataset = new Map([
            [0x00080016, { vr: 'UI', value: SC }],
            [0x00080018, { vr: 'UI', value: uid }],
          ]);
          const bytes = Buffer.concat([encodeSmallDataset(ds, { explicit: true }), tail]);
          const path = join(dir, name);
          writeFileSync(path, bytes);
          return {
            path,
            sopClassUid: SC,
            sopInstanceUid: uid,
            transferSyntaxUid: '1.2.840.10008.1.2.1',
            datasetOffset: 0,
            datasetLength: bytes.length,
          };
        };
        // (0020,4000) LT "abc": an odd-length text value as the last element (no Pixel Data to pad).
        const lt = Buffer.from([0x20, 0x00, 0x00, 0x40, 0x4c, 0x54, 0x03, 0x00, 0x61, 0x62, 0x63]);
        const odd = file('odd.dcm', '1.2.826.0.1.3680043.10.1444.77.1', lt);
        const even = file('even.dcm', '1.2.826.0.1.3680043.10.1444.77.2', Buffer.alloc(0));
        const outcomes = await storeInstances(
          { host: scp.host, port: scp.port, aeTitle: scp.aeTitle, callingAeTitle: 'PACSHIFT' },
          [odd, even],
        );
        const byUid = new Map(outcomes.map((o) => [o.instance.sopInstanceUid, o]));
        const o = byUid.get(odd.sopInstanceUid)!;
        expect(o.ok).toBe(false);
        expect(!o.ok && o.failure?.kind).toBe('unsendable');
        expect(!o.ok && o.failure?.message).toMatch(/odd-length data set \(\d+ bytes\)/);
        expect(byUid.get(even.sopInstanceUid)).toMatchObject({ ok: true, status: 0 });
        const d = decideStoreOutcome(o, '/q/odd.dcm');
        expect(d.effect).toBe('quarantine');
        expect(d.record).toMatchObject({ outcome: 'quarantined', category: 'unsendable' });
        expect(await scp.waitForFiles(1)).toHaveLength(1);
      } finally {
        await scp.stop();
        removeTempDir(dir);
      }
    });
  },
);
