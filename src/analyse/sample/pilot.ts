/**
 * The pilot: the sample's studies migrated before the bulk by the run `migrate` runs (one assembly,
 * src/run/assemble.ts: corrections and rules, pass-through record, engine, verification).
 *
 * How the pilot is scoped (and why it cannot exclude the rest for good): no scope decision is
 * written. The pilot's studies get a job each (store.enqueueJobs); no other study has one yet, so
 * the engine, which only works on jobs, migrates the pilot and nothing else. The bulk `pacshift
 * migrate` later finds studies without a scope decision, applies the plan's scope to every study
 * (the pilot's included) and creates the missing jobs; the pilot's jobs are left as they are
 * (verified studies are not moved twice). A pilot is refused when jobs of other studies exist
 * already (the scope ran before): the engine would migrate them too.
 *
 * The sample is also written as a list of StudyInstanceUIDs (one per line, `#` comments) and
 * recorded as a `sample.pilot` audit event, which the coverage report reads.
 */
import { writeFile } from 'node:fs/promises';
import type { MigrationContext } from '../../run/context.js';
import type { Json } from '../../state/index.js';
import { assembleMigrationRun } from '../../run/assemble.js';
import type { VerifyRunSummary } from '../../verify/index.js';
import type { SampleResult } from './choose.js';

export const SAMPLE_PILOT_EVENT = 'sample.pilot';
/** Pilot jobs go first should anything else be queued later. */
export const PILOT_PRIORITY = 1000;

export class PilotRefused extends Error {}

/** The pilot list file: UIDs only, with what it covers in comments. */
export async function writePilotFile(path: string, s: SampleResult): Promise<void> {
  const lines = [
    '# pacshift pilot: the smallest set of studies covering every combination of',
    '# SOP class × modality × manufacturer × model × software versions × year × transfer syntax × character set',
    `# ${s.pilot.length} of ${s.studies.inScope} in-scope studies cover ${s.combinations.length} combinations (${s.instances.pilot} instances)`,
    ...s.pilot.map((p) => p.studyUid),
  ];
  await writeFile(path, `${lines.join('\n')}\n`);
}

/** Reads a pilot file (or any list of StudyInstanceUIDs, one per line). */
export function parsePilotList(text: string): string[] {
  return text
    .split(/\r?\n/)
    .map((l) => l.replace(/#.*$/, '').trim())
    .filter((l) => l !== '');
}

export async function recordPilot(ctx: MigrationContext, s: SampleResult): Promise<void> {
  await ctx.store.appendEvents([
    {
      kind: SAMPLE_PILOT_EVENT,
      detail: {
        studies: s.pilot.map((p) => p.studyUid),
        combinations: s.combinations.length,
        inScopeStudies: s.studies.inScope,
      } as Json,
    },
  ]);
}

/** The StudyInstanceUIDs of the last recorded pilot (undefined when none). */
export async function lastPilot(ctx: MigrationContext): Promise<string[] | undefined> {
  let last: Json | undefined;
  let afterId: number | undefined;
  for (;;) {
    const page = await ctx.store.listEvents({
      kind: SAMPLE_PILOT_EVENT,
      limit: 1000,
      ...(afterId !== undefined ? { afterId } : {}),
    });
    if (page.length === 0) break;
    last = page[page.length - 1]!.detail;
    afterId = page[page.length - 1]!.id;
  }
  const studies = (last as { studies?: Json } | undefined)?.studies;
  return Array.isArray(studies) ? studies.map(String) : undefined;
}

export interface PilotRun {
  readonly enqueued: number;
  readonly existing: number;
  readonly unknown: readonly string[];
  readonly instancesStored: number;
  readonly bytesStored: number;
  readonly stopped?: string;
  readonly verify?: VerifyRunSummary;
}

/** Creates the pilot's jobs and migrates them (retrieve, correct, store, verify) as `migrate` does. */
export async function runPilot(
  ctx: MigrationContext,
  studyUids: readonly string[],
  opts: { verify?: boolean; signal?: AbortSignal; log?: (m: string) => void } = {},
): Promise<PilotRun> {
  const { store } = ctx;
  const log = opts.log ?? (() => undefined);
  if (!ctx.source || !ctx.target) throw new PilotRefused('the pilot needs a DIMSE source and a DIMSE target');
  const pilot = new Set(studyUids);
  const others = (await store.listJobs({ limit: 100_000 })).filter((j) => !pilot.has(j.studyUid));
  if (others.length > 0) {
    throw new PilotRefused(
      `${others.length} job(s) of studies outside the pilot exist (the scope was applied): the engine would migrate them too. Run the pilot before \`pacshift scope\`/\`migrate\`, or use \`pacshift prioritize\``,
    );
  }
  // The run `migrate` assembles (corrections and rules included): the pilot's studies reach the target
  // as the bulk's will, and are verified against what was sent. Assembled first: a transform that does
  // not load leaves no job behind.
  const mig = await assembleMigrationRun(ctx, { log });
  let q: Awaited<ReturnType<typeof store.enqueueJobs>>;
  let result: Awaited<ReturnType<typeof mig.transfer>>;
  let verify: VerifyRunSummary | undefined;
  try {
    q = await store.enqueueJobs(
      studyUids.map((studyUid) => ({ studyUid })),
      { priority: PILOT_PRIORITY },
    );
    result = await mig.transfer({ untilIdle: true, signal: opts.signal });
    // Verification may listen on local.port itself (C-MOVE back from the target).
    await mig.closeReceiver();
    verify = opts.verify === false || result.stopped ? undefined : await mig.verify({});
  } finally {
    await mig.close();
  }
  return {
    enqueued: q.created.length,
    existing: q.existing.length,
    unknown: q.unknown,
    instancesStored: result.instancesStored,
    bytesStored: result.bytesStored,
    ...(result.stopped ? { stopped: result.stopped } : {}),
    ...(verify ? { verify } : {}),
  };
}
