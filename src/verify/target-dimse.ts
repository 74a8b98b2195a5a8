/**
 * A DICOM target seen through C-FIND and C-GET. The listing follows the standard hierarchy (series
 * of the study, then the instances of each series), so strict archives answer too; an answer capped
 * by the peer (Cancel FE00, B001) is completed by UID-list queries for the instances we expect.
 * Retrieved copies go to a temporary folder under `tempDir` (keep-both: duplicates stay visible).
 */
import { mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { lookupKeyword } from '../dicom/keyword.js';
import { str, type SmallDataset } from '../dicom/small-dataset.js';
import { EXPLICIT_VR_LITTLE_ENDIAN, IMPLICIT_VR_LITTLE_ENDIAN } from '../dicom/transfer-syntax.js';
import type { DimseChannel } from '../net/dimse/channel.js';
import { describePeer, openChannel, type Peer } from '../net/peer.js';
import { cFindAll } from '../net/services/find-scu.js';
import { buildIdentifier } from '../net/services/identifier.js';
import { cGetOn, getProposals } from '../net/services/retrieve-scu.js';
import { channelFor } from '../net/services/scp.js';
import { QR, UNCOMPRESSED_LE, type QueryLevel, type QueryModel } from '../net/services/sop-classes.js';
import { FolderStoreTarget } from '../net/services/store-target.js';
import type { Instance } from '../state/types.js';
import { err, ok, type Result } from '../util/result.js';
import { fromNetFailure, fromStatus, incomplete } from './failure.js';
import type { Header, RetrievedFiles, TargetListing, VerifyTarget } from './target.js';
import type { VerifyFailure } from './types.js';
import { ANSWER_CHARSET_KEY, ENCODING_KEYWORDS, identifierJson, isMetaKey } from './values.js';

export interface DimseTargetOptions {
  readonly peer: Peer;
  readonly model: QueryModel;
  /** Parent of the temporary folders retrieved copies go to. */
  readonly tempDir: string;
  /** DIMSE timeout per response; default the peer's, else 120 s. */
  readonly timeoutMs?: number;
  /** UIDs per list query when a capped answer is completed (default 50). */
  readonly uidListSize?: number;
}

const SOP_INSTANCE_UID = 0x00080018;
const SPECIFIC_CHARACTER_SET = 0x00080005;
const SERIES_INSTANCE_UID = 0x0020000e;
/** Contexts beside the C-GET one (PS3.8: at most 128 per association). */
const MAX_STORAGE_CONTEXTS = 127;
const NATIVE_FALLBACK = [EXPLICIT_VR_LITTLE_ENDIAN, IMPLICIT_VR_LITTLE_ENDIAN];

const patientIdOf = (expected: readonly Instance[]): string | undefined => {
  for (const i of expected)
    if (typeof i.header?.PatientID === 'string' && i.header.PatientID !== '') return i.header.PatientID;
  return undefined;
};

interface Found {
  ids: SmallDataset[];
  complete: boolean;
}

export function dimseTarget(opts: DimseTargetOptions): VerifyTarget {
  const { peer, model } = opts;
  const name = describePeer(peer);
  const timeoutMs = opts.timeoutMs ?? peer.dimseTimeoutMs ?? 120_000;
  const listSize = opts.uidListSize ?? 50;

  async function query(
    ch: DimseChannel,
    level: QueryLevel,
    keys: Record<string, string>,
  ): Promise<Result<Found, VerifyFailure>> {
    const r = await cFindAll(ch, buildIdentifier(level, keys), { model, timeoutMs });
    const what = `C-FIND ${level} study ${keys.StudyInstanceUID ?? ''} at ${name}`;
    if (!r.ok) return err(fromNetFailure(r.error, what));
    if (r.value.entry.category === 'failure')
      return err(fromStatus('C-FIND', r.value.status, what, r.value.errorComment));
    return ok({ ids: r.value.identifiers, complete: r.value.complete });
  }

  async function list(
    studyUid: string,
    expected: readonly Instance[],
    keywords: readonly string[],
  ): Promise<Result<TargetListing, VerifyFailure>> {
    const notes: string[] = [];
    const above: Record<string, string> = { StudyInstanceUID: studyUid };
    if (model === 'patient') {
      const pid = patientIdOf(expected);
      if (pid === undefined)
        return err({
          code: 'NO_PATIENT_ID',
          message: `study ${studyUid}: patient-root queries need the PatientID the transfer recorded`,
          retryable: false,
        });
      above.PatientID = pid;
    }
    const asked = keywords.filter(
      (k) => !ENCODING_KEYWORDS.has(k) && !isMetaKey(k) && lookupKeyword(k)?.keyword === k,
    );
    const byTag = new Map<number, string>(asked.map((k) => [lookupKeyword(k)!.tag, k]));
    byTag.set(SOP_INSTANCE_UID, 'SOPInstanceUID');
    const charsets = new Set<string>();
    /** The answer as a header, with the character set it came in (the default repertoire when absent). */
    const headerOf = (d: SmallDataset): Header => {
      const cs = str(d, SPECIFIC_CHARACTER_SET).trim();
      charsets.add(cs);
      return { ...identifierJson(d, byTag), [ANSWER_CHARSET_KEY]: cs };
    };
    const opened = await openChannel(peer, [
      { abstractSyntax: QR[model].find, transferSyntaxes: UNCOMPRESSED_LE },
    ]);
    if (!opened.ok) return err(fromNetFailure(opened.error, `C-FIND association to ${name}`));
    const ch = opened.value;
    try {
      const series = await query(ch, 'SERIES', { ...above, SeriesInstanceUID: '' });
      if (!series.ok) return series;
      let complete = series.value.complete;
      const seriesUids = new Set(
        series.value.ids.map((d) => str(d, SERIES_INSTANCE_UID).trim()).filter(Boolean),
      );
      if (!complete) {
        notes.push('series-level C-FIND answer incomplete: listed the expected series only');
        for (const i of expected) seriesUids.add(i.seriesUid);
      }
      const instances = new Map<string, Header[]>();
      const add = (ids: SmallDataset[]): void => {
        for (const d of ids) {
          const sop = str(d, SOP_INSTANCE_UID).trim();
          if (!sop) continue;
          instances.set(sop, [...(instances.get(sop) ?? []), headerOf(d)]);
        }
      };
      for (const seriesUid of [...seriesUids].sort()) {
        const keys: Record<string, string> = { SpecificCharacterSet: 'ISO_IR 192' };
        for (const k of asked) keys[k] = '';
        Object.assign(keys, above, { SeriesInstanceUID: seriesUid, SOPInstanceUID: '' });
        const images = await query(ch, 'IMAGE', keys);
        if (!images.ok) return images;
        if (images.value.complete) {
          add(images.value.ids);
          continue;
        }
        // Capped: ask for the instances we expect, a list of UIDs at a time.
        complete = false;
        notes.push(
          `image-level C-FIND of series ${seriesUid} incomplete (${images.value.ids.length} answers): completed by UID lists`,
        );
        const wanted = expected.filter((i) => i.seriesUid === seriesUid).map((i) => i.sopInstanceUid);
        const partial = new Map<string, Header[]>();
        for (let at = 0; at < wanted.length; at += listSize) {
          const part = await query(ch, 'IMAGE', {
            ...keys,
            SOPInstanceUID: wanted.slice(at, at + listSize).join('\\'),
          });
          if (!part.ok) return part;
          if (!part.value.complete)
            return err(
              incomplete(
                `study ${studyUid}: C-FIND for ${Math.min(listSize, wanted.length - at)} instance UIDs of series ${seriesUid} at ${name} was still incomplete`,
              ),
            );
          for (const d of part.value.ids) {
            const sop = str(d, SOP_INSTANCE_UID).trim();
            if (sop) partial.set(sop, [...(partial.get(sop) ?? []), headerOf(d)]);
          }
        }
        // The capped answer may hold instances not expected: keep those too.
        add(images.value.ids.filter((d) => !partial.has(str(d, SOP_INSTANCE_UID).trim())));
        for (const [sop, hs] of partial) instances.set(sop, [...(instances.get(sop) ?? []), ...hs]);
      }
      const narrow = [...charsets].filter((c) => !/192|GB18030|GBK/.test(c));
      if (narrow.length > 0)
        notes.push(
          `C-FIND answered in ${narrow.map((c) => c || 'the default repertoire').join(', ')}: text values outside it are compared on retrieved copies only`,
        );
      return ok({ instances, complete, mode: 'query', notes });
    } finally {
      if (!ch.ended) await ch.assoc.release();
    }
  }

  /**
   * Retrieves exactly the given instances: C-GET at IMAGE level, per series, a list of SOP Instance
   * UIDs at a time, on one association whose storage contexts cover their classes and syntaxes
   * (instances the target holds besides are not fetched: the listing reports them). A list the peer
   * refuses as a whole (Orthanc: C000 when one UID is unknown) is asked again one instance at a time;
   * an instance still refused is noted and not retrieved.
   */
  async function retrieve(
    studyUid: string,
    expected: readonly Instance[],
  ): Promise<Result<RetrievedFiles, VerifyFailure>> {
    const groups = retrieveGroups(expected);
    if (!groups.ok) return err({ ...groups.error, message: `study ${studyUid}: ${groups.error.message}` });
    await mkdir(opts.tempDir, { recursive: true });
    const dir = await mkdtemp(join(opts.tempDir, 'verify-'));
    const release = () => rm(dir, { recursive: true, force: true });
    const notes: string[] = [];
    const target = new FolderStoreTarget(dir, 'keep-both');
    const above: Record<string, string> = { StudyInstanceUID: studyUid };
    if (model === 'patient') {
      const pid = patientIdOf(expected);
      if (pid !== undefined) above.PatientID = pid;
    }
    const failed = async (f: VerifyFailure): Promise<Result<RetrievedFiles, VerifyFailure>> => {
      await release();
      return err(f);
    };
    for (const g of groups.value) {
      const what = `C-GET study ${studyUid} from ${name}`;
      const opened = await openChannel(peer, getProposals(model, g.storage));
      if (!opened.ok) return failed(fromNetFailure(opened.error, `${what}: association`));
      const ch = channelFor(opened.value.assoc, { store: target });
      try {
        const bySeries = new Map<string, string[]>();
        for (const i of g.instances)
          bySeries.set(i.seriesUid, [...(bySeries.get(i.seriesUid) ?? []), i.sopInstanceUid]);
        /** One C-GET for a list; a list the peer refuses as a whole is asked again one instance at a time. */
        const getList = async (seriesUid: string, uids: string[]): Promise<VerifyFailure | undefined> => {
          const identifier = buildIdentifier('IMAGE', {
            ...above,
            SeriesInstanceUID: seriesUid,
            SOPInstanceUID: uids.join('\\'),
          });
          const r = await cGetOn(ch, identifier, { model, timeoutMs });
          if (!r.ok) return fromNetFailure(r.error, what);
          const o = r.value;
          if (o.entry.category === 'failure' || o.entry.category === 'cancel') {
            if (uids.length > 1) {
              for (const u of uids) {
                const f = await getList(seriesUid, [u]);
                if (f) return f;
              }
              return undefined;
            }
            notes.push(
              `${fromStatus('C-GET', o.status, `C-GET of ${uids[0]} from ${name}`, o.errorComment).message}`,
            );
            return undefined;
          }
          if ((o.counts.failed ?? 0) > 0 || (o.counts.warning ?? 0) > 0) {
            notes.push(
              `${what}: ${o.counts.failed ?? 0} failed and ${o.counts.warning ?? 0} warning sub-operations`,
            );
          }
          return undefined;
        };
        for (const [seriesUid, uids] of bySeries) {
          for (let at = 0; at < uids.length; at += listSize) {
            const f = await getList(seriesUid, uids.slice(at, at + listSize));
            if (f) return failed(f);
          }
        }
      } finally {
        if (!ch.ended) await ch.assoc.release();
      }
    }
    const paths = (await readdir(dir))
      .filter((n) => n.endsWith('.dcm'))
      .sort()
      .map((n) => join(dir, n));
    return ok({ paths, notes, release });
  }

  return { name, list, retrieve, close: async () => undefined };
}

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

/** One association for the study when its contexts fit (at most 127 beside C-GET), else one per series. */
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
