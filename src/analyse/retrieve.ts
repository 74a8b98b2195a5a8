/**
 * Retrieving the sample from a DICOM source into a temporary folder: C-GET on our own association
 * (storage contexts with the SCP role, built from the inventory's SOP classes and transfer syntaxes),
 * or C-MOVE to a listener on plan.local.port (started once for the whole sample). IMAGE level, one
 * request per series with the sampled SOP Instance UIDs; what did not arrive is reported per series,
 * never guessed.
 */
import { mkdir, mkdtemp, rename, rm } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { STORAGE_SOP_CLASSES } from '../dicom/sop-class.js';
import { EXPLICIT_VR_LITTLE_ENDIAN, IMPLICIT_VR_LITTLE_ENDIAN } from '../dicom/transfer-syntax.js';
import type { AllowedPeer, AssociationServer } from '../net/association/server.js';
import { hex } from '../net/dimse/status.js';
import { describeFailure } from '../net/errors.js';
import { describePeer, openChannel, type Peer } from '../net/peer.js';
import { buildIdentifier } from '../net/services/identifier.js';
import { cGetOn, cMove, getProposals, type RetrieveOutcome } from '../net/services/retrieve-scu.js';
import { channelFor, startScp, storageAcceptPolicy } from '../net/services/scp.js';
import { QR, UNCOMPRESSED_LE, type QueryModel } from '../net/services/sop-classes.js';
import { FolderStoreTarget } from '../net/services/store-target.js';
import { ALL_TRANSFER_SYNTAXES } from '../transfer/syntaxes.js';
import type { SampleTarget } from './sample.js';

export interface MoveListenerOptions {
  readonly aeTitle: string;
  readonly port: number;
  readonly host?: string;
  readonly allow?: AllowedPeer[];
  /** After the final C-MOVE response, wait this long without arrivals (default 1 s)… */
  readonly quietMs?: number;
  /** …but never longer than this (default 30 s). */
  readonly maxWaitMs?: number;
}

export interface SampleRetrieveOptions {
  readonly peer: Peer;
  readonly model: QueryModel;
  readonly method: 'c-get' | 'c-move';
  /** Required for c-move: our listener, and the Move Destination AE the source knows it by. */
  readonly move?: MoveListenerOptions & { readonly destination?: string };
  readonly tempDir: string;
  readonly timeoutMs: number;
}

/** What came back for one study: files (with the SOP Instance UID their C-STORE named), and why some did not. */
export interface StudySample {
  readonly files: { path: string; sopInstanceUid: string }[];
  /** Per series that did not fully arrive: the cause (status, network failure, no context). */
  readonly problems: { seriesUid: string; missing: number; cause: string }[];
}

type Storage = { sopClassUid: string; transferSyntaxes: string[] }[];
const NATIVE = [EXPLICIT_VR_LITTLE_ENDIAN, IMPLICIT_VR_LITTLE_ENDIAN];
const MAX_STORAGE_CONTEXTS = 127;
const SECONDARY_CAPTURE = '1.2.840.10008.5.1.4.1.1.7';

/**
 * Storage contexts for C-GET. 'fill': per SOP class, one context per transfer syntax (the recorded one
 * and the native ones: a context carries one accepted syntax and a source may not convert), then, while
 * contexts are left, other syntaxes the source may hold the instance in now (the inventory may not know
 * it, or it may have changed). 'compact': one context per class listing them. An instance whose class
 * the source did not report (dcmqrscp at IMAGE level) gets the storage classes of its series'
 * modality, one context each listing every syntax.
 */
export function sampleStorage(targets: readonly SampleTarget[], mode: 'fill' | 'compact'): Storage {
  const { classes, guessed } = classesOf(targets);
  const out: Storage = [];
  if (mode === 'compact') {
    for (const [cls, set] of classes) out.push({ sopClassUid: cls, transferSyntaxes: [...set, ...NATIVE] });
  } else {
    const extra =
      classes.length > 0
        ? Math.max(0, Math.floor((MAX_STORAGE_CONTEXTS - neededContexts(targets)) / classes.length))
        : 0;
    for (const [cls, set] of classes) {
      const own = [...set, ...NATIVE];
      const more = ALL_TRANSFER_SYNTAXES.filter((ts) => !own.includes(ts)).slice(0, extra);
      for (const ts of [...own, ...more]) out.push({ sopClassUid: cls, transferSyntaxes: [ts] });
    }
  }
  for (const cls of guessed) out.push({ sopClassUid: cls, transferSyntaxes: ALL_TRANSFER_SYNTAXES });
  return out.slice(0, MAX_STORAGE_CONTEXTS);
}

/** Reported classes with their recorded non-native syntaxes (sorted), and classes guessed for the rest. */
function classesOf(targets: readonly SampleTarget[]): { classes: [string, string[]][]; guessed: string[] } {
  const byClass = new Map<string, Set<string>>();
  const guessed = new Set<string>();
  for (const t of targets) {
    if (t.sopClassUid) {
      const set = byClass.get(t.sopClassUid) ?? new Set<string>();
      if (t.transferSyntaxUid && !NATIVE.includes(t.transferSyntaxUid)) set.add(t.transferSyntaxUid);
      byClass.set(t.sopClassUid, set);
    } else
      for (const c of STORAGE_SOP_CLASSES)
        if (!c.retired && (c.modality === (t.modality ?? undefined) || c.uid === SECONDARY_CAPTURE))
          guessed.add(c.uid);
  }
  const classes = [...byClass]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([c, set]): [string, string[]] => [c, [...set].sort()]);
  return { classes, guessed: [...guessed].filter((c) => !byClass.has(c)).sort() };
}

/** Contexts the 'fill' mode needs before filling: one per class and recorded or native syntax, plus guessed classes. */
export function neededContexts(targets: readonly SampleTarget[]): number {
  const { classes, guessed } = classesOf(targets);
  return classes.reduce((n, [, set]) => n + set.length + NATIVE.length, 0) + guessed.length;
}

const bySeriesOf = (targets: readonly SampleTarget[]): Map<string, SampleTarget[]> => {
  const m = new Map<string, SampleTarget[]>();
  for (const t of targets) m.set(t.seriesUid, [...(m.get(t.seriesUid) ?? []), t]);
  return m;
};

const describeOutcome = (service: string, r: RetrieveOutcome): string =>
  `${service} 0x${hex(r.status)} ${r.entry.meaning}${r.errorComment ? `: ${r.errorComment}` : ''}`;

/** A sample session: C-GET per study on its own association, or C-MOVE into one listener. */
export class SampleRetriever {
  private listener: AssociationServer | undefined;
  private moveTarget: FolderStoreTarget | undefined;
  private moveDir = '';
  private arrivals = 0;
  private lastArrival = 0;
  /** Files the listener received (path → SOP Instance UID of its C-STORE), not yet handed out. */
  private received = new Map<string, string>();

  constructor(private readonly o: SampleRetrieveOptions) {}

  async start(): Promise<void> {
    await mkdir(this.o.tempDir, { recursive: true });
    if (this.o.method !== 'c-move') return;
    const m = this.o.move;
    if (!m) throw new Error('SampleRetriever: c-move needs a listener (plan.local)');
    this.moveDir = await mkdtemp(join(this.o.tempDir, 'move-'));
    this.moveTarget = new FolderStoreTarget(this.moveDir, 'keep-both');
    this.listener = await startScp({
      aeTitle: m.aeTitle,
      port: m.port,
      host: m.host ?? '0.0.0.0',
      allow: m.allow,
      policy: storageAcceptPolicy(),
      handlers: {
        store: this.moveTarget,
        onStored: (r) => {
          this.arrivals++;
          this.lastArrival = Date.now();
          if (r.ok) this.received.set(r.instance.path, r.instance.sopInstanceUid);
        },
      },
    });
  }

  async close(): Promise<void> {
    await this.listener?.close();
    this.listener = undefined;
    if (this.moveDir) await rm(this.moveDir, { recursive: true, force: true });
  }

  /** Retrieves one study's sample into `dir` (created); the caller reads the files, then removes `dir`. */
  async study(studyUid: string, targets: readonly SampleTarget[], dir: string): Promise<StudySample> {
    await mkdir(dir, { recursive: true });
    return this.o.method === 'c-move'
      ? this.viaMove(studyUid, targets, dir)
      : this.viaGet(studyUid, targets, dir);
  }

  private above(studyUid: string): Record<string, string> {
    return { StudyInstanceUID: studyUid };
  }

  private async viaGet(
    studyUid: string,
    targets: readonly SampleTarget[],
    dir: string,
  ): Promise<StudySample> {
    const problems: StudySample['problems'] = [];
    const files: StudySample['files'] = [];
    const target = new FolderStoreTarget(dir, 'keep-both');
    // One association for the study when its contexts fit, else one per series.
    let groups: SampleTarget[][] = [[...targets]];
    if (sampleStorage(targets, 'compact').length >= MAX_STORAGE_CONTEXTS)
      groups = [...bySeriesOf(targets).values()];
    for (const group of groups) {
      const mode = neededContexts(group) <= MAX_STORAGE_CONTEXTS ? 'fill' : 'compact';
      const opened = await openChannel(this.o.peer, getProposals(this.o.model, sampleStorage(group, mode)));
      if (!opened.ok) {
        for (const [seriesUid, list] of bySeriesOf(group))
          problems.push({
            seriesUid,
            missing: list.length,
            cause: `C-GET association to ${describePeer(this.o.peer)}: ${describeFailure(opened.error)}`,
          });
        continue;
      }
      const ch = channelFor(opened.value.assoc, {
        store: target,
        onStored: (r) => {
          if (r.ok) files.push({ path: r.instance.path, sopInstanceUid: r.instance.sopInstanceUid });
        },
      });
      try {
        for (const [seriesUid, list] of bySeriesOf(group)) {
          const before = files.length;
          const identifier = buildIdentifier('IMAGE', {
            ...this.above(studyUid),
            SeriesInstanceUID: seriesUid,
            SOPInstanceUID: list.map((t) => t.sopInstanceUid).join('\\'),
          });
          const r = await cGetOn(ch, identifier, { model: this.o.model, timeoutMs: this.o.timeoutMs });
          const got = files.length - before;
          if (got >= list.length) continue;
          const cause = !r.ok ? describeFailure(r.error) : describeOutcome('C-GET', r.value);
          problems.push({ seriesUid, missing: list.length - got, cause });
          if (!r.ok && ch.ended) break;
        }
      } finally {
        if (!ch.ended) await ch.assoc.release();
      }
    }
    return { files, problems };
  }

  private async settle(): Promise<void> {
    const until = Date.now() + (this.o.move?.maxWaitMs ?? 30_000);
    const quiet = this.o.move?.quietMs ?? 1000;
    let seen = -1;
    while (Date.now() < until && (this.arrivals !== seen || Date.now() - this.lastArrival < quiet)) {
      seen = this.arrivals;
      await new Promise((r) => setTimeout(r, Math.min(100, quiet)));
    }
  }

  private async viaMove(
    studyUid: string,
    targets: readonly SampleTarget[],
    dir: string,
  ): Promise<StudySample> {
    const problems: StudySample['problems'] = [];
    const m = this.o.move!;
    const opened = await openChannel(this.o.peer, [
      { abstractSyntax: QR[this.o.model].move, transferSyntaxes: UNCOMPRESSED_LE },
    ]);
    if (!opened.ok) {
      for (const [seriesUid, list] of bySeriesOf(targets))
        problems.push({
          seriesUid,
          missing: list.length,
          cause: `C-MOVE association to ${describePeer(this.o.peer)}: ${describeFailure(opened.error)}`,
        });
      return { files: [], problems };
    }
    const ch = opened.value;
    const outcomes = new Map<string, string>();
    const start = this.arrivals;
    let announced = 0;
    try {
      for (const [seriesUid, list] of bySeriesOf(targets)) {
        const identifier = buildIdentifier('IMAGE', {
          ...this.above(studyUid),
          SeriesInstanceUID: seriesUid,
          SOPInstanceUID: list.map((t) => t.sopInstanceUid).join('\\'),
        });
        const r = await cMove(ch, identifier, m.destination ?? m.aeTitle, {
          model: this.o.model,
          timeoutMs: this.o.timeoutMs,
        });
        outcomes.set(seriesUid, !r.ok ? describeFailure(r.error) : describeOutcome('C-MOVE', r.value));
        if (r.ok) announced += (r.value.counts.completed ?? 0) + (r.value.counts.warning ?? 0);
        if (!r.ok && ch.ended) break;
      }
    } finally {
      if (!ch.ended) await ch.assoc.release();
    }
    // A C-MOVE success is no proof of arrival: unless all the source says it sent is here, wait for stragglers.
    if (this.arrivals - start < Math.max(announced, targets.length)) await this.settle();
    // Everything the listener received now belongs to this study's requests: move it to `dir`.
    const files: StudySample['files'] = [];
    const received = this.received;
    this.received = new Map();
    for (const [from, sopInstanceUid] of received) {
      const path = join(dir, basename(from));
      await rename(from, path);
      files.push({ path, sopInstanceUid });
    }
    const arrived = new Set(files.map((f) => f.sopInstanceUid));
    for (const [seriesUid, list] of bySeriesOf(targets)) {
      const missing = list.filter((t) => !arrived.has(t.sopInstanceUid)).length;
      if (missing > 0)
        problems.push({
          seriesUid,
          missing,
          cause: outcomes.get(seriesUid) ?? 'not requested (association ended)',
        });
    }
    return { files, problems };
  }
}
