/**
 * `preflight PLAN` with a folder source judges every file the source holds (issue 7, item 21), not
 * only the inventory's one copy per SOP Instance UID: a folder of symlinks to part of the corpus (its
 * odd files, and several SOP Instance UIDs held by two files each), Orthanc 1.10 as the plan's target.
 * The plan's prediction is compared with `preflight --files` on the same folder, then with the truth:
 * every file stored into that Orthanc (the first copy of a UID first), refused = not stored.
 */
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runPreflight, type PreflightReport } from '../../src/analyse/preflight/index.js';
import { prepareFiles } from '../../src/cli/commands/store.js';
import { runInventory } from '../../src/inventory/index.js';
import type { Peer } from '../../src/net/peer.js';
import { storeInstances } from '../../src/net/services/store-scu.js';
import { openMigration, type MigrationContext } from '../../src/run/context.js';
import { listFiles } from '../../src/util/files.js';
import { hasCorpus, manifest } from '../harness/corpus.js';
import { startOrthanc, type Orthanc } from '../harness/orthanc.js';
import { peers } from '../harness/process.js';
import { makeTempDir, removeTempDir } from '../harness/tmp.js';

const FOLDERS = ['pydicom/', 'fo-dicom/', 'dcm4che/', 'highdicom/', 'pynetdicom/', 'dicomParser/'];

describe.skipIf(!peers.orthanc || !hasCorpus())(
  'preflight PLAN over a folder source judges every file',
  () => {
    let dir: string;
    let source: string;
    let orthanc: Orthanc;
    let ctx: MigrationContext;
    let files: string[];
    let inventoried: number;
    let plan: PreflightReport;
    let planAll: PreflightReport;
    let direct: PreflightReport;
    const refused = new Set<string>();

    beforeAll(async () => {
      dir = makeTempDir('preflight-folder');
      source = join(dir, 'source');
      for (const r of manifest().filter((m) => FOLDERS.some((f) => m.path.startsWith(f)))) {
        mkdirSync(dirname(join(source, r.path)), { recursive: true });
        symlinkSync(r.absPath, join(source, r.path));
      }
      files = await listFiles([source]);
      orthanc = await startOrthanc({ aeTitle: 'NEWPACS' });
      const planPath = join(dir, 'plan.yaml');
      writeFileSync(
        planPath,
        JSON.stringify({
          name: 'preflight-folder',
          version: 1,
          local: { aeTitle: 'PACSHIFT' },
          source: { type: 'folder', path: source },
          target: { type: 'dimse', host: orthanc.host, port: orthanc.dicomPort, calledAe: 'NEWPACS' },
          state: { sqlite: join(dir, 'state.sqlite') },
          report: { dir: join(dir, 'report') },
        }),
      );
      ctx = await openMigration(planPath);
      const inv = await runInventory(ctx);
      inventoried = inv.instances;
      expect(inv.files?.duplicates).toBeGreaterThanOrEqual(3);
      expect(inv.files?.unreadable).toBeGreaterThanOrEqual(3);

      // 1. Before anything is sent: the plan (one per series, and --all), and the files directly.
      plan = await runPreflight(ctx, { profile: 'lenient', record: false });
      planAll = await runPreflight(ctx, { profile: 'lenient', all: true, record: false });
      const peer: Peer = {
        host: orthanc.host,
        port: orthanc.dicomPort,
        aeTitle: 'NEWPACS',
        callingAeTitle: 'PACSHIFT',
        dimseTimeoutMs: 10_000,
      };
      direct = await runPreflight(undefined, { files: [source], profile: 'lenient', target: peer });

      // 2. The truth: every file stored into Orthanc.
      const { sendable, unreadable } = await prepareFiles(files);
      for (const u of unreadable) refused.add(u.path);
      for (const o of await storeInstances(peer, sendable, { associations: 1 })) {
        if (!o.ok) refused.add(o.instance.path);
        else {
          const ids = await orthanc.rest.post<string[]>('/tools/find', {
            Level: 'Instance',
            Query: { SOPInstanceUID: o.instance.sopInstanceUid },
          });
          if (ids.length === 0) refused.add(o.instance.path);
        }
      }
    }, 600_000);

    afterAll(async () => {
      await ctx?.close();
      await orthanc?.stop();
      if (dir) removeTempDir(dir);
    });

    const predictedRefused = (r: PreflightReport) =>
      new Set(r.objects.filter((o) => o.verdict === 'refuse').map((o) => o.path));
    const rel = (ps: Iterable<string>) => [...ps].map((p) => relative(source, p)).sort();

    it('--all: every file of the folder is checked, as with --files, not one per SOP Instance UID', () => {
      const checked = new Set(planAll.objects.map((o) => o.path));
      expect(inventoried).toBeLessThan(files.length);
      expect(rel(checked)).toEqual(rel(direct.objects.map((o) => o.path)));
      expect(planAll.checked.objects).toBe(direct.checked.objects);
    });

    it('--all predicts every refusal Orthanc made, exactly as --files does', () => {
      console.log(
        `folder of ${files.length} files (${inventoried} inventoried): Orthanc refused ${refused.size}; ` +
          `plan --all predicted ${predictedRefused(planAll).size}, --files ${predictedRefused(direct).size}, ` +
          `plan one-per-series ${predictedRefused(plan).size} of ${plan.checked.objects} checked`,
      );
      expect(refused.size).toBeGreaterThan(0);
      expect(rel(predictedRefused(planAll))).toEqual(rel(predictedRefused(direct)));
      for (const p of refused) expect(predictedRefused(planAll).has(p), relative(source, p)).toBe(true);
    });

    it('one per series: every file the inventory lists no instance for is still judged as itself', async () => {
      const listed = new Set<string>();
      for (
        let after: string | undefined, page;
        (page = await ctx.store.pageInstances({ after })).length > 0;
      ) {
        for (const i of page) if (typeof i.attrs?.path === 'string') listed.add(join(source, i.attrs.path));
        after = page.at(-1)!.sopInstanceUid;
      }
      const unlisted = direct.objects.map((o) => o.path).filter((p) => !listed.has(p));
      // The other copies of a SOP Instance UID and the files the inventory could not read.
      expect(unlisted.length).toBeGreaterThanOrEqual(6);
      const checked = new Set(plan.objects.map((o) => o.path));
      expect(rel(unlisted.filter((p) => !checked.has(p)))).toEqual([]);
      const missed = [...refused].filter((p) => !listed.has(p) && !predictedRefused(plan).has(p));
      expect(rel(missed)).toEqual([]);
    });
  },
);
