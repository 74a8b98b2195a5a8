/**
 * One contract for every Source (src/transfer/sources): DIMSE Orthanc with C-MOVE, DIMSE Orthanc with C-GET,
 * DIMSE dcmqrscp (C-MOVE) and a folder (a temp tree of symlinks to corpus files). Each is loaded with the same
 * corpus studies (uncompressed; plus one JPEG Lossless file where the source can deliver it: not dcmqrscp,
 * which cannot move compressed files). Every instance of a retrieve is accounted for by SOP Instance UID
 * (dcm4che's BasicRetrieveTask), never by counts: the set that arrived equals the set expected, each spooled
 * data set is byte for byte the source's copy; a subset asked for at IMAGE level is exactly the subset; an
 * instance the source lost is "not delivered" (missing, with a cause where the source can know it) while the
 * rest arrives; a dead source and an unknown study are typed results, never a throw or a hang.
 */
import { createHash } from 'node:crypto';
import { rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readInstanceInfo } from '../../src/dicom/part10.js';
import type { Peer } from '../../src/net/peer.js';
import type { DimseSourcePlan, Plan } from '../../src/plan/index.js';
import type { RetrieveRequest } from '../../src/transfer/retrieve.js';
import { startReceiver, type Receiver } from '../../src/transfer/receiver.js';
import {
  dimseSource,
  folderSource,
  type FolderRecord,
  type Source,
} from '../../src/transfer/sources/index.js';
import type { SourceRetrieveReport } from '../../src/transfer/sources/source.js';
import { Spool } from '../../src/transfer/spool.js';
import { hasCorpus, manifest, type ManifestRow } from '../harness/corpus.js';
import { datasetBytes } from '../harness/dicom-file.js';
import { elementsOf } from '../harness/net-peer.js';
import { startDcmqrscp, type Dcmqrscp } from '../harness/dcmqrscp.js';
import { startOrthanc, type Orthanc } from '../harness/orthanc.js';
import { freePort } from '../harness/ports.js';
import { peers } from '../harness/process.js';
import { makeTempDir, removeTempDir } from '../harness/tmp.js';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const LE_SYNTAXES = ['1.2.840.10008.1.2', '1.2.840.10008.1.2.1'];
const UNCOMPRESSED = new Set(['Explicit VR Little Endian', 'Implicit VR Little Endian']);

/** Three studies, their uncompressed, dcmdump-clean files (27 + 8 + 4 instances). */
const STUDIES = [
  '1.3.46.670589.11.38317.5.0.8636.2014021409005697000', // Philips fMRI, one series of 27
  '1.3.12.2.1107.5.2.19.45160.30000018091720502193200000007', // Siemens EPI, 8 in several series
  '1.2.392.200103.20080913.113635.0.2009.6.22.21.43.10.22941.1', // CT + Segmentation (implicit VR)
];
/** A JPEG Lossless file, its own study: delivered by the sources that can. */
const COMPRESSED = 'dcm4che/MR-JPEGLosslessSV1.dcm';

interface Held {
  readonly row: ManifestRow;
  readonly sopInstanceUid: string;
  readonly sopClassUid: string;
  readonly seriesUid: string;
  readonly studyUid: string;
  readonly transferSyntaxUid: string;
}

async function heldOf(row: ManifestRow): Promise<Held> {
  const r = await readInstanceInfo(row.absPath);
  if (!r.ok) throw new Error(`${row.path}: ${r.error.code}`);
  const i = r.value;
  // Ground truth from MANIFEST.tsv: the file's header must say the same.
  expect(i.sopInstanceUid, row.path).toBe(row.sopInstanceUid);
  expect(i.studyInstanceUid, row.path).toBe(row.studyInstanceUid);
  return {
    row,
    sopInstanceUid: i.sopInstanceUid,
    sopClassUid: i.sopClassUid,
    seriesUid: i.seriesInstanceUid ?? '',
    studyUid: row.studyInstanceUid,
    transferSyntaxUid: i.transferSyntaxUid,
  };
}

/** What one implementation needs to run the contract. */
interface Kit {
  /** A source delivering into this spool (a C-MOVE source has our listener write into it). */
  open(spool: Spool): Promise<{ source: Source; close(): Promise<void> }>;
  /**
   * The source sends the bytes it holds. DCMTK-based sources (Orthanc, dcmqrscp) do not: they send the data set
   * they parsed, undefined-length sequences and items written with explicit lengths (seen on the Philips fMRI
   * files). There the spooled copy is compared element by element, value bytes included.
   */
  readonly keepsBytes: boolean;
  /**
   * The instance arrives in the syntax the source holds it in. dcmqrscp (C-MOVE) does not always: it proposes
   * every uncompressed syntax for its sub-operations and our listener accepts explicit VR little endian, so an
   * implicit VR file arrives converted (elements then compared without their VRs).
   */
  readonly keepsSyntax: boolean;
  /** A Part 10 file with the source's own copy of an instance (written under `dir` where needed). */
  heldFile(h: Held, dir: string): Promise<string>;
  /** The source loses an instance (deleted, unlinked). */
  lose(h: Held): Promise<void>;
  /** The same kind of source, dead (closed port, missing folder). */
  dead(): Promise<Source>;
  stop(): Promise<void>;
}

interface KitSpec {
  name: string;
  enabled: boolean;
  /** The source can deliver the compressed file. */
  compressed: boolean;
  /** Whether the source can say why an instance was not delivered (report.causes). */
  causes: boolean;
  /** What the cause of an instance the source lost says. */
  lostCause: RegExp;
  make(files: readonly Held[]): Promise<Kit>;
}

const ME = 'PACSHIFT';

const peerAt = (port: number, aeTitle: string): Peer => ({
  host: '127.0.0.1',
  port,
  aeTitle,
  callingAeTitle: ME,
  timeouts: { connectMs: 3000, artimMs: 10_000 },
  dimseTimeoutMs: 60_000,
});

const dimsePlan = (retrieve: 'c-move' | 'c-get'): DimseSourcePlan =>
  ({ type: 'dimse', retrieve, queryModel: 'study-root' }) as unknown as DimseSourcePlan;

/** Our C-MOVE destination on a fixed port (the source knows it), writing into the spool of a case. */
async function listener(port: number, spool: Spool): Promise<Receiver> {
  const plan = { local: { aeTitle: ME, port, host: '127.0.0.1' } } as unknown as Plan;
  return startReceiver(plan, spool, () => undefined);
}

async function orthancKit(files: readonly Held[], retrieve: 'c-move' | 'c-get'): Promise<Kit> {
  const port = await freePort();
  const o: Orthanc = await startOrthanc({
    aeTitle: 'OLDPACS',
    modalities: { pacshift: { aeTitle: ME, host: '127.0.0.1', port } },
  });
  const ids = new Map<string, string>();
  for (const f of files) ids.set(f.sopInstanceUid, (await o.upload(f.row.absPath)).ID);
  const plan = dimsePlan(retrieve);
  return {
    async open(spool) {
      const rx = retrieve === 'c-move' ? await listener(port, spool) : undefined;
      return {
        source: dimseSource(peerAt(o.dicomPort, o.aeTitle), plan, ME),
        close: async () => rx?.close(),
      };
    },
    keepsBytes: false,
    keepsSyntax: true,
    async heldFile(h, dir) {
      const r = await o.rest.request('GET', `/instances/${ids.get(h.sopInstanceUid)!}/file`);
      const p = join(dir, `${h.sopInstanceUid}.dcm`);
      writeFileSync(p, Buffer.from(await r.arrayBuffer()));
      return p;
    },
    async lose(h) {
      await o.rest.delete(`/instances/${ids.get(h.sopInstanceUid)!}`);
    },
    dead: async () => dimseSource(peerAt(await freePort(), 'OLDPACS'), plan, ME),
    stop: () => o.stop(),
  };
}

const KITS: KitSpec[] = [
  {
    name: 'DIMSE Orthanc C-MOVE',
    enabled: peers.orthanc,
    compressed: true,
    causes: true,
    // Orthanc names nothing: the study-level move succeeds without it, the IMAGE-level one fails (0xC000).
    lostCause: /^not sent by the source: .*C-MOVE request\(s\) answered 0xC000/,
    make: (files) => orthancKit(files, 'c-move'),
  },
  {
    name: 'DIMSE Orthanc C-GET',
    enabled: peers.orthanc,
    compressed: true,
    causes: true,
    lostCause: /^not sent by the source: .*C-GET request\(s\) answered 0xC000/,
    make: (files) => orthancKit(files, 'c-get'),
  },
  {
    name: 'DIMSE dcmqrscp C-MOVE',
    enabled: peers.dcmtk,
    compressed: false,
    causes: true,
    // dcmqrscp names the instance in its Failed SOP Instance UID List.
    lostCause: /^the source reported its sub-operation failed \(C-MOVE 0x(B000|A702)/,
    make: async (files) => {
      const port = await freePort();
      const q: Dcmqrscp = await startDcmqrscp({
        aeTitle: 'QRSCP',
        files: files.map((f) => f.row.absPath),
        peers: [{ aeTitle: ME, host: '127.0.0.1', port }],
      });
      expect(q.refused).toEqual([]);
      const plan = dimsePlan('c-move');
      return {
        async open(spool) {
          const rx = await listener(port, spool);
          return { source: dimseSource(peerAt(q.port, q.aeTitle), plan, ME), close: () => rx.close() };
        },
        keepsBytes: false,
        keepsSyntax: false,
        heldFile: async (h) => h.row.absPath,
        async lose(h) {
          // Still in the index, its file gone (the harness indexes links named by input order).
          const n = files.indexOf(h) + 1;
          rmSync(join(q.dir, 'links', `${String(n).padStart(5, '0')}.dcm`));
        },
        dead: async () => dimseSource(peerAt(await freePort(), 'QRSCP'), plan, ME),
        stop: () => q.stop(),
      };
    },
  },
  {
    name: 'folder',
    enabled: true,
    compressed: true,
    causes: true,
    lostCause: /^FOLDER_FILE_MISSING: /,
    make: async (files) => {
      const dir = makeTempDir('source-contract-folder');
      // What the folder inventory records per instance: its path (relative) and size.
      const records = new Map<string, Map<string, FolderRecord>>();
      for (const [i, f] of files.entries()) {
        const rel = `${String(i).padStart(3, '0')}.dcm`;
        symlinkSync(f.row.absPath, join(dir, rel));
        const m = records.get(f.studyUid) ?? new Map<string, FolderRecord>();
        m.set(f.sopInstanceUid, { path: rel, sizeBytes: f.row.size });
        records.set(f.studyUid, m);
      }
      const locate = async (studyUid: string) => records.get(studyUid) ?? new Map<string, FolderRecord>();
      return {
        open: async () => ({ source: folderSource(dir, locate), close: async () => undefined }),
        keepsBytes: true,
        keepsSyntax: true,
        heldFile: async (h) => h.row.absPath,
        async lose(h) {
          rmSync(join(dir, records.get(h.studyUid)!.get(h.sopInstanceUid)!.path));
        },
        dead: async () => folderSource(join(dir, 'no-such-folder'), locate),
        stop: async () => removeTempDir(dir),
      };
    },
  },
];

const request = (
  studyUid: string,
  items: readonly Held[],
  over: Partial<RetrieveRequest> = {},
): RetrieveRequest => ({
  studyUid,
  expected: new Map(
    items.map((h) => [
      h.sopInstanceUid,
      { sopClassUid: h.sopClassUid, seriesUid: h.seriesUid, transferSyntaxUid: h.transferSyntaxUid },
    ]),
  ),
  quietMs: 1500,
  imageRetries: 1,
  ...over,
});

const uidsOf = (xs: readonly { sopInstanceUid: string }[]) => xs.map((x) => x.sopInstanceUid).sort();

function sourceContract(spec: KitSpec): void {
  describe.skipIf(!spec.enabled || !hasCorpus())(`Source contract: ${spec.name}`, () => {
    let kit: Kit;
    let all: Held[];
    const tmps: string[] = [];
    const byStudy = (s: string) => all.filter((h) => h.studyUid === s);

    beforeAll(async () => {
      const rows = manifest().filter(
        (r) =>
          STUDIES.includes(r.studyInstanceUid) &&
          UNCOMPRESSED.has(r.transferSyntax) &&
          r.dcmdumpStatus === 'ok',
      );
      if (spec.compressed) rows.push(manifest().find((r) => r.path === COMPRESSED)!);
      all = await Promise.all(rows.map(heldOf));
      kit = await spec.make(all);
    }, 180_000);
    afterAll(async () => {
      await kit?.stop();
      for (const t of tmps) removeTempDir(t);
    }, 60_000);

    /** One retrieve into a fresh spool. */
    const retrieve = async (
      req: RetrieveRequest,
      from?: Source,
    ): Promise<{ rep: SourceRetrieveReport; spool: Spool }> => {
      const dir = makeTempDir('source-contract-spool');
      tmps.push(dir);
      const spool = new Spool(dir, Number.MAX_SAFE_INTEGER);
      await spool.open();
      const { source, close } = await kit.open(spool);
      try {
        return { rep: await (from ?? source).retrieveStudy(spool, req), spool };
      } finally {
        await close();
      }
    };

    /** The spooled copy is the source's: the same data set bytes, or (keepsBytes false) the same elements. */
    const expectAsHeld = async (h: Held, spooled: string) => {
      const dir = makeTempDir('source-contract-held');
      try {
        const held = await kit.heldFile(h, dir);
        const same = sha(datasetBytes(spooled)) === sha(datasetBytes(held));
        if (kit.keepsBytes || same) {
          expect(same, h.row.path).toBe(true);
          return;
        }
        // An empty sequence written with undefined instead of zero length is the same content.
        // Across syntaxes (keepsSyntax false) an implicit VR side has no VRs of its own: compare without them,
        // and without group lengths (gggg,0000), which depend on the encoding.
        const noVr = !kit.keepsSyntax;
        const norm = (xs: string[]) =>
          xs
            .filter((x) => !(noVr && / element [0-9a-f]{4}0000 /.test(x)))
            .map((x) => x.replace(/ SQ (e3b0c442[0-9a-f]{56})?$/, ' SQ'))
            .map((x) => (noVr ? x.replace(/^(\S* \S+ [0-9a-f]{8}) \S* /, '$1 ') : x));
        const [x, y] = [norm(await elementsOf(spooled)), norm(await elementsOf(held))];
        expect(x, h.row.path).toEqual(y);
      } finally {
        removeTempDir(dir);
      }
    };

    const studies = () => [...new Set(all.map((h) => h.studyUid))];

    it('retrieving a study delivers every inventoried instance, each data set as the source holds it', async () => {
      expect(studies().length).toBe(spec.compressed ? 4 : 3);
      expect(all.length).toBe(spec.compressed ? 40 : 39);
      for (const s of studies()) {
        const want = byStudy(s);
        const { rep, spool } = await retrieve(request(s, want));
        expect(rep.failure, s).toBeUndefined();
        expect(rep.stop, s).toBeUndefined();
        expect(rep.missing, s).toEqual([]);
        expect(uidsOf(rep.arrived), s).toEqual(uidsOf(want));
        expect(uidsOf(rep.unlisted), s).toEqual([]);
        expect(uidsOf(spool.ofStudy(s)), s).toEqual(uidsOf(want));
        for (const h of want) {
          const got = spool.get(h.sopInstanceUid);
          expect(got, h.row.path).toHaveLength(1);
          if (kit.keepsSyntax) expect(got[0]!.transferSyntaxUid, h.row.path).toBe(h.transferSyntaxUid);
          else expect(LE_SYNTAXES, h.row.path).toContain(got[0]!.transferSyntaxUid);
          await expectAsHeld(h, got[0]!.path);
        }
      }
    }, 180_000);

    it('a subset asked for at IMAGE level (wholeStudy: false) is exactly the subset', async () => {
      const s = STUDIES[1]!;
      const want = byStudy(s);
      const series = [...new Set(want.map((h) => h.seriesUid))];
      expect(series.length).toBeGreaterThan(1);
      // One instance of each of the first two series, and a second one of the first.
      const subset = [
        ...want.filter((h) => h.seriesUid === series[0]).slice(0, 2),
        want.find((h) => h.seriesUid === series[1])!,
      ];
      const { rep, spool } = await retrieve(request(s, subset, { wholeStudy: false }));
      expect(rep.failure).toBeUndefined();
      expect(rep.missing).toEqual([]);
      expect(uidsOf(rep.arrived)).toEqual(uidsOf(subset));
      expect(uidsOf(rep.unlisted)).toEqual([]);
      expect(uidsOf(spool.ofStudy(s))).toEqual(uidsOf(subset));
    }, 120_000);

    it('an instance the source lost is not delivered (with its cause), the rest is', async () => {
      const s = STUDIES[0]!;
      const want = byStudy(s);
      const lost = want[5]!;
      await kit.lose(lost);
      const { rep, spool } = await retrieve(request(s, want));
      expect(rep.stop).toBeUndefined();
      expect(rep.missing).toEqual([lost.sopInstanceUid]);
      expect(uidsOf(rep.arrived)).toEqual(uidsOf(want.filter((h) => h !== lost)));
      expect(uidsOf(rep.unlisted)).toEqual([]);
      expect(spool.get(lost.sopInstanceUid)).toEqual([]);
      if (spec.causes) {
        expect([...(rep.causes?.keys() ?? [])]).toEqual([lost.sopInstanceUid]);
        expect(rep.causes!.get(lost.sopInstanceUid)).toMatch(spec.lostCause);
      }
    }, 180_000);

    it('a dead source is a typed result: nothing delivered, no throw, no hang', async () => {
      const s = STUDIES[2]!;
      const want = byStudy(s);
      const dead = await kit.dead();
      const { rep, spool } = await retrieve(request(s, want), dead);
      expect(rep.arrived).toEqual([]);
      expect(rep.unlisted).toEqual([]);
      expect([...rep.missing].sort()).toEqual(uidsOf(want));
      expect(spool.ofStudy(s)).toEqual([]);
      // The network says what failed (typed NetFailure), or the source gives a cause per instance.
      if (rep.failure) expect(rep.failure.kind).toMatch(/\S/);
      else expect([...(rep.causes?.keys() ?? [])].sort()).toEqual(uidsOf(want));
      await dead.close();
    }, 120_000);

    it('an unknown study delivers nothing: its instances are missing, nothing unlisted', async () => {
      const s = '2.25.111111111111111111111111111111111';
      const ghost: Held = {
        ...all[0]!,
        sopInstanceUid: '2.25.222222222222222222222222222222222',
        studyUid: s,
      };
      const { rep, spool } = await retrieve(request(s, [ghost]));
      expect(rep.failure).toBeUndefined();
      expect(rep.stop).toBeUndefined();
      expect(rep.arrived).toEqual([]);
      expect(rep.unlisted).toEqual([]);
      expect(rep.missing).toEqual([ghost.sopInstanceUid]);
      expect(spool.ofStudy(s)).toEqual([]);
      expect([...(rep.causes?.keys() ?? [])]).toEqual([ghost.sopInstanceUid]);
      // Nothing of another study came either.
      for (const k of studies()) expect(spool.ofStudy(k), k).toEqual([]);
    }, 120_000);

    it('an unknown study the inventory lists nothing of (empty expected) delivers nothing, no throw', async () => {
      const s = '2.25.333333333333333333333333333333333';
      const { rep, spool } = await retrieve(request(s, []));
      expect(rep.failure).toBeUndefined();
      expect(rep.stop).toBeUndefined();
      expect(rep.arrived).toEqual([]);
      expect(rep.unlisted).toEqual([]);
      expect(rep.missing).toEqual([]);
      expect(spool.ofStudy(s)).toEqual([]);
      for (const k of studies()) expect(spool.ofStudy(k), k).toEqual([]);
    }, 120_000);
  });
}

for (const k of KITS) sourceContract(k);
