/**
 * Shared set-up for the archive tests: an archive serving the corpus in place (index and store
 * folder in a temp dir), ground truth from MANIFEST.tsv, channels to the archive, data set digests.
 */
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { type Archive, type ArchiveOptions, startArchive } from '../../../src/archive/archive.js';
import type { ContextProposal } from '../../../src/net/association/types.js';
import type { DimseChannel } from '../../../src/net/dimse/channel.js';
import { openChannel } from '../../../src/net/peer.js';
import { corpusDir, manifest, type ManifestRow } from '../../harness/corpus.js';
import { arrivingDataset, datasetBytes } from '../../harness/dicom-file.js';
import { makeTempDir, removeTempDir } from '../../harness/tmp.js';

export interface CorpusArchive {
  archive: Archive;
  tmp: string;
  stop(): Promise<void>;
}

export async function startCorpusArchive(opts: Partial<ArchiveOptions> = {}): Promise<CorpusArchive> {
  const tmp = makeTempDir('archive');
  const archive = await startArchive({
    dir: corpusDir(),
    port: 0,
    host: '127.0.0.1',
    aeTitle: 'ARCHIVE',
    dbPath: join(tmp, 'index.sqlite'),
    storeDir: join(tmp, 'received'),
    ...opts,
  });
  return {
    archive,
    tmp,
    stop: async () => {
      await archive.close();
      removeTempDir(tmp);
    },
  };
}

/** Manifest rows of the files the archive serves (one per SOP Instance UID: the copy it serves is not checked here). */
export function servedRows(archive: Archive): ManifestRow[] {
  const problems = new Set(archive.problems().map((p) => p.path));
  const seen = new Set<string>();
  return manifest().filter((r) => {
    if (problems.has(r.path) || seen.has(r.sopInstanceUid)) return false;
    seen.add(r.sopInstanceUid);
    return true;
  });
}

export const distinct = <T>(xs: readonly T[]): number => new Set(xs).size;

export async function channelTo(
  archive: Archive,
  contexts: ContextProposal[],
  callingAeTitle = 'TESTSCU',
): Promise<DimseChannel> {
  const r = await openChannel(
    { host: '127.0.0.1', port: archive.port, aeTitle: archive.aeTitle, callingAeTitle },
    contexts,
  );
  if (!r.ok)
    throw new Error(`cannot open an association to the archive: ${r.error.kind}: ${r.error.message}`);
  return r.value;
}

export const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

/** SHA-256 of a Part 10 file's data set (what travels in a C-STORE). */
export const datasetDigest = (path: string): string => sha256(datasetBytes(path));

/**
 * SHA-256 of the data set as it arrives at a pacshift receiver: the file's data set, byte for byte (an odd-length
 * one travels with a NUL pad the receiver drops; a Deflate stream keeps it: see arrivingDataset).
 */
export function sentDigest(path: string): string {
  return sha256(arrivingDataset(path, 'pacshift')!);
}
