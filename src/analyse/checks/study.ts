/**
 * Study information: AccessionNumber, StudyDate (empty, not a date, in the future, implausibly old),
 * one StudyInstanceUID under several patients, studies without instances, counts that disagree
 * between the levels of the inventory (and the mismatches the inventory itself recorded).
 */
import type { Json } from '../../state/index.js';
import type { Evidence } from '../evidence.js';
import { judgeStudyDate } from '../study-date.js';
import { multiPatientStudies } from './patient.js';
import { finding, type CheckContext, type Finding } from './context.js';
import { groupKey, pseudonym } from '../normalise.js';

const DATE_CODES = {
  missing: 'STUDY_DATE_MISSING',
  invalid: 'STUDY_DATE_INVALID',
  future: 'STUDY_DATE_FUTURE',
  'too-old': 'STUDY_DATE_TOO_OLD',
} as const;

export function checkStudies(ev: Evidence, c: CheckContext): Finding[] {
  const out: Finding[] = [];
  for (const s of ev.studies.values()) {
    const row = s.row;
    if (!row) continue;
    if (!row.accessionNumber) out.push(finding('ACCESSION_MISSING', s.studyUid, [s.studyUid]));
    const d = judgeStudyDate(row.studyDate, c.today, c.oldest);
    if (d.problem)
      out.push(
        finding(
          DATE_CODES[d.problem],
          s.studyUid,
          [s.studyUid],
          d.problem === 'missing' ? {} : { year: d.year },
        ),
      );
  }

  // One study, several patients.
  for (const [uid, m] of multiPatientStudies(ev))
    out.push(
      finding('STUDY_MULTI_PATIENT', uid, [uid], {
        patients: m.patients,
        patientGroups: [...m.keys].sort().map((k) => pseudonym(c.secret, k)),
        ...(m.withoutPatientId ? { withoutPatientId: true } : {}),
        ...(m.reported ? { reportedByInventory: true } : {}),
        ...(c.logPhi ? { patientIds: [...m.keys].map((k) => k.split('\u0000')[0]!).sort() } : {}),
      }),
    );

  // Counts: what the source reported against what it listed (only where the inventory listed that level).
  const listedInstances = ev.instanceRows > 0;
  const countsBySeries = new Map<string, number>();
  for (const se of ev.series.values())
    if (se.row) countsBySeries.set(se.row.studyUid, (countsBySeries.get(se.row.studyUid) ?? 0) + 1);
  const mismatches = new Map<string, Json[]>();
  const add = (studyUid: string, m: Json) =>
    mismatches.set(studyUid, [...(mismatches.get(studyUid) ?? []), m]);
  for (const s of ev.studies.values()) {
    const row = s.row;
    if (!row) continue;
    const series = countsBySeries.get(s.studyUid) ?? 0;
    if (row.numSeries !== null && series > 0 && row.numSeries !== series)
      add(s.studyUid, { level: 'study', what: 'series', reported: row.numSeries, found: series });
    if (listedInstances && row.numInstances !== null && row.numInstances !== s.instanceRows)
      add(s.studyUid, {
        level: 'study',
        what: 'instances',
        reported: row.numInstances,
        found: s.instanceRows,
      });
    const empty =
      row.numInstances === 0 ||
      row.numSeries === 0 ||
      (listedInstances && s.instanceRows === 0 && !(row.numInstances! > 0));
    if (empty)
      out.push(
        finding('STUDY_EMPTY', s.studyUid, [s.studyUid], {
          reportedInstances: row.numInstances,
          reportedSeries: row.numSeries,
        }),
      );
  }
  if (listedInstances)
    for (const se of ev.series.values()) {
      const r = se.row;
      if (r && r.numInstances !== null && r.numInstances !== se.instanceRows)
        add(r.studyUid, {
          level: 'series',
          seriesUid: se.seriesUid,
          what: 'instances',
          reported: r.numInstances,
          found: se.instanceRows,
        });
    }
  for (const e of ev.events)
    if (e.kind === 'inventory.count-mismatch' && e.studyUid && !mismatches.has(e.studyUid))
      add(e.studyUid, { ...(e.detail as { [k: string]: Json }), when: 'inventory' });
  for (const [uid, list] of mismatches) out.push(finding('COUNT_MISMATCH', uid, [uid], { mismatches: list }));
  return out;
}

export { groupKey };
