/**
 * Shared pieces of the fault-injection tests (test/unit/net/faults*.test.ts): real corpus instances ready to
 * send, a working pacshift Storage SCP on a free loopback port, the "next association works" check, and a
 * guard that records any unhandled rejection or uncaught exception in the process.
 */
import { readdirSync } from 'node:fs';
import { readInstanceInfo } from '../../src/dicom/part10.js';
import type { Association } from '../../src/net/association/association.js';
import type { AssociationServer } from '../../src/net/association/server.js';
import type { NetFailure } from '../../src/net/errors.js';
import { type Peer, openChannel } from '../../src/net/peer.js';
import { cEcho } from '../../src/net/services/echo.js';
import { startScp, storageAcceptPolicy } from '../../src/net/services/scp.js';
import { VERIFICATION } from '../../src/net/services/sop-classes.js';
import {
  type SendableInstance,
  type StoreOutcome,
  storeInstances,
} from '../../src/net/services/store-scu.js';
import { FolderStoreTarget, type StoreResult } from '../../src/net/services/store-target.js';
import { type ManifestRow, wellFormedUncompressed } from './corpus.js';
import { datasetBytes } from './dicom-file.js';

/** A corpus file as our SCU sends it (identifiers and data set range from src/dicom/part10.ts). */
export async function sendable(row: ManifestRow): Promise<SendableInstance> {
  const r = await readInstanceInfo(row.absPath);
  if (!r.ok) throw new Error(`corpus file ${row.path} unreadable: ${r.error.message}`);
  const i = r.value;
  return {
    path: i.path,
    sopClassUid: i.sopClassUid,
    sopInstanceUid: i.sopInstanceUid,
    transferSyntaxUid: i.transferSyntaxUid,
    datasetOffset: i.datasetOffset,
    datasetLength: i.datasetLength,
  };
}

/** Well-formed uncompressed corpus files whose size is within [min, max] bytes, smallest first, distinct SOP Instance UIDs. */
export function corpusRows(min: number, max: number, count: number): ManifestRow[] {
  const seen = new Set<string>();
  const rows = wellFormedUncompressed()
    .filter((r) => r.size >= min && r.size <= max && r.sopInstanceUid !== '')
    .sort((a, b) => a.size - b.size || a.path.localeCompare(b.path))
    .filter((r) => !seen.has(r.sopInstanceUid) && seen.add(r.sopInstanceUid));
  if (rows.length < count)
    throw new Error(`corpus: only ${rows.length} files between ${min} and ${max} bytes`);
  return rows.slice(0, count);
}

export interface WorkingScp {
  server: AssociationServer;
  dir: string;
  aeTitle: string;
  /** How to call it from our SCU. */
  peer(overrides?: Partial<Peer>): Peer;
  /** Every association the SCP accepted, with how it ended. */
  ended: Promise<NetFailure | undefined>[];
  associations: Association[];
  stored: StoreResult[];
}

/** A pacshift Storage SCP writing to `dir`. */
export async function startWorkingScp(
  dir: string,
  options: { maxPduLength?: number; artimMs?: number } = {},
): Promise<WorkingScp> {
  const ended: Promise<NetFailure | undefined>[] = [];
  const associations: Association[] = [];
  const stored: StoreResult[] = [];
  const server = await startScp({
    aeTitle: 'FAULT_SCP',
    port: 0,
    host: '127.0.0.1',
    policy: storageAcceptPolicy(),
    maxPduLength: options.maxPduLength,
    timeouts: options.artimMs ? { artimMs: options.artimMs } : undefined,
    handlers: {
      store: new FolderStoreTarget(dir),
      onStored: (r) => stored.push(r),
      onAssociation: (a) => {
        associations.push(a);
        ended.push(a.whenEnded());
      },
    },
  });
  return {
    server,
    dir,
    aeTitle: 'FAULT_SCP',
    ended,
    associations,
    stored,
    peer: (o = {}) => ({
      host: '127.0.0.1',
      port: server.port,
      aeTitle: 'FAULT_SCP',
      callingAeTitle: 'FAULT_SCU',
      ...o,
    }),
  };
}

export interface WorkingCheck {
  echoStatus: number | NetFailure;
  outcome: StoreOutcome | undefined;
  /** The stored file's data set equals the corpus file's data set. */
  identical: boolean;
}

/** A C-ECHO and a C-STORE (through storeInstances) to a working peer; the stored copy compared byte for byte. */
export async function checkWorkingAssociation(
  scp: WorkingScp,
  inst: SendableInstance,
): Promise<WorkingCheck> {
  let echoStatus: number | NetFailure;
  const ch = await openChannel(scp.peer(), [
    { abstractSyntax: VERIFICATION, transferSyntaxes: ['1.2.840.10008.1.2'] },
  ]);
  if (!ch.ok) echoStatus = ch.error;
  else {
    const e = await cEcho(ch.value, 2_000);
    echoStatus = e.ok ? e.value.status : e.error;
    await ch.value.assoc.release();
  }
  const [outcome] = await storeInstances(scp.peer({ dimseTimeoutMs: 5_000 }), [inst]);
  let identical = false;
  if (outcome?.ok) {
    const stored = scp.stored.at(-1);
    if (stored?.ok && stored.instance.sopInstanceUid === inst.sopInstanceUid) {
      identical = datasetBytes(stored.instance.path).equals(datasetBytes(inst.path));
    }
  }
  return { echoStatus, outcome, identical };
}

/** Files in a directory, hidden temporaries (`.…part`) included. */
export const filesIn = (dir: string): string[] => {
  try {
    return readdirSync(dir).sort();
  } catch {
    return [];
  }
};

/** Poll until `cond` holds (or fail after `timeoutMs`): for effects that finish after a promise chain settles. */
export async function eventually(cond: () => boolean, timeoutMs = 2_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`${what} not reached within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** Records unhandled rejections and uncaught exceptions in this process (vitest also fails on them). */
export function guardProcess(): { errors: string[]; dispose(): void } {
  const errors: string[] = [];
  const onRejection = (reason: unknown) =>
    errors.push(`unhandledRejection: ${String((reason as Error)?.stack ?? reason)}`);
  const onException = (e: Error) => errors.push(`uncaughtException: ${e.stack ?? e.message}`);
  process.on('unhandledRejection', onRejection);
  process.on('uncaughtException', onException);
  return {
    errors,
    dispose() {
      process.off('unhandledRejection', onRejection);
      process.off('uncaughtException', onException);
    },
  };
}

/** Frames a captured byte stream (e.g. the proxy's onData) into PDUs: type and length field of each. */
export class PduTap {
  readonly pdus: { type: number; length: number }[] = [];
  private pending = Buffer.alloc(0);
  private skip = 0;
  push(chunk: Buffer): void {
    let c = chunk;
    if (this.skip > 0) {
      const n = Math.min(this.skip, c.length);
      this.skip -= n;
      c = c.subarray(n);
    }
    this.pending = this.pending.length ? Buffer.concat([this.pending, c]) : Buffer.from(c);
    while (this.pending.length >= 6) {
      const type = this.pending[0]!;
      const length = this.pending.readUInt32BE(2);
      this.pdus.push({ type, length });
      const avail = this.pending.length - 6;
      if (avail >= length) this.pending = this.pending.subarray(6 + length);
      else {
        this.skip = length - avail;
        this.pending = Buffer.alloc(0);
      }
    }
  }
}
