/**
 * The series and instances of one study: a SERIES-level C-FIND for the study, then an IMAGE-level one
 * per series (hierarchical queries: every unique key above the level is given). A capped series list
 * is split by Modality; a capped instance list by InstanceNumber (1…the reported count, plus the
 * numbers its own answer showed). Counts the source reported are compared with what was listed
 * (findings); values the study level did not give (ModalitiesInStudy, InstitutionName) are taken
 * from the series and named in attrs.derivedFromSeries.
 */
import type { SmallDataset } from '../dicom/small-dataset.js';
import { buildIdentifier } from '../net/services/identifier.js';
import type { Clock, InstanceInput, Json, SeriesInput, StudyInput } from '../state/index.js';
import type { FindAnswer, FindPool } from './find-pool.js';
import type { Findings } from './findings.js';
import { SERIES_KEYS, instanceFromMatch, returnKeys, seriesFromMatch, valueOf } from './keys.js';
import { DEFINED_MODALITIES } from './modalities.js';
import { QueryTree, type QueryNode } from './tree.js';

export interface DetailEnv {
  readonly pool: FindPool;
  readonly tree: QueryTree;
  readonly findings: Findings;
  readonly clock: Clock;
  /** Most InstanceNumber queries for one capped instance list. */
  readonly maxEnumeration: number;
  /** Study-level keys the source refused: taken from the series when the series level has them. */
  readonly droppedKeys?: readonly string[];
}

export interface StudyDetail {
  readonly study: StudyInput;
  readonly series: SeriesInput[];
  readonly instances: InstanceInput[];
  readonly seriesCovered: boolean;
  readonly instancesCovered: boolean;
}

interface Listing<T> {
  rows: T[];
  covered: boolean;
}

const splitValues = (v: string | readonly string[] | null | undefined): string[] =>
  v === null || v === undefined
    ? []
    : (typeof v === 'string' ? v.split('\\') : [...v]).map((x) => x.trim()).filter(Boolean);

/**
 * Runs a query with `keys` and, when the answer is capped, its parts (`parts` gives their extra keys
 * from the capped answer). Complete unsplit queries are counted, not recorded.
 */
async function listWithSplits<T>(
  env: DetailEnv,
  level: 'SERIES' | 'IMAGE',
  keys: Record<string, string>,
  parse: (m: SmallDataset) => T | undefined,
  uidOf: (t: T) => string,
  parts: (capped: FindAnswer) => Record<string, string>[],
  expected: number | null | undefined,
  what: string,
): Promise<Listing<T>> {
  const byUid = new Map<string, T>();
  const take = (a: FindAnswer) => {
    for (const m of a.matches) {
      const t = parse(m);
      if (!t) {
        env.findings.add('inventory.match-without-uid', { level, query: keys });
        continue;
      }
      if (!byUid.has(uidOf(t))) byUid.set(uidOf(t), t);
    }
  };
  const issuedAt = env.clock.now();
  const answer = await env.pool.find(buildIdentifier(level, { ...returnKeys(level), ...keys }));
  take(answer);
  if (answer.kind === 'complete') {
    env.tree.countUnrecorded();
    return { rows: [...byUid.values()], covered: true };
  }
  const node = await env.tree.record(level, keys, answer, undefined, issuedAt);
  if (answer.kind === 'failed') {
    env.findings.add('inventory.query-failed', { level, queryId: node.id, error: answer.error });
    return { rows: [...byUid.values()], covered: false };
  }
  const childKeys = parts(answer);
  if (childKeys.length === 0) env.findings.add('inventory.unsplittable', { level, queryId: node.id });
  for (const extra of childKeys) {
    const at = env.clock.now();
    const part = await env.pool.find(buildIdentifier(level, { ...returnKeys(level), ...keys, ...extra }));
    take(part);
    const child: QueryNode = await env.tree.record(level, { ...keys, ...extra }, part, node, at);
    if (part.kind === 'capped') env.findings.add('inventory.unsplittable', { level, queryId: child.id });
    if (part.kind === 'failed')
      env.findings.add('inventory.query-failed', { level, queryId: child.id, error: part.error });
  }
  const shortfall =
    expected !== null && expected !== undefined
      ? { reported: expected, listed: byUid.size, what }
      : undefined;
  const leaked = await env.tree.checkSplit(node, shortfall);
  if (leaked > 0) env.findings.add('inventory.split-leak', { level, queryId: node.id, leaked });
  return { rows: [...byUid.values()], covered: QueryTree.covered(node) };
}

/** Lists the series and instances of `study`, checks the counts, fills derived study values. */
export async function detailStudy(env: DetailEnv, study: StudyInput): Promise<StudyDetail> {
  const studyUid = study.studyUid;
  const seriesList = await listWithSplits<SeriesInput>(
    env,
    'SERIES',
    { StudyInstanceUID: studyUid },
    (m) => seriesFromMatch(m, studyUid),
    (s) => s.seriesUid,
    (capped) => {
      const codes = new Set([
        ...splitValues(study.modalitiesInStudy),
        ...capped.matches.flatMap((m) => splitValues(valueOf(m, 'Modality'))),
      ]);
      const list = codes.size > 0 ? [...codes] : [...DEFINED_MODALITIES];
      return list.map((Modality) => ({ Modality }));
    },
    study.numSeries,
    'series',
  );

  const instances: InstanceInput[] = [];
  let instancesCovered = seriesList.covered;
  for (const s of seriesList.rows) {
    const listing = await listWithSplits<InstanceInput>(
      env,
      'IMAGE',
      { StudyInstanceUID: studyUid, SeriesInstanceUID: s.seriesUid },
      (m) => instanceFromMatch(m, studyUid, s.seriesUid),
      (i) => i.sopInstanceUid,
      (capped) => {
        const numbers = new Set<number>();
        const n = s.numInstances ?? 0;
        for (let k = 1; k <= Math.min(n, env.maxEnumeration); k++) numbers.add(k);
        for (const m of capped.matches) {
          const v = Number(valueOf(m, 'InstanceNumber'));
          if (Number.isInteger(v)) numbers.add(v);
        }
        if (n === 0) return []; // no reported count: nothing bounds an enumeration
        return [...numbers].sort((a, b) => a - b).map((k) => ({ InstanceNumber: String(k) }));
      },
      s.numInstances,
      'instances',
    );
    instancesCovered &&= listing.covered;
    instances.push(...listing.rows);
    if (
      listing.covered &&
      s.numInstances !== null &&
      s.numInstances !== undefined &&
      s.numInstances !== listing.rows.length
    )
      env.findings.add(
        'inventory.count-mismatch',
        {
          level: 'series',
          seriesUid: s.seriesUid,
          what: 'instances',
          reported: s.numInstances,
          found: listing.rows.length,
        },
        studyUid,
      );
  }

  if (
    seriesList.covered &&
    study.numSeries !== null &&
    study.numSeries !== undefined &&
    study.numSeries !== seriesList.rows.length
  )
    env.findings.add(
      'inventory.count-mismatch',
      { level: 'study', what: 'series', reported: study.numSeries, found: seriesList.rows.length },
      studyUid,
    );
  if (
    instancesCovered &&
    study.numInstances !== null &&
    study.numInstances !== undefined &&
    study.numInstances !== instances.length
  )
    env.findings.add(
      'inventory.count-mismatch',
      { level: 'study', what: 'instances', reported: study.numInstances, found: instances.length },
      studyUid,
    );

  return {
    study: withDerived(study, seriesList.rows, env.droppedKeys),
    series: seriesList.rows,
    instances,
    seriesCovered: seriesList.covered,
    instancesCovered,
  };
}

/**
 * ModalitiesInStudy and InstitutionName from the series when the study level gave none, and the
 * study-level keys the source refused (`dropped`) from the series that carry them (kept in attrs).
 */
export function withDerived(
  study: StudyInput,
  series: readonly SeriesInput[],
  dropped: readonly string[] = [],
): StudyInput {
  const derived: string[] = [];
  const out: { -readonly [K in keyof StudyInput]: StudyInput[K] } = { ...study };
  const attrs: Record<string, Json> = { ...(study.attrs ?? {}) };
  const seriesValue = (s: SeriesInput, keyword: string): string | undefined => {
    const spec = SERIES_KEYS.find((k) => k.keyword === keyword);
    const v = spec?.prop ? s[spec.prop] : s.attrs?.[keyword];
    return typeof v === 'string' || typeof v === 'number' ? String(v) : undefined;
  };
  const distinct = (keyword: string): string | undefined => {
    const set = [...new Set(series.flatMap((s) => splitValues(seriesValue(s, keyword))))];
    return set.length > 0 ? set.join('\\') : undefined;
  };
  if (splitValues(study.modalitiesInStudy).length === 0) {
    const v = distinct('Modality');
    if (v) {
      out.modalitiesInStudy = v;
      derived.push('ModalitiesInStudy');
    }
  }
  if (!study.institutionName) {
    const v = distinct('InstitutionName');
    if (v) {
      out.institutionName = v;
      derived.push('InstitutionName');
    }
  }
  for (const kw of dropped) {
    if (kw === 'InstitutionName' || attrs[kw] !== undefined) continue;
    const v = distinct(kw);
    if (v) {
      attrs[kw] = v;
      derived.push(kw);
    }
  }
  if (derived.length > 0) out.attrs = { ...attrs, derivedFromSeries: derived };
  return out;
}
