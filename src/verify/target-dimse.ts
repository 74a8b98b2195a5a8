/**
 * A DICOM target seen through C-FIND and C-GET (or C-MOVE, retrieve-copies.ts). The listing follows the standard hierarchy (series
 * of the study, then the instances of each series), so strict archives answer too; an answer capped
 * by the peer (Cancel FE00, B001) is completed by UID-list queries for the instances we expect.
 * Retrieved copies go to a temporary folder under `tempDir` (keep-both: duplicates stay visible).
 */
import { lookupKeyword } from '../dicom/keyword.js';
import { str, type SmallDataset } from '../dicom/small-dataset.js';
import type { DimseChannel } from '../net/dimse/channel.js';
import { describePeer, openChannel, type Peer } from '../net/peer.js';
import { cFindAll } from '../net/services/find-scu.js';
import { buildIdentifier } from '../net/services/identifier.js';
import { QR, UNCOMPRESSED_LE, type QueryLevel, type QueryModel } from '../net/services/sop-classes.js';
import type { Instance } from '../state/types.js';
import { err, ok, type Result } from '../util/result.js';
import { fromNetFailure, fromStatus, incomplete } from './failure.js';
import { retrieveCopies, type MoveListener, type RetrieveMethod } from './retrieve-copies.js';
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
  /** UIDs per list query (completing a capped answer; retrieving) (default 50). */
  readonly uidListSize?: number;
  /** How copies come back. Default: auto when `move` is given (C-GET, C-MOVE if the target offers no C-GET), else c-get. */
  readonly retrieve?: RetrieveMethod;
  /** Our listener for C-MOVE copies. */
  readonly move?: MoveListener;
}

const SOP_INSTANCE_UID = 0x00080018;
const SPECIFIC_CHARACTER_SET = 0x00080005;
const SERIES_INSTANCE_UID = 0x0020000e;

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

  const method = { current: opts.retrieve ?? (opts.move ? 'auto' : 'c-get') } as { current: RetrieveMethod };
  const retrieve = (
    studyUid: string,
    instances: readonly Instance[],
  ): Promise<Result<RetrievedFiles, VerifyFailure>> =>
    retrieveCopies(
      studyUid,
      instances,
      { peer, model, tempDir: opts.tempDir, timeoutMs, listSize, move: opts.move },
      method,
    );

  return { name, list, retrieve, close: async () => undefined };
}
