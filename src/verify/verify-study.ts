/**
 * Verification of one migrated study against the target: every instance confirmed stored must be
 * there, once, with the recorded attributes; nothing else may be there; on a sampled study the
 * instances come back from the target and their headers and pixel values are compared with what was
 * sent. Reads the state database, writes nothing (runVerify records the verdict).
 */
import { join } from 'node:path';
import type { MigrationContext } from '../run/context.js';
import { VERIFY_OUTCOMES, type Instance, type VerifyOutcome } from '../state/types.js';
import { err, ok, type Result } from '../util/result.js';
import { judgeInstance } from './compare.js';
import { recordPassThrough, type PassThroughRecord } from './pass-through.js';
import type { Header, VerifyTarget } from './target.js';
import { dimseTarget } from './target-dimse.js';
import { folderTarget } from './target-folder.js';
import { dicomwebVerifyTarget } from './target-dicomweb.js';
import { dicomwebEndpoint } from '../transfer/targets/index.js';
import { sourceDisagreements, sourcePatientIds } from './against-source.js';
import type {
  AttributeDifference,
  InstanceVerification,
  StudyVerification,
  VerifyFailure,
  VerifyLevel,
} from './types.js';
import { isMetaKey } from './values.js';

/** Compared for every study, whatever the level: the instance is where it belongs. */
export const IDENTIFIER_KEYWORDS = [
  'PatientID',
  'StudyInstanceUID',
  'SeriesInstanceUID',
  'SOPClassUID',
  'SOPInstanceUID',
] as const;

export interface VerifyStudyOptions {
  /** Retrieve the study back and compare in depth (at `level`). Default false. */
  readonly sampled?: boolean;
  /** Default plan.verify.level. */
  readonly level?: VerifyLevel;
  /** Default plan.verify.attributes. */
  readonly attributes?: readonly string[];
  /** Several copies of one SOP Instance UID are a conflict. Default plan.verify.duplicates. */
  readonly duplicates?: boolean;
  /** Default: the plan's target (opened and closed for this call). */
  readonly target?: VerifyTarget;
}

/**
 * The plan's target as verification sees it. Retrieved copies go under the spool folder; C-MOVE
 * (when the target offers no C-GET) opens a listener on local.port for the duration of a retrieve, so
 * it must not run while another pacshift process listens there.
 */
export function openVerifyTarget(ctx: MigrationContext): VerifyTarget {
  const t = ctx.plan.target;
  if (t.type === 'folder') return folderTarget(t.path);
  if (t.type === 'dicomweb')
    return dicomwebVerifyTarget({ ...dicomwebEndpoint(t), tempDir: join(ctx.plan.spool.dir, 'verify') });
  if (!ctx.target)
    throw new Error('openVerifyTarget: the plan has a DICOM target but the context has no peer');
  const local = ctx.plan.local;
  return dimseTarget({
    peer: ctx.target,
    model: t.queryModel === 'patient-root' ? 'patient' : 'study',
    tempDir: join(ctx.plan.spool.dir, 'verify'),
    // C-GET; C-MOVE to our listener when the target offers no C-GET (it must know local.aeTitle).
    move: {
      aeTitle: local.aeTitle,
      port: local.port,
      host: local.host,
      allow: local.allow.map((a) => ({ aeTitle: a.aeTitle, ...(a.host ? { hosts: [a.host] } : {}) })),
    },
  });
}

const zeroCounts = (): Record<VerifyOutcome, number> =>
  Object.fromEntries(VERIFY_OUTCOMES.map((o) => [o, 0])) as Record<VerifyOutcome, number>;

/** The keywords a retrieved copy is read for: whatever the transfer recorded. */
function recordedKeywords(expected: readonly Instance[]): string[] {
  const ks = new Set<string>();
  for (const i of expected) for (const k of Object.keys(i.header ?? {})) if (!isMetaKey(k)) ks.add(k);
  return [...ks].sort();
}

/** An instance whose copy is not what the source holds is an attribute mismatch, whatever the target says. */
function againstSource(
  v: InstanceVerification,
  differences: readonly AttributeDifference[] | undefined,
): InstanceVerification {
  if (!differences || differences.length === 0) return v;
  const outcome = v.outcome === 'verified' ? 'attribute-mismatch' : v.outcome;
  return { ...v, outcome, differences: [...v.differences, ...differences] };
}

export async function verifyStudy(
  ctx: MigrationContext,
  studyUid: string,
  opts: VerifyStudyOptions = {},
): Promise<Result<StudyVerification, VerifyFailure>> {
  const started = Date.now();
  const v = ctx.plan.verify;
  const level = opts.level ?? v.level;
  const duplicates = opts.duplicates ?? v.duplicates;
  const sampled = (opts.sampled ?? false) && level !== 'presence';
  const keywords = [
    ...new Set<string>([
      ...IDENTIFIER_KEYWORDS,
      ...(level === 'presence' ? [] : (opts.attributes ?? v.attributes)),
    ]),
  ];
  const target = opts.target ?? openVerifyTarget(ctx);
  try {
    const all = await ctx.store.listInstances(studyUid, 'all');
    const expected = all.filter((i) => i.storedAt !== null);
    const notes: string[] = [];
    const listing = await target.list(studyUid, expected, keywords);
    if (!listing.ok) return listing;
    notes.push(...listing.value.notes);

    let retrieved: Map<string, PassThroughRecord[]> | undefined;
    // Only what the listing found: the missing are known missing, and some peers refuse a whole list for one unknown UID.
    const present = expected.filter((i) => listing.value.instances.has(i.sopInstanceUid));
    if (sampled && present.length > 0) {
      const r = await target.retrieve(studyUid, present);
      if (!r.ok) return r;
      notes.push(...r.value.notes);
      try {
        retrieved = new Map();
        const extra = recordedKeywords(expected);
        for (const path of r.value.paths) {
          const rec = await recordPassThrough(path, extra);
          if (!rec.ok) {
            notes.push(`a retrieved copy could not be read: ${rec.error.code}`);
            continue;
          }
          const list = retrieved.get(rec.value.sopInstanceUid) ?? [];
          list.push(rec.value);
          retrieved.set(rec.value.sopInstanceUid, list);
        }
      } finally {
        await r.value.release();
      }
    }

    const judge = {
      keywords,
      listingMode: listing.value.mode,
      duplicates,
      pixels: level === 'pixels',
      siblings: expected,
    };
    // What arrived must also be what the source holds (a copy sent by someone else would verify against itself).
    const src = ctx.plan.source;
    const askSource =
      ctx.source && src.type === 'dimse'
        ? (i: Instance) =>
            sourcePatientIds(ctx.source!, src.queryModel === 'patient-root' ? 'patient' : 'study', i)
        : undefined;
    // Only C-MOVE copies come on associations others can open (a folder is read, C-GET copies come on ours).
    const viaListener = src.type === 'dimse' && src.retrieve === 'c-move';
    const notTheSources = viaListener
      ? await sourceDisagreements(ctx.store, studyUid, expected, askSource)
      : new Map<string, AttributeDifference[]>();
    const instances: InstanceVerification[] = expected.map((i) =>
      againstSource(
        judgeInstance(
          i,
          listing.value.instances.get(i.sopInstanceUid) ?? ([] as Header[]),
          retrieved ? (retrieved.get(i.sopInstanceUid) ?? []) : undefined,
          judge,
        ),
        notTheSources.get(i.sopInstanceUid),
      ),
    );
    const expectedUids = new Set(expected.map((i) => i.sopInstanceUid));
    const unexpected = [...listing.value.instances.keys()].filter((u) => !expectedUids.has(u)).sort();
    const counts = zeroCounts();
    for (const i of instances) counts[i.outcome]++;
    const notPixelCompared = instances.filter((i) => i.pixel && !i.pixel.compared).length;
    if (notPixelCompared > 0)
      notes.push(
        `${notPixelCompared} pixel digests not compared: the target returned another compressed transfer syntax`,
      );
    const unrecorded = instances.filter((i) => i.unrecorded).length;
    if (unrecorded > 0)
      notes.push(`${unrecorded} instances have no record of what was sent: presence and UIDs checked only`);
    return ok({
      studyUid,
      sampled,
      level,
      instances,
      unexpected,
      listingComplete: listing.value.complete,
      counts,
      clean: counts.verified === instances.length && unexpected.length === 0,
      notes,
      durationMs: Date.now() - started,
    });
  } catch (e) {
    // File system trouble around retrieved copies is ours to report, not a reason to crash the run.
    const code = (e as NodeJS.ErrnoException).code;
    if (typeof code === 'string' && /^E[A-Z]+$/.test(code)) {
      return err({
        code: 'LOCAL_IO',
        message: `study ${studyUid}: ${code} handling retrieved copies`,
        retryable: true,
      });
    }
    throw e;
  } finally {
    if (!opts.target) await target.close();
  }
}
