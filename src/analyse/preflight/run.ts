/**
 * `runPreflight`: the pragmatic pitfall, sized before the bulk move.
 *
 * 1. Objects to check: files given directly (`files`), or from the inventory, one instance per series
 *    (or all): read in place from a folder source, retrieved into a temporary folder from a DIMSE one.
 *    A folder source adds every file no inventoried instance stands for (other copies of a SOP
 *    Instance UID, files the inventory could not read), each judged as itself.
 * 2. The target is probed with every (SOP class, transfer syntax) the inventory and the objects hold.
 * 3. Each object is checked (check-object.ts), then copies sharing a SOP Instance UID are compared.
 * 4. Results are sized per cause (report.ts) and, with a state database, recorded as audit events
 *    (`preflight.object` per object: causes, verdict, header facts; `preflight.run`: the totals), which
 *    is where `pacshift sample` finds character sets of a DIMSE source.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import { describeFailure } from '../../net/errors.js';
import type { Peer } from '../../net/peer.js';
import type { MigrationContext } from '../../run/context.js';
import type { EventInput, Instance, Json, Store } from '../../state/index.js';
import { listFiles } from '../../util/files.js';
import { worstVerdict, type Profile } from './causes.js';
import { checkObject, withProbe, type ObjectCheck } from './check-object.js';
import { markDuplicates } from './duplicates.js';
import { fetchFromSource, type FetchReport } from './fetch.js';
import { probeTarget, type Capabilities, type Combination } from './probe.js';
import { buildReport, type CheckedObject, type PreflightReport, type Representation } from './report.js';
import { eachStudy, pickInstances } from './source-view.js';

export const PREFLIGHT_OBJECT_EVENT = 'preflight.object';
export const PREFLIGHT_RUN_EVENT = 'preflight.run';

export interface PreflightOptions {
  /** Default strict. */
  readonly profile?: Profile;
  /** Check these files or folders instead of the inventory. */
  readonly files?: readonly string[];
  /** Every inventoried instance instead of one per series. */
  readonly all?: boolean;
  /** Probe this target (default: the plan's DIMSE target); null: do not probe. */
  readonly target?: Peer | null;
  /** Objects read at once (default 2). */
  readonly concurrency?: number;
  /** Where a DIMSE source's objects are fetched to (default: a temporary folder, removed afterwards). */
  readonly fetchDir?: string;
  /** Record events in the state database (default true when there is one). */
  readonly record?: boolean;
  readonly onProgress?: (done: number, total: number) => void;
  readonly signal?: AbortSignal;
}

interface Item {
  readonly path: string;
  /** Reported instead of the path (objects fetched into a temporary folder). */
  readonly label?: string;
  readonly represents: Representation;
  readonly inventory?: Instance;
}

/** How a retrieved object is named in the report: its temporary file is gone by then. */
export const retrievedLabel = (sopInstanceUid: string): string => `retrieved:${sopInstanceUid}`;

/** Runs the pre-flight. `ctx` may be undefined when `files` and `target` are given. */
export async function runPreflight(
  ctx: MigrationContext | undefined,
  opts: PreflightOptions = {},
): Promise<PreflightReport> {
  const started = Date.now();
  const profile = opts.profile ?? 'strict';
  if (!ctx && !opts.files) throw new Error('runPreflight: without a migration context, give files');
  const store = ctx?.store;
  const items: Item[] = [];
  const combos: Combination[] = [];
  let fetch: FetchReport | undefined;
  let requested = 0;
  let tempDir: string | undefined;
  const undelivered: { pick: Instance; represents: Representation; why: string }[] = [];
  try {
    if (opts.files) {
      for (const path of await listFiles([...opts.files])) {
        items.push({
          path,
          represents: { studyUid: undefined, instances: 1, bytes: 0, bytesEstimated: false },
        });
      }
    }
    if (ctx) {
      const picks: { pick: Instance; represents: Representation }[] = [];
      /** A folder source: the files the inventory listed as instances. */
      const listed = new Set<string>();
      for await (const v of eachStudy(ctx.store)) {
        for (const i of v.instances) {
          if (i.sopClassUid && i.transferSyntaxUid)
            combos.push({ sopClassUid: i.sopClassUid, transferSyntaxUid: i.transferSyntaxUid });
          if (typeof i.attrs?.path === 'string') listed.add(i.attrs.path);
        }
        if (opts.files) continue;
        for (const pick of pickInstances(v.instances, opts.all ?? false)) {
          const stood = opts.all ? [pick] : v.instances.filter((i) => i.seriesUid === pick.seriesUid);
          const known = stood.every((i) => i.sizeBytes !== null);
          picks.push({
            pick,
            represents: {
              studyUid: v.study.studyUid,
              instances: stood.length,
              bytes: known ? stood.reduce((s, i) => s + (i.sizeBytes ?? 0), 0) : 0,
              bytesEstimated: !known,
            },
          });
        }
      }
      if (!opts.files) {
        requested = picks.length;
        if (ctx.plan.source.type === 'folder') {
          const root = ctx.plan.source.path;
          for (const p of picks) {
            const rel = p.pick.attrs?.path;
            if (typeof rel !== 'string') continue;
            items.push({
              path: isAbsolute(rel) ? rel : resolve(root, rel),
              represents: p.represents,
              inventory: p.pick,
            });
          }
          items.push(...(await unlistedFiles(root, listed)));
        } else {
          const dir = opts.fetchDir ?? (tempDir = await mkdtemp(join(tmpdir(), 'pacshift-preflight-')));
          fetch = await fetchFromSource(
            ctx,
            picks.map((p) => p.pick),
            dir,
          );
          for (const p of picks) {
            const got = fetch.arrived.get(p.pick.sopInstanceUid);
            if (got)
              items.push({
                path: got.path,
                label: retrievedLabel(p.pick.sopInstanceUid),
                represents: p.represents,
                inventory: p.pick,
              });
            else
              undelivered.push({
                pick: p.pick,
                represents: p.represents,
                why: fetch.problems.find((x) => x.includes(p.pick.seriesUid)) ?? 'not delivered',
              });
          }
        }
      }
    }

    // Check every object (reading its combination for the probe too).
    const checks: ObjectCheck[] = new Array(items.length);
    let next = 0;
    let done = 0;
    const target = opts.target === undefined ? ctx?.target : (opts.target ?? undefined);
    // Objects are checked first (which reads their combinations), then the target is probed with
    // those and the inventory's, and its verdicts are added.
    const worker = async () => {
      while (next < items.length && !opts.signal?.aborted) {
        const k = next++;
        checks[k] = await checkObject(items[k]!.path, { profile });
        opts.onProgress?.(++done, items.length);
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, opts.concurrency ?? 2) }, worker));
    // Files that are not DICOM at all (a README beside the images) are not objects of the source.
    const isNotDicom = (c: ObjectCheck) =>
      !c.facts && c.findings.some((f) => f.cause === 'unreadable' && f.examples.includes('not-dicom'));
    const all = items
      .map((item, k) => ({ item, check: checks[k] }))
      .filter((p): p is { item: Item; check: ObjectCheck } => p.check !== undefined);
    const pairs = all.filter((p) => !isNotDicom(p.check));
    const notDicom = all.length - pairs.length;
    const checked = pairs.map((p) => p.check);
    for (const c of checked)
      if (c.sopClassUid && c.transferSyntaxUid)
        combos.push({ sopClassUid: c.sopClassUid, transferSyntaxUid: c.transferSyntaxUid });

    let caps: Capabilities | undefined;
    if (target) caps = await probeTarget(target, combos);
    const probed = caps ? checked.map((c) => withProbe(c, caps!, profile)) : checked;
    const final = await markDuplicates(probed, profile);
    // Objects the source did not deliver: leftovers of a retrieve, whatever the target.
    for (const u of undelivered) {
      final.push(notRetrievable(u.pick, u.why, profile));
      pairs.push({
        item: { path: retrievedLabel(u.pick.sopInstanceUid), represents: u.represents, inventory: u.pick },
        check: final[final.length - 1]!,
      });
    }

    const objects: CheckedObject[] = final.map((check, k) => {
      const { represents: r, label } = pairs[k]!.item;
      return {
        check: label ? { ...check, path: label } : check,
        represents: opts.files
          ? { studyUid: check.studyUid, instances: 1, bytes: check.sizeBytes, bytesEstimated: false }
          : r.bytesEstimated
            ? { ...r, bytes: check.sizeBytes * r.instances }
            : r,
      };
    });
    const report = buildReport(objects, {
      profile,
      sampling: opts.files ? 'files' : opts.all ? 'all' : 'one-per-series',
      probed: caps?.contexts,
      associations: caps?.associations ?? 0,
      probeFailures: caps ? caps.failures.map(describeFailure) : [],
      notDicom,
      ...(fetch ? { fetch: { requested, missing: fetch.missing.length, problems: fetch.problems } } : {}),
      durationMs: Date.now() - started,
    });
    if (store && (opts.record ?? true)) await record(store, objects, report);
    return report;
  } finally {
    if (tempDir) await rm(tempDir, { recursive: true, force: true });
  }
}

/**
 * The files of a folder source that no inventoried instance stands for — other copies of a SOP Instance
 * UID (the inventory lists the first), files it could not read — each judged as itself: every file the
 * source holds is judged, as `--files` would.
 */
async function unlistedFiles(root: string, listed: ReadonlySet<string>): Promise<Item[]> {
  const listedAbs = new Set([...listed].map((rel) => (isAbsolute(rel) ? rel : resolve(root, rel))));
  // A path the walk cannot open (dangling symlink…) is an exception of the inventory's, not an object.
  const files = await listFiles([root], () => undefined);
  return files
    .filter((path) => !listedAbs.has(resolve(path)))
    .map((path) => ({
      path,
      represents: { studyUid: undefined, instances: 1, bytes: 0, bytesEstimated: true },
    }));
}

function notRetrievable(i: Instance, why: string, profile: Profile): ObjectCheck {
  const findings = [{ cause: 'not-retrievable' as const, count: 1, examples: [why] }];
  return {
    path: retrievedLabel(i.sopInstanceUid),
    sizeBytes: 0,
    sopInstanceUid: i.sopInstanceUid,
    sopClassUid: i.sopClassUid ?? undefined,
    studyUid: i.studyUid,
    seriesUid: i.seriesUid,
    transferSyntaxUid: i.transferSyntaxUid ?? undefined,
    facts: undefined,
    findings,
    verdict: worstVerdict(['not-retrievable'], profile),
  };
}

async function record(
  store: Store,
  objects: readonly CheckedObject[],
  report: PreflightReport,
): Promise<void> {
  const events: EventInput[] = objects.map(({ check: c, represents }) => ({
    kind: PREFLIGHT_OBJECT_EVENT,
    studyUid: c.studyUid ?? represents.studyUid ?? null,
    sopInstanceUid: c.sopInstanceUid ?? null,
    detail: {
      seriesUid: c.seriesUid ?? null,
      sopClassUid: c.sopClassUid ?? null,
      transferSyntaxUid: c.transferSyntaxUid ?? null,
      verdict: c.verdict,
      causes: c.findings.map((f) => f.cause),
      facts: (c.facts ?? null) as Json,
      represents: represents.instances,
    },
  }));
  events.push({
    kind: PREFLIGHT_RUN_EVENT,
    detail: {
      profile: report.profile,
      sampling: report.sampling,
      checked: report.checked.objects,
      predicted: { refuse: report.predicted.refuse.objects, alter: report.predicted.alter.objects },
      causes: Object.fromEntries(report.causes.map((c) => [c.cause, c.objects])),
      // What the target accepted, for later runs and the report: every combination negotiated.
      target: report.target.probed
        ? {
            combinations: report.target.combinations,
            refused: report.target.refused.map((x) => ({
              sopClassUid: x.sopClassUid,
              transferSyntaxUid: x.transferSyntaxUid,
              result: x.result ?? null,
            })),
          }
        : null,
    } as Json,
  });
  for (let i = 0; i < events.length; i += 500) await store.appendEvents(events.slice(i, i + 500));
}
