/**
 * What a C-MOVE or C-GET retrieves: the identifier's unique keys (PS3.4 C.4.2.2.1, C.4.3.2.1)
 * select patients, studies, series or instances; the result is every served instance below them.
 */
import { join } from 'node:path';
import type { SmallDataset } from '../dicom/small-dataset.js';
import type { QueryModel } from '../net/services/sop-classes.js';
import { type Result, ok } from '../util/result.js';
import type { ServedInstance } from './fresh.js';
import type { Hierarchy } from './hierarchy.js';
import type { ArchiveIndex, InstanceRow } from './index-db.js';
import { type QueryFailure, type QueryOptions, parseQuery, search } from './query.js';

export const sendableOf = (dir: string, r: InstanceRow): ServedInstance => ({
  rel: r.path,
  mtimeMs: r.mtimeMs,
  size: r.size,
  path: join(dir, r.path),
  sopClassUid: r.sopClassUid,
  sopInstanceUid: r.sopInstanceUid,
  transferSyntaxUid: r.transferSyntaxUid,
  datasetOffset: r.datasetOffset,
  datasetLength: r.datasetLength,
});

export function selectForRetrieve(
  h: Hierarchy,
  index: ArchiveIndex,
  dir: string,
  model: QueryModel,
  identifier: SmallDataset,
  opts: QueryOptions = {},
): Result<ServedInstance[], QueryFailure> {
  const q = parseQuery(model, identifier, 'retrieve', opts);
  if (!q.ok) return q;
  const entities = search(h, index, q.value);
  let rows: InstanceRow[];
  switch (q.value.level) {
    case 'IMAGE':
      rows = entities.map((e) => e.row!);
      break;
    case 'SERIES': {
      const wanted = new Set(entities.map((e) => `${e.study!.uid}|${e.series!.uid}`));
      rows = index
        .primaryWhere('series_uid', [...new Set(entities.map((e) => e.series!.uid))])
        .filter((r) => wanted.has(`${r.studyUid}|${r.seriesUid}`));
      break;
    }
    case 'STUDY':
      rows = index.primaryWhere(
        'study_uid',
        entities.map((e) => e.study!.uid),
      );
      break;
    case 'PATIENT': {
      // The patient's instances: a study shared with another PatientID gives only this patient's.
      const pids = new Set(entities.map((e) => e.patient!.patientId));
      rows = index
        .primaryWhere('study_uid', [
          ...new Set(entities.flatMap((e) => e.patient!.studies.map((s) => s.uid))),
        ])
        .filter((r) => pids.has(r.patientId));
      break;
    }
  }
  return ok(rows.map((r) => sendableOf(dir, r)));
}
