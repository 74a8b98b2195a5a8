/**
 * One contract for every Target (src/transfer/targets): DIMSE → Orthanc, DIMSE → storescp, folder, and
 * DICOMweb STOW-RS → Orthanc with its DICOMweb plugin. Each implementation must store corpus files byte for
 * byte (data set SHA-256 equal at the target), be idempotent on a second store, turn a refused object into
 * the outcome the status table says (decideStoreOutcome), answer a dead peer with a retry outcome (never a
 * throw), and stream large files (RSS growth well below the bytes sent).
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureSet } from '../../bench/net/data.js';
import { readInstanceInfo } from '../../src/dicom/part10.js';
import type { Peer } from '../../src/net/peer.js';
import type { StoreOutcome } from '../../src/net/services/store-scu.js';
import { decideStoreOutcome } from '../../src/transfer/store-outcome.js';
import {
  FOLDER_CONFLICT_STATUS,
  dicomwebTarget,
  dimseTarget,
  folderPathOf,
  folderTarget,
  type Target,
  type TargetInstance,
} from '../../src/transfer/targets/index.js';
import { corpusRow, hasCorpus } from '../harness/corpus.js';
import { datasetBytes } from '../harness/dicom-file.js';
import { elementsOf } from '../harness/net-peer.js';
import { startOrthanc, type Orthanc } from '../harness/orthanc.js';
import { freePort } from '../harness/ports.js';
import { peers } from '../harness/process.js';
import { startStorescp, type Storescp } from '../harness/storescp.js';
import { makeTempDir, removeTempDir } from '../harness/tmp.js';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

async function instanceOf(path: string): Promise<TargetInstance> {
  const r = await readInstanceInfo(path);
  if (!r.ok) throw new Error(`${path}: ${r.error.code}`);
  const i = r.value;
  return {
    path,
    sopClassUid: i.sopClassUid,
    sopInstanceUid: i.sopInstanceUid,
    transferSyntaxUid: i.transferSyntaxUid,
    datasetOffset: i.metaEnd,
    datasetLength: i.datasetLength,
    studyUid: i.studyInstanceUid,
    seriesUid: i.seriesInstanceUid,
  };
}

/** Small, well-formed files of different SOP classes and syntaxes every peer here takes. */
const SAMPLE = [
  'orthanc-tests/HierarchicalAnonymization/RTH/CT01.dcm',
  'orthanc-tests/2020-09-11-Christopher-ELSCINT1-Raw.dcm',
  'dcm_qa/dcm_qa/Orientation/cor/cordesc36/MR.1.3.12.2.1107.5.2.32.35131.2014031012560686746788470',
  'dcmqi/segmentations/ct-3slice/01.dcm',
  'dcmjs-dimse/sr.dcm',
];

interface Refusal {
  /** The instance the target refuses (prepared by the kit). */
  readonly instance: TargetInstance;
  readonly effect: 'quarantine' | 'retry' | 'stop';
  readonly status: number;
}

interface Kit {
  readonly target: Target;
  /**
   * The target keeps the bytes it received. Orthanc over DIMSE does not: DCMTK inside it writes the data set it
   * parsed (known, see net-interop.test.ts), so there the stored copy is compared element by element, value bytes
   * included; the storescp kit (bit-preserving) proves what went on the wire is byte for byte.
   */
  readonly keepsBytes: boolean;
  /** The file the target holds for an instance, for the element comparison (keepsBytes false). */
  storedFile?(i: TargetInstance, dir: string): Promise<string | undefined>;
  /** The data set bytes the target holds for an instance (undefined: not there). */
  stored(i: TargetInstance): Promise<Buffer | undefined>;
  /** An object this target refuses, and what the status table must make of it. */
  refusal(): Promise<Refusal>;
  /** The same kind of target, dead (closed port, unusable folder), and the effect expected. */
  dead(): Promise<{ target: Target; effect: 'retry' | 'stop' }>;
  stop(): Promise<void>;
}

const peerAt = (port: number, aeTitle: string): Peer => ({
  host: '127.0.0.1',
  port,
  aeTitle,
  callingAeTitle: 'PACSHIFT',
  timeouts: { connectMs: 3000, artimMs: 10_000 },
  dimseTimeoutMs: 120_000,
});

async function orthancFile(o: Orthanc, i: TargetInstance): Promise<Buffer | undefined> {
  const ids = await o.rest.post<{ ID: string; Type: string }[]>('/tools/lookup', i.sopInstanceUid);
  const inst = ids.find((x) => x.Type === 'Instance');
  if (!inst) return undefined;
  const r = await o.rest.request('GET', `/instances/${inst.ID}/file`);
  return Buffer.from(await r.arrayBuffer());
}

async function orthancStored(o: Orthanc, i: TargetInstance): Promise<Buffer | undefined> {
  const bytes = await orthancFile(o, i);
  if (!bytes) return undefined;
  const dir = makeTempDir('contract-file');
  try {
    const p = join(dir, 'f.dcm');
    writeFileSync(p, bytes);
    return datasetBytes(p);
  } finally {
    removeTempDir(dir);
  }
}

const deadNetworkPort = async () => freePort(); // nobody listens there

const KITS: { name: string; enabled: boolean; make: () => Promise<Kit> }[] = [
  {
    name: 'DIMSE → Orthanc',
    enabled: peers.orthanc,
    make: async () => {
      const o = await startOrthanc({ aeTitle: 'ORTHANC', config: { UnknownSopClassAccepted: false } });
      return {
        target: dimseTarget(peerAt(o.dicomPort, o.aeTitle)),
        keepsBytes: false,
        storedFile: async (i, dir) => {
          const bytes = await orthancFile(o, i);
          if (!bytes) return undefined;
          const p = join(dir, `${i.sopInstanceUid}.dcm`);
          writeFileSync(p, bytes);
          return p;
        },
        stored: (i) => orthancStored(o, i),
        refusal: async () => ({
          // Orthanc with UnknownSopClassAccepted false accepts no context for an unknown SOP class.
          instance: await instanceOf(corpusRow('orthanc-tests/UnknownSopClassUid.dcm').absPath),
          effect: 'quarantine',
          status: 0x0122,
        }),
        dead: async () => ({
          target: dimseTarget(peerAt(await deadNetworkPort(), 'ORTHANC')),
          effect: 'retry',
        }),
        stop: () => o.stop(),
      };
    },
  },
  {
    name: 'DIMSE → storescp',
    enabled: peers.dcmtk,
    make: async () => {
      const s: Storescp = await startStorescp({
        aeTitle: 'STORESCP',
        accept: {
          // Everything of the sample and the large set, but not Secondary Capture: the refusal.
          sopClasses: [
            '1.2.840.10008.5.1.4.1.1.2',
            '1.2.840.10008.5.1.4.1.1.4',
            '1.2.840.10008.5.1.4.1.1.88.11',
          ],
          transferSyntaxes: ['1.2.840.10008.1.2.1', '1.2.840.10008.1.2'],
        },
      });
      return {
        target: dimseTarget(peerAt(s.port, s.aeTitle)),
        keepsBytes: true,
        stored: async (i) => {
          for (const f of s.files()) {
            const r = await readInstanceInfo(f);
            if (r.ok && r.value.sopInstanceUid === i.sopInstanceUid) return datasetBytes(f);
          }
          return undefined;
        },
        refusal: async () => {
          const sc = await instanceOf(corpusRow('dcm4che/ovly_p01.dcm').absPath); // Secondary Capture
          return { instance: sc, effect: 'quarantine', status: 0x0122 };
        },
        dead: async () => ({
          target: dimseTarget(peerAt(await deadNetworkPort(), 'STORESCP')),
          effect: 'retry',
        }),
        stop: () => s.stop(),
      };
    },
  },
  {
    name: 'folder',
    enabled: true,
    make: async () => {
      const dir = makeTempDir('folder-target');
      return {
        target: folderTarget(dir),
        keepsBytes: true,
        stored: async (i) => {
          const p = folderPathOf(dir, i);
          return existsSync(p) ? datasetBytes(p) : undefined;
        },
        refusal: async () => {
          // Another file already holds the name of this instance: a data conflict, never overwritten.
          const i = await instanceOf(corpusRow('pydicom/debian_test_files/rtdose.dcm').absPath);
          const p = folderPathOf(dir, i);
          mkdirSync(join(p, '..'), { recursive: true });
          writeFileSync(p, Buffer.concat([readFileSync(i.path), Buffer.from([0, 0])]));
          return { instance: i, effect: 'quarantine', status: FOLDER_CONFLICT_STATUS };
        },
        dead: async () => {
          // A "folder" that is a file: nothing can be written under it (ENOTDIR: a configuration error).
          const file = join(dir, 'not-a-folder');
          writeFileSync(file, 'x');
          return { target: folderTarget(join(file, 'sub')), effect: 'stop' };
        },
        stop: async () => removeTempDir(dir),
      };
    },
  },
  {
    name: 'DICOMweb STOW-RS → Orthanc',
    enabled: peers.dicomweb,
    make: async () => {
      const o = await startOrthanc({ aeTitle: 'ORTHANCWEB', dicomWeb: true });
      return {
        target: dicomwebTarget({ url: `${o.baseUrl}/dicom-web`, batchInstances: 3 }),
        keepsBytes: true,
        stored: (i) => orthancStored(o, i),
        refusal: async () => ({
          // Orthanc 1.10 cannot parse HTJ2K: Failed SOP Sequence, Failure Reason 0xC000 (HTTP 400).
          instance: await instanceOf(corpusRow('pydicom/pydicom-data/HTJ2KLossless_08_RGB.dcm').absPath),
          effect: 'quarantine',
          status: 0xc000,
        }),
        dead: async () => ({
          target: dicomwebTarget({ url: `http://127.0.0.1:${await deadNetworkPort()}/dicom-web` }),
          effect: 'retry',
        }),
        stop: () => o.stop(),
      };
    },
  },
];

const effects = (os: StoreOutcome[]) => os.map((o) => decideStoreOutcome(o).effect);

function targetContract(name: string, enabled: boolean, make: () => Promise<Kit>): void {
  describe.skipIf(!enabled || !hasCorpus())(`Target contract: ${name}`, () => {
    let kit: Kit;
    let sample: TargetInstance[];
    let largeDir: string;
    beforeAll(async () => {
      kit = await make();
      sample = await Promise.all(SAMPLE.map((p) => instanceOf(corpusRow(p).absPath)));
      largeDir = makeTempDir('contract-large');
    }, 180_000);
    afterAll(async () => {
      await kit?.target.close();
      await kit?.stop();
      if (largeDir) removeTempDir(largeDir);
    }, 60_000);

    /** The target holds the instance as sent: the same data set bytes, or (keepsBytes false) the same elements. */
    const expectStoredAsSent = async (s: TargetInstance) => {
      const got = await kit.stored(s);
      expect(got, s.path).toBeDefined();
      if (kit.keepsBytes || sha(got!) === sha(datasetBytes(s.path))) {
        expect(sha(got!), s.path).toBe(sha(datasetBytes(s.path)));
        return;
      }
      const dir = makeTempDir('contract-elements');
      try {
        const copy = await kit.storedFile!(s, dir);
        // An empty sequence written with undefined instead of zero length (DCMTK does) is the same content.
        const norm = (xs: string[]) => xs.map((x) => x.replace(/ SQ (e3b0c442[0-9a-f]{56})?$/, ' SQ'));
        expect(norm(await elementsOf(copy!)), s.path).toEqual(norm(await elementsOf(s.path)));
      } finally {
        removeTempDir(dir);
      }
    };

    it('stores corpus files byte for byte (data set SHA-256 equal at the target)', async () => {
      const outcomes = await kit.target.store(sample, { concurrency: 2 });
      expect(outcomes.map((o) => o.instance.sopInstanceUid).sort()).toEqual(
        sample.map((s) => s.sopInstanceUid).sort(),
      );
      expect(effects(outcomes)).toEqual(sample.map(() => 'none'));
      for (const s of sample) await expectStoredAsSent(s);
    }, 120_000);

    it('is idempotent: a second store of the same instances succeeds and changes nothing', async () => {
      const before = await Promise.all(sample.map((s) => kit.stored(s)));
      const outcomes = await kit.target.store(sample, { concurrency: 2 });
      expect(effects(outcomes)).toEqual(sample.map(() => 'none'));
      const after = await Promise.all(sample.map((s) => kit.stored(s)));
      expect(after.map((b) => sha(b!))).toEqual(before.map((b) => sha(b!)));
    }, 120_000);

    it('a refused object becomes the outcome the status table says, the others are stored', async () => {
      const r = await kit.refusal();
      const other = sample[0]!;
      const outcomes = await kit.target.store([r.instance, other], { concurrency: 1 });
      const refused = outcomes.find((o) => o.instance.sopInstanceUid === r.instance.sopInstanceUid)!;
      const d = decideStoreOutcome(refused);
      expect(d.effect).toBe(r.effect);
      expect(d.record.status).toBe(r.status);
      expect(d.record.cause).toBeTruthy();
      const fine = outcomes.find((o) => o.instance.sopInstanceUid === other.sopInstanceUid)!;
      expect(decideStoreOutcome(fine).effect).toBe('none');
    }, 120_000);

    it('a dead target is an outcome per instance (never a throw)', async () => {
      const d = await kit.dead();
      try {
        const outcomes = await d.target.store(sample.slice(0, 2), { concurrency: 2 });
        expect(outcomes).toHaveLength(2);
        expect(effects(outcomes)).toEqual([d.effect, d.effect]);
      } finally {
        await d.target.close();
      }
    }, 120_000);

    it('streams large files (3 × 31.5 MB): RSS grows far less than the bytes sent', async () => {
      const set = await ensureSet(largeDir, { name: 'large', count: 3 }, () => undefined);
      const large = await Promise.all(set.files.map(instanceOf));
      global.gc?.();
      const rss0 = process.memoryUsage().rss;
      let peak = rss0;
      const t = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 20);
      let outcomes: StoreOutcome[];
      try {
        outcomes = await kit.target.store(large, { concurrency: 1 });
      } finally {
        clearInterval(t);
      }
      peak = Math.max(peak, process.memoryUsage().rss);
      expect(effects(outcomes)).toEqual(large.map(() => 'none'));
      // Coarse: buffering the files would add at least one whole file (31.5 MB) per file in flight, ~94 MB here.
      expect(peak - rss0).toBeLessThan(set.bytes / 2);
      await expectStoredAsSent(large[0]!);
    }, 300_000);
  });
}

for (const k of KITS) targetContract(k.name, k.enabled, k.make);
