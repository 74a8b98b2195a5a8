import type { Evidence } from '../evidence.js';
import { FINDING_CODE_LIST } from '../codes.js';
import type { CheckContext, Finding } from './context.js';
import { checkPatients } from './patient.js';
import { checkInstances, checkSeries } from './series.js';
import { checkStudies } from './study.js';
import { checkCharsets, checkUids } from './uids-charsets.js';

export type { CheckContext, Finding } from './context.js';

const ORDER = new Map(FINDING_CODE_LIST.map((c, i) => [c, i]));

/** Every check over the evidence, findings in code order (the table's), then by subject. */
export function runChecks(ev: Evidence, c: CheckContext): Finding[] {
  const all = [
    ...checkPatients(ev, c),
    ...checkStudies(ev, c),
    ...checkSeries(ev),
    ...checkInstances(ev),
    ...checkUids(ev),
    ...checkCharsets(ev),
  ];
  return sortFindings(all);
}

/** Findings in code order (the table's), then by subject. */
export const sortFindings = (all: Finding[]): Finding[] =>
  all.sort((a, b) => ORDER.get(a.code)! - ORDER.get(b.code)! || a.subject.localeCompare(b.subject));
