/**
 * Copies of instances retrieved back from a DICOM target, into a temporary folder (keep-both:
 * duplicates stay visible): C-GET on our own association, or C-MOVE to a listener pacshift opens for
 * the call (the target must know our AE title, host and port). `auto` uses C-GET and falls back to
 * C-MOVE, for good, when the target does not offer C-GET.
 *
 * Exactly the given instances are asked for: IMAGE level, per series, a list of SOP Instance UIDs at
 * a time. A list the peer refuses as a whole (Orthanc: C000 when one UID is unknown) is asked again
 * one instance at a time; an instance still refused is noted and not retrieved.
 */
import { mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { SmallDataset } from '../dicom/small-dataset.js';
import { EXPLICIT_VR_LITTLE_ENDIAN, IMPLICIT_VR_LITTLE_ENDIAN } from '../dicom/transfer-syntax.js';
import type { AllowedPeer } from '../net/association/server.js';
import type { NetFailure } from '../net/errors.js';
import { describePeer, openChannel, type Peer } from '../net/peer.js';
import { buildIdentifier } from '../net/services/identifier.js';
import { cGetOn, cMove, getProposals, type RetrieveOutcome } from '../net/services/retrieve-scu.js';
import { channelFor, startScp, storageAcceptPolicy } from '../net/services/scp.js';
import { QR, UNCOMPRESSED_LE, type QueryModel } from '../net/services/sop-classes.js';
import { FolderStoreTarget } from '../net/services/store-target.js';
import type { Instance } from '../state/types.js';
import { processExists } from '../util/process.js';
import { err, ok, type Result } from '../util/result.js';
import { fromNetFailure, fromStatus } from './failure.js';
import type { RetrievedFiles } from './target.js';
import type { VerifyFailure } from './types.js';

export type RetrieveMethod = 'c-get' | 'c-move' | 'auto';

/** Our listener for C-MOVE: the target sends the copies to `aeTitle` at host:port. */
export interface MoveListener {
  readonly aeTitle: string;
  readonly port: number;
  /** Bind address (default 0.0.0.0). */
  readonly host?: string;
  /** Calling AE titles accepted (default: anyone). */
  readonly allow?: AllowedPeer[];
  /** After the last C-MOVE response, wait this long without arrivals for stragglers (default 1.5 s). */
  readonly quietMs?: number;
  /** … but never longer than this (default 30 s). */
  readonly maxWaitMs?: number;
}

export interface RetrieveCopiesOptions {
  readonly peer: Peer;
  readonly model: QueryModel;
  readonly tempDir: string;
  readonly timeoutMs: number;
  readonly listSize: number;
  readonly move?: MoveListener;
}

type RetrieveAnswer = { ok: true; value: RetrieveOutcome } | { ok: false; error: NetFailure };

interface Session {
  ask(identifier: SmallDataset): Promise<RetrieveAnswer>;
  /** Wait for copies still on their way (C-MOVE). */
  settle(): Promise<void>;
  close(): Promise<void>;
}

/** Contexts beside the C-GET one (PS3.8: at most 128 per association). */
const MAX_STORAGE_CONTEXTS = 127;
const NATIVE_FALLBACK = [EXPLICIT_VR_LITTLE_ENDIAN, IMPLICIT_VR_LITTLE_ENDIAN];

type Storage = { sopClassUid: string; transferSyntaxes: string[] }[];

/**
 * Storage contexts for the given instances: one per recorded syntax and one per native syntax (a
 * context carries one accepted syntax, and a peer may not convert), or, `compact`, one per class.
 */
export function storageContexts(instances: readonly Instance[], compact: boolean): Storage {
  const byClass = new Map<string, Set<string>>();
  for (const i of instances) {
    const cls =
      i.sopClassUid ?? (typeof i.header?.SOPClassUID === 'string' ? i.header.SOPClassUID : undefined);
    if (!cls) continue;
    const ts =
      i.transferSyntaxUid ??
      (typeof i.header?.TransferSyntaxUID === 'string' ? i.header.TransferSyntaxUID : undefined);
    const set = byClass.get(cls) ?? new Set<string>();
    if (ts && !NATIVE_FALLBACK.includes(ts)) set.add(ts);
    byClass.set(cls, set);
  }
  const out: Storage = [];
  for (const [cls, set] of [...byClass].sort(([a], [b]) => a.localeCompare(b))) {
    const own = [...set].sort();
    if (compact) out.push({ sopClassUid: cls, transferSyntaxes: [...own, ...NATIVE_FALLBACK] });
    else
      for (const ts of [...own, ...NATIVE_FALLBACK]) out.push({ sopClassUid: cls, transferSyntaxes: [ts] });
  }
  return out;
}

export interface RetrieveGroup {
  readonly instances: readonly Instance[];
  readonly storage: Storage;
}

/** One C-GET association for the study when its contexts fit, else one per series. */
export function retrieveGroups(expected: readonly Instance[]): Result<RetrieveGroup[], VerifyFailure> {
  for (const compact of [false, true]) {
    const s = storageContexts(expected, compact);
    if (s.length <= MAX_STORAGE_CONTEXTS) return ok([{ instances: expected, storage: s }]);
  }
  const bySeries = new Map<string, Instance[]>();
  for (const i of expected) bySeries.set(i.seriesUid, [...(bySeries.get(i.seriesUid) ?? []), i]);
  const groups: RetrieveGroup[] = [];
  for (const [seriesUid, list] of bySeries) {
    const s = storageContexts(list, true);
    if (s.length > MAX_STORAGE_CONTEXTS) {
      return err({
        code: 'TOO_MANY_SOP_CLASSES',
        message: `series ${seriesUid} has ${s.length} SOP classes: more than one C-GET association can carry`,
        retryable: false,
      });
    }
    groups.push({ instances: list, storage: s });
  }
  return ok(groups);
}

async function getSession(
  o: RetrieveCopiesOptions,
  storage: Storage,
  target: FolderStoreTarget,
): Promise<Result<Session, NetFailure>> {
  const opened = await openChannel(o.peer, getProposals(o.model, storage));
  if (!opened.ok) return opened;
  const ch = channelFor(opened.value.assoc, { store: target });
  let closed = false;
  return ok({
    ask: (identifier) => cGetOn(ch, identifier, { model: o.model, timeoutMs: o.timeoutMs }),
    settle: async () => undefined,
    close: async () => {
      if (closed) return;
      closed = true;
      if (!ch.ended) await ch.assoc.release();
    },
  });
}

async function moveSession(
  o: RetrieveCopiesOptions,
  move: MoveListener,
  target: FolderStoreTarget,
): Promise<Result<Session, VerifyFailure>> {
  let arrivals = 0;
  let lastArrival = Date.now();
  let server;
  try {
    server = await startScp({
      aeTitle: move.aeTitle,
      port: move.port,
      host: move.host ?? '0.0.0.0',
      allow: move.allow,
      policy: storageAcceptPolicy(),
      handlers: {
        store: target,
        onStored: () => {
          arrivals++;
          lastArrival = Date.now();
        },
      },
    });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? 'unknown error';
    return err({
      code: 'LISTENER',
      message: `cannot listen on port ${move.port} for C-MOVE copies: ${code}`,
      retryable: true,
    });
  }
  const opened = await openChannel(o.peer, [
    { abstractSyntax: QR[o.model].move, transferSyntaxes: UNCOMPRESSED_LE },
  ]);
  if (!opened.ok) {
    await server.close();
    return err(fromNetFailure(opened.error, `C-MOVE association to ${describePeer(o.peer)}`));
  }
  const ch = opened.value;
  let closed = false;
  return ok({
    ask: (identifier) => cMove(ch, identifier, move.aeTitle, { model: o.model, timeoutMs: o.timeoutMs }),
    settle: async () => {
      const until = Date.now() + (move.maxWaitMs ?? 30_000);
      const quiet = move.quietMs ?? 1500;
      let seen = -1;
      while (Date.now() < until && (arrivals !== seen || Date.now() - lastArrival < quiet)) {
        seen = arrivals;
        await new Promise((r) => setTimeout(r, Math.min(250, quiet)));
      }
    },
    close: async () => {
      if (closed) return;
      closed = true;
      if (!ch.ended) await ch.assoc.release();
      await server.close();
    },
  });
}

const swept = new Set<string>();

/**
 * Copies folders are `verify-<pid>-XXXXXX`: those of a process that is gone (killed while verifying)
 * are removed, once per temp folder and process.
 */
async function removeStaleFolders(tempDir: string): Promise<void> {
  if (swept.has(tempDir)) return;
  swept.add(tempDir);
  for (const f of await readdir(tempDir)) {
    const m = /^verify-(\d+)-/.exec(f);
    if (!m || Number(m[1]) === process.pid || processExists(Number(m[1]))) continue;
    await rm(join(tempDir, f), { recursive: true, force: true });
  }
}

/** Retrieves copies of `instances` (all of one study) into a new folder under o.tempDir. */
export async function retrieveCopies(
  studyUid: string,
  instances: readonly Instance[],
  o: RetrieveCopiesOptions,
  method: { current: RetrieveMethod },
): Promise<Result<RetrievedFiles, VerifyFailure>> {
  const name = describePeer(o.peer);
  const groups = retrieveGroups(instances);
  if (!groups.ok) return err({ ...groups.error, message: `study ${studyUid}: ${groups.error.message}` });
  await mkdir(o.tempDir, { recursive: true });
  await removeStaleFolders(o.tempDir);
  const dir = await mkdtemp(join(o.tempDir, `verify-${process.pid}-`));
  const release = () => rm(dir, { recursive: true, force: true });
  const notes: string[] = [];
  const target = new FolderStoreTarget(dir, 'keep-both');
  const above: Record<string, string> = { StudyInstanceUID: studyUid };
  if (o.model === 'patient') {
    const pid = instances
      .map((i) => i.header?.PatientID)
      .find((p): p is string => typeof p === 'string' && p !== '');
    if (pid !== undefined) above.PatientID = pid;
  }
  const fail = async (f: VerifyFailure): Promise<Result<RetrievedFiles, VerifyFailure>> => {
    await release();
    return err(f);
  };
  const useMove = async (): Promise<Result<Session, VerifyFailure>> => {
    if (!o.move)
      return err({
        code: 'NO_PRESENTATION_CONTEXT',
        message: `${name} offers no C-GET and no C-MOVE listener is configured`,
        retryable: false,
      });
    return moveSession(o, o.move, target);
  };
  // C-MOVE needs no storage contexts: one session for the whole study.
  const sessionGroups = method.current === 'c-move' ? [{ instances, storage: [] as Storage }] : groups.value;
  for (const g of sessionGroups) {
    const what = `${method.current === 'c-move' ? 'C-MOVE' : 'C-GET'} study ${studyUid} from ${name}`;
    let session: Session;
    if (method.current === 'c-move') {
      const s = await useMove();
      if (!s.ok) return fail(s.error);
      session = s.value;
    } else {
      const s = await getSession(o, g.storage, target);
      if (!s.ok) {
        if (method.current === 'auto' && s.error.kind === 'rejected') {
          method.current = 'c-move';
          await release();
          return retrieveCopies(studyUid, instances, o, method);
        }
        return fail(fromNetFailure(s.error, `${what}: association`));
      }
      session = s.value;
    }
    try {
      const askList = async (
        seriesUid: string,
        uids: string[],
      ): Promise<VerifyFailure | 'no-get' | undefined> => {
        const identifier = buildIdentifier('IMAGE', {
          ...above,
          SeriesInstanceUID: seriesUid,
          SOPInstanceUID: uids.join('\\'),
        });
        const r = await session.ask(identifier);
        if (!r.ok)
          return r.error.kind === 'no-presentation-context' && method.current === 'auto'
            ? 'no-get'
            : fromNetFailure(r.error, what);
        const a = r.value;
        if (a.entry.category === 'failure' || a.entry.category === 'cancel') {
          if (a.entry.action === 'stop-run')
            return fromStatus(
              method.current === 'c-move' ? 'C-MOVE' : 'C-GET',
              a.status,
              what,
              a.errorComment,
            );
          if (uids.length > 1) {
            for (const u of uids) {
              const f = await askList(seriesUid, [u]);
              if (f) return f;
            }
            return undefined;
          }
          notes.push(
            fromStatus(
              method.current === 'c-move' ? 'C-MOVE' : 'C-GET',
              a.status,
              `retrieve of ${uids[0]} from ${name}`,
              a.errorComment,
            ).message,
          );
          return undefined;
        }
        if ((a.counts.failed ?? 0) > 0 || (a.counts.warning ?? 0) > 0) {
          notes.push(
            `${what}: ${a.counts.failed ?? 0} failed and ${a.counts.warning ?? 0} warning sub-operations`,
          );
        }
        return undefined;
      };
      const bySeries = new Map<string, string[]>();
      for (const i of g.instances)
        bySeries.set(i.seriesUid, [...(bySeries.get(i.seriesUid) ?? []), i.sopInstanceUid]);
      for (const [seriesUid, uids] of bySeries) {
        for (let at = 0; at < uids.length; at += o.listSize) {
          const f = await askList(seriesUid, uids.slice(at, at + o.listSize));
          if (f === 'no-get') {
            method.current = 'c-move';
            await session.close();
            await release();
            return retrieveCopies(studyUid, instances, o, method);
          }
          if (f) return fail(f);
        }
      }
      await session.settle();
    } finally {
      await session.close();
    }
  }
  const paths = (await readdir(dir))
    .filter((n) => n.endsWith('.dcm'))
    .sort()
    .map((n) => join(dir, n));
  return ok({ paths, notes, release });
}
