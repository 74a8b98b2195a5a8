import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { storeInstances, type StoreOutcome } from '../../src/net/services/store-scu.js';
import { corpusFiles, hasCorpus } from '../harness/corpus.js';
import {
  matchDigests,
  printTable,
  readSendable,
  receivedDigest,
  sentDigest,
  type DatasetDigest,
  type Unsendable,
} from '../harness/net-peer.js';
import { peers } from '../harness/process.js';
import { startStorescp, type Storescp } from '../harness/storescp.js';

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
    sent = await Promise.all(r.sendable.map(sentDigest));
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
      'sent with a NUL pad (odd-length data set): storescp stored them',
      ['file', 'transfer syntax'],
      padded.map((p) => [rel(p.path), p.transferSyntaxUid]),
    );
    console.log(
      `exactness (storescp): ${identical.length} identical (${padded.length} + NUL pad), ${outcomes.length - stored.length} refused (explained), ${unsendable.length} not sendable, of ${files.length} files`,
    );
    expect(identical.length + (outcomes.length - stored.length) + unsendable.length).toBe(files.length);
  });
});
