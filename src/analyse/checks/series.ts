/**
 * Series and instances: one SeriesInstanceUID under several studies, several SeriesNumbers or
 * Modality values in one series; one SOP Instance UID with different content (content digests of the
 * copies read), in several copies with the same content, or in several series; the conflicts the
 * transfer recorded; data sets that could not be read to the end; unreadable files of a folder source.
 */
import type { AuditEvent, Json } from '../../state/index.js';
import type { Evidence } from '../evidence.js';
import { UNREADABLE_DIGEST } from '../read-copy.js';
import { finding, type Finding } from './context.js';

const detailOf = (d: Json): { [k: string]: Json } =>
  d && typeof d === 'object' && !Array.isArray(d) ? d : {};

export function checkSeries(ev: Evidence): Finding[] {
  const out: Finding[] = [];
  for (const se of ev.series.values()) {
    const studies = [...se.studies.keys()];
    if (studies.length > 1)
      out.push(
        finding(
          'SERIES_MULTI_STUDY',
          se.seriesUid,
          studies,
          { studies: studies.length },
          { seriesUid: se.seriesUid },
        ),
      );
    if (se.numbers.size > 1)
      out.push(
        finding(
          'SERIES_NUMBER_INCONSISTENT',
          se.seriesUid,
          studies,
          { seriesNumbers: [...se.numbers].sort((a, b) => Number(a) - Number(b)) },
          { seriesUid: se.seriesUid },
        ),
      );
    if (se.modalities.size > 1)
      out.push(
        finding(
          'SERIES_MODALITY_INCONSISTENT',
          se.seriesUid,
          studies,
          { modalities: [...se.modalities].sort() },
          { seriesUid: se.seriesUid },
        ),
      );
  }
  return out;
}

export function checkInstances(ev: Evidence): Finding[] {
  const out: Finding[] = [];
  const copiesInFolder = new Map<string, number>();
  for (const e of ev.events)
    if (e.kind === 'inventory.duplicate-instance' && e.sopInstanceUid)
      copiesInFolder.set(e.sopInstanceUid, (copiesInFolder.get(e.sopInstanceUid) ?? 1) + 1);

  for (const [sop, copies] of ev.copies) {
    const studies = copies.map((c) => c.studyUid).filter((s): s is string => !!s);
    const at = { sopInstanceUid: sop, seriesUid: copies[0]!.seriesUid };
    const digests = new Set(
      copies.map((c) => c.contentDigest).filter((d) => !d.startsWith(UNREADABLE_DIGEST)),
    );
    if (digests.size > 1)
      out.push(
        finding(
          'SOP_CONTENT_CONFLICT',
          sop,
          studies,
          { contents: digests.size, origins: [...new Set(copies.map((c) => c.origin))].sort() },
          at,
        ),
      );
    else if ((copiesInFolder.get(sop) ?? 1) > 1)
      out.push(finding('SOP_DUPLICATE_COPY', sop, studies, { copies: copiesInFolder.get(sop)! }, at));
    const places = new Set(copies.map((c) => `${c.studyUid}|${c.seriesUid}`));
    if (places.size > 1) out.push(finding('SOP_MULTI_SERIES', sop, studies, { places: places.size }, at));
    for (const c of copies)
      if (c.problems.unreadable) {
        out.push(finding('HEADER_UNREADABLE', sop, studies, { code: c.problems.unreadable }, at));
        break;
      }
  }

  const transfer = new Map<string, { studies: Set<string>; causes: Set<string> }>();
  for (const e of ev.events) {
    if (e.kind === 'instance.uid-conflict' && e.sopInstanceUid) {
      const t = transfer.get(e.sopInstanceUid) ?? { studies: new Set<string>(), causes: new Set<string>() };
      if (e.studyUid) t.studies.add(e.studyUid);
      const d = detailOf(e.detail);
      if (typeof d.cause === 'string') t.causes.add(d.cause);
      const first = detailOf(d.first ?? null);
      if (typeof first.studyUid === 'string') t.studies.add(first.studyUid);
      transfer.set(e.sopInstanceUid, t);
    }
    if (e.kind === 'inventory.unreadable-file') out.push(...unreadableFile(e));
  }
  // A SOP Instance UID held by an unreadable file (named by its data set or its (0002,0003)) and by
  // another file: the copies cannot be compared, only one can move.
  for (const [sop, unreadable] of ev.unreadableFiles) {
    const readable = ev.readableCopies.get(sop);
    if (unreadable.length + (readable ? 1 : 0) < 2) continue;
    out.push(
      finding(
        'SOP_COPY_UNREADABLE',
        sop,
        readable ? [readable.studyUid] : [],
        {
          readable: readable?.path ? [readable.path] : [],
          unreadable: [...unreadable].sort(),
        },
        { sopInstanceUid: sop },
      ),
    );
  }
  for (const [sop, t] of transfer)
    out.push(
      finding(
        'SOP_TRANSFER_CONFLICT',
        sop,
        t.studies,
        { causes: [...t.causes].sort() },
        { sopInstanceUid: sop },
      ),
    );
  return out;
}

/** FILE_UNREADABLE for an unreadable file of a folder source; TRANSFER_SYNTAX_MISMATCH beside it when that is why. */
function unreadableFile(e: AuditEvent): Finding[] {
  const d = detailOf(e.detail);
  const subject = e.sopInstanceUid ?? String(d.path ?? 'file');
  const studies = e.studyUid ? [e.studyUid] : [];
  const at = { sopInstanceUid: e.sopInstanceUid };
  const out = [
    finding(
      'FILE_UNREADABLE',
      subject,
      studies,
      { code: d.code ?? null, path: d.path ?? null, ...(d.uidFrom ? { uidFrom: d.uidFrom } : {}) },
      at,
    ),
  ];
  if (d.code === 'lying-transfer-syntax')
    out.push(
      finding(
        'TRANSFER_SYNTAX_MISMATCH',
        subject,
        studies,
        { path: d.path ?? null, declared: d.declared ?? null, actualEncoding: d.actualEncoding ?? null },
        at,
      ),
    );
  return out;
}
