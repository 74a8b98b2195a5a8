import { createHash } from 'node:crypto';
import { createReadStream, readFileSync } from 'node:fs';
import { readInstanceInfo } from '../../src/dicom/part10.js';
import { FileSource } from '../../src/dicom/source.js';
import { walk } from '../../src/dicom/walk.js';
import type { DicomFileErrorCode } from '../../src/dicom/errors.js';
import type { Association } from '../../src/net/association/association.js';
import type { AssociationServer } from '../../src/net/association/server.js';
import type { AllowedPeer } from '../../src/net/association/server.js';
import type { Peer } from '../../src/net/peer.js';
import { parseCommitmentReport, type CommitmentReport } from '../../src/net/services/commitment-scu.js';
import { startScp, storageAcceptPolicy } from '../../src/net/services/scp.js';
import type { SendableInstance } from '../../src/net/services/store-scu.js';
import { FolderStoreTarget, type StoreResult } from '../../src/net/services/store-target.js';
import type { TlsSettings } from '../../src/net/transport/tls-options.js';
import { arrivingDataset, datasetOffset } from './dicom-file.js';
import { makeTempDir, removeTempDir } from './tmp.js';

/**
 * pacshift's own network stack as a test peer: a storage SCP (FolderStoreTarget in a temp dir) that records what
 * it stored, refused and was told (commitment reports), and helpers to read files the way the sender does and to
 * compare data set bytes by digest.
 */

/** A file that cannot be sent, with the typed cause readInstanceInfo gave. */
export interface Unsendable {
  path: string;
  cause: DicomFileErrorCode;
  message: string;
}

/** Read each file's identifiers as the sender does (src/dicom/part10.ts): sendable, or a typed cause. */
export async function readSendable(
  paths: readonly string[],
): Promise<{ sendable: SendableInstance[]; unsendable: Unsendable[] }> {
  const sendable: SendableInstance[] = [];
  const unsendable: Unsendable[] = [];
  for (const path of paths) {
    const r = await readInstanceInfo(path);
    if (!r.ok) {
      unsendable.push({ path, cause: r.error.code, message: r.error.message });
      continue;
    }
    sendable.push({
      path,
      sopClassUid: r.value.sopClassUid,
      sopInstanceUid: r.value.sopInstanceUid,
      transferSyntaxUid: r.value.transferSyntaxUid,
      datasetOffset: r.value.metaEnd,
      datasetLength: r.value.datasetLength,
    });
  }
  return { sendable, unsendable };
}

/** SHA-256 (hex) of a file's bytes from `offset` to its end, streamed, and of `suffix` after them. */
export function sha256From(path: string, offset: number, suffix?: Buffer): Promise<string> {
  return new Promise((resolve, reject) => {
    const h = createHash('sha256');
    createReadStream(path, { start: offset })
      .on('data', (c) => h.update(c))
      .on('error', reject)
      .on('end', () => {
        if (suffix) h.update(suffix);
        resolve(h.digest('hex'));
      });
  });
}

export interface DatasetDigest {
  path: string;
  sopInstanceUid: string;
  transferSyntaxUid: string;
  sha256: string;
}

/**
 * What a received file holds: its UIDs (read with readInstanceInfo) and the digest of the bytes after its meta.
 * When readInstanceInfo refuses the file, `readError` says why and the meta is walked by the harness instead
 * (dicom-file.ts), so its bytes can still be compared.
 */
export async function receivedDigest(path: string): Promise<DatasetDigest & { readError?: string }> {
  const r = await readInstanceInfo(path);
  if (r.ok) {
    return {
      path,
      sopInstanceUid: r.value.sopInstanceUid,
      transferSyntaxUid: r.value.transferSyntaxUid,
      sha256: await sha256From(path, r.value.metaEnd),
    };
  }
  const bytes = readFileSync(path);
  const offset = datasetOffset(bytes);
  const meta = bytes.subarray(0, offset).toString('latin1');
  const uid = (tag: string) => new RegExp(`${tag}UI..([0-9.]*)`).exec(meta)?.[1] ?? '';
  return {
    path,
    sopInstanceUid: uid('\\x02\\x00\\x03\\x00'),
    transferSyntaxUid: uid('\\x02\\x00\\x10\\x00'),
    sha256: createHash('sha256').update(bytes.subarray(offset)).digest('hex'),
    readError: `${r.error.code}: ${r.error.message}`,
  };
}

/**
 * The digest of the data set that arrives when pacshift sends a file (see arrivingDataset in dicom-file.ts): the
 * bytes after its meta; for an odd-length data set, what the receiver makes of the sender's pad (`padded` says
 * the data set was odd). `notSent`: pacshift refuses to send it to such a receiver (a typed `unsendable` outcome).
 */
export async function sentDigest(
  i: SendableInstance,
  receiver: 'pacshift' | 'other' = 'pacshift',
): Promise<DatasetDigest & { padded: boolean; notSent: boolean }> {
  const padded = i.datasetLength % 2 === 1;
  const ids = { path: i.path, sopInstanceUid: i.sopInstanceUid, transferSyntaxUid: i.transferSyntaxUid };
  if (!padded) return { ...ids, sha256: await sha256From(i.path, i.datasetOffset), padded, notSent: false };
  const bytes = arrivingDataset(i.path, receiver);
  return {
    ...ids,
    sha256: createHash('sha256')
      .update(bytes ?? Buffer.alloc(0))
      .digest('hex'),
    padded,
    notSent: bytes === undefined,
  };
}

/**
 * Match sent and received data sets by SOP Instance UID and digest (a multiset per UID: the corpus has UIDs
 * shared by files with different bytes). Returns the sent files whose bytes arrived identical, and those that did not.
 */
export function matchDigests(
  sent: readonly DatasetDigest[],
  received: readonly DatasetDigest[],
): { identical: DatasetDigest[]; missing: DatasetDigest[]; unexpected: DatasetDigest[] } {
  const pool = new Map<string, DatasetDigest[]>();
  for (const r of received) {
    const k = `${r.sopInstanceUid}|${r.sha256}`;
    pool.set(k, [...(pool.get(k) ?? []), r]);
  }
  const identical: DatasetDigest[] = [];
  const missing: DatasetDigest[] = [];
  for (const s of sent) {
    const list = pool.get(`${s.sopInstanceUid}|${s.sha256}`);
    if (list && list.length > 0) {
      list.pop();
      identical.push(s);
    } else missing.push(s);
  }
  return { identical, missing, unexpected: [...pool.values()].flat() };
}

export interface TestScpOptions {
  aeTitle?: string;
  allow?: AllowedPeer[];
  tls?: TlsSettings;
  /** Where received files go; default a temp dir removed by stop(). */
  dir?: string;
  /** Our maximum receive PDU length (the peer cuts its PDVs to fit). */
  maxPduLength?: number;
}

export interface TestScp {
  readonly aeTitle: string;
  readonly host: string;
  readonly port: number;
  readonly dir: string;
  readonly server: AssociationServer;
  /** Every StoreResult, in order. */
  readonly stored: StoreResult[];
  /** Every storage commitment report received. */
  readonly reports: CommitmentReport[];
  /** Associations refused, with the reason. */
  readonly refused: { why: string; remote: string }[];
  /** Associations established, with the calling AE. */
  readonly associations: Association[];
  /** As a Peer, for pacshift SCUs calling it. */
  peer(callingAeTitle?: string): Peer;
  /** Paths of successfully stored files. */
  files(): string[];
  waitForStored(count: number, timeoutMs?: number): Promise<StoreResult[]>;
  waitForReports(count: number, timeoutMs?: number): Promise<CommitmentReport[]>;
  stop(): Promise<void>;
}

async function waitFor<T>(what: string, list: T[], count: number, timeoutMs: number): Promise<T[]> {
  const deadline = Date.now() + timeoutMs;
  while (list.length < count) {
    if (Date.now() > deadline) throw new Error(`${what}: ${list.length}/${count} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
  return list;
}

/** A pacshift storage SCP (Verification, every storage class in any syntax, commitment reports) on a free loopback port. */
export async function startTestScp(options: TestScpOptions = {}): Promise<TestScp> {
  const aeTitle = options.aeTitle ?? 'PACSHIFT_SCP';
  const ownDir = options.dir === undefined;
  const dir = options.dir ?? makeTempDir('scp');
  const stored: StoreResult[] = [];
  const reports: CommitmentReport[] = [];
  const refused: { why: string; remote: string }[] = [];
  const associations: Association[] = [];
  const server = await startScp({
    aeTitle,
    port: 0,
    host: '127.0.0.1',
    allow: options.allow,
    tls: options.tls,
    maxPduLength: options.maxPduLength,
    policy: storageAcceptPolicy(),
    handlers: {
      store: new FolderStoreTarget(dir),
      onStored: (r) => stored.push(r),
      onCommitmentReport: (eventTypeId, dataset, ts) =>
        reports.push(parseCommitmentReport(eventTypeId, dataset, ts)),
      onAssociation: (a) => associations.push(a),
    },
    onRefused: (why, remote) => refused.push({ why, remote }),
  });
  return {
    aeTitle,
    host: '127.0.0.1',
    port: server.port,
    dir,
    server,
    stored,
    reports,
    refused,
    associations,
    peer: (callingAeTitle = 'PACSHIFT') => ({
      host: '127.0.0.1',
      port: server.port,
      aeTitle,
      callingAeTitle,
    }),
    files: () => stored.flatMap((s) => (s.ok ? [s.instance.path] : [])),
    waitForStored: (count, timeoutMs = 20_000) => waitFor(`${aeTitle} stored`, stored, count, timeoutMs),
    waitForReports: (count, timeoutMs = 20_000) =>
      waitFor(`${aeTitle} commitment reports`, reports, count, timeoutMs),
    async stop() {
      await server.close();
      if (ownDir) removeTempDir(dir);
    },
  };
}

/**
 * The elements of a file's data set, nested ones included, as `path tag VR sha256(value)` lines: equal lists mean
 * the same content whatever the encoding of lengths (a peer that rewrites undefined-length sequences with explicit
 * lengths keeps the elements, not the bytes). Items and delimiters are structure, not content: left out.
 */
export async function elementsOf(path: string): Promise<string[]> {
  const info = await readInstanceInfo(path);
  if (!info.ok) throw new Error(`elementsOf: ${info.error.message}`);
  if (info.value.transferSyntax.deflated) throw new Error('elementsOf: deflated data sets are not supported');
  const source = await FileSource.open(path);
  try {
    const walker = walk(source, { encoding: info.value.transferSyntax, start: info.value.metaEnd });
    const out: string[] = [];
    for await (const el of walker) {
      if (el.kind !== 'element' && el.kind !== 'fragment') continue;
      const where = el.path.map((p) => `${p.tag.toString(16)}[${p.item}]`).join('/');
      const value =
        el.content !== 'value' || el.valueLength === undefined
          ? ''
          : createHash('sha256')
              .update(await walker.readValue(el, el.valueLength))
              .digest('hex');
      out.push(`${where} ${el.kind} ${el.tag.toString(16).padStart(8, '0')} ${el.vr ?? ''} ${value}`);
    }
    if (walker.error) throw new Error(`elementsOf: ${walker.error.message}`);
    return out;
  } finally {
    await source.close();
  }
}

/** Print rows as an aligned text table (console.log). */
export function printTable(
  title: string,
  header: readonly string[],
  rows: readonly (readonly (string | number)[])[],
): void {
  const cells = [header, ...rows.map((r) => r.map(String))];
  const widths = header.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  const line = (r: readonly string[]) =>
    r
      .map((c, i) => c.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  console.log(
    [title, line(header), line(widths.map((w) => '-'.repeat(w))), ...cells.slice(1).map(line)].join('\n'),
  );
}

/** The PDV fragments of one direction of an association's bytes (PS3.8 9.3.5): context, flags and fragment length. */
export class PdvLengths {
  private buffer = Buffer.alloc(0);
  readonly fragments: { contextId: number; command: boolean; last: boolean; length: number }[] = [];
  push(chunk: Buffer): void {
    this.buffer = Buffer.concat([this.buffer, chunk]);
    while (this.buffer.length >= 6) {
      const length = this.buffer.readUInt32BE(2);
      if (this.buffer.length < 6 + length) return;
      if (this.buffer[0] === 0x04) {
        const body = this.buffer.subarray(6, 6 + length);
        for (let off = 0; off + 6 <= body.length;) {
          const itemLength = body.readUInt32BE(off);
          const header = body[off + 5]!;
          this.fragments.push({
            contextId: body[off + 4]!,
            command: (header & 1) !== 0,
            last: (header & 2) !== 0,
            length: itemLength - 2,
          });
          off += 4 + itemLength;
        }
      }
      this.buffer = this.buffer.subarray(6 + length);
    }
  }
}
