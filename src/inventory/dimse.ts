/**
 * Inventory of a DICOM source over the network: the study-level query tree (split.ts), then the
 * series and instances of every study found (study-detail.ts), over `source.maxAssociations`
 * associations. Every query is recorded (tree.ts); rows are written in batches (flush.ts).
 */
import type { SmallDataset } from '../dicom/small-dataset.js';
import type { Peer } from '../net/peer.js';
import { buildIdentifier } from '../net/services/identifier.js';
import type { QueryModel } from '../net/services/sop-classes.js';
import type { Clock, QueryLevel, Store, StudyInput } from '../state/index.js';
import { parseDA } from './dates.js';
import { FindPool } from './find-pool.js';
import type { Findings } from './findings.js';
import type { Flusher } from './flush.js';
import { STUDY_NONSTANDARD_KEYS, returnKeys, studyFromMatch, valueOf } from './keys.js';
import { DEFINED_MODALITIES } from './modalities.js';
import {
  DEFAULT_MAX_PREFIX,
  type SplitContext,
  type StudyNode,
  type UndatedKey,
  matchingKeys,
  needsUtf8,
  splitNode,
  splitRoot,
} from './split.js';
import { proveByPatientTotals } from './patient-totals.js';
import { detailStudy } from './study-detail.js';
import { TaskQueue } from './tasks.js';
import { QueryTree, type QueryNode } from './tree.js';

export interface DimseInventoryOptions {
  readonly store: Store;
  readonly runId: number;
  readonly clock: Clock;
  readonly peer: Peer;
  readonly model: QueryModel;
  readonly associations: number;
  readonly findLimit?: number;
  /** Study-level keywords asked besides the standard ones (named by scope rules); kept in attrs. */
  readonly extraKeys: readonly string[];
  readonly undatedKeys: readonly UndatedKey[];
  readonly maxPrefix?: number;
  readonly maxEnumeration: number;
  /** Day number of "today" (dates.ts): where the dated pass puts its upper boundary. */
  readonly today: number;
  readonly findings: Findings;
  readonly flusher: Flusher;
  readonly signal?: AbortSignal;
  readonly onProgress?: (p: DimseProgress) => void;
}

export interface DimseProgress {
  readonly studiesFound: number;
  readonly studiesListed: number;
  readonly series: number;
  readonly instances: number;
  readonly queries: number;
  readonly capped: number;
}

export interface DimseOutcome {
  readonly tree: QueryTree;
  /** Every study-level query is covered. */
  readonly studiesCovered: boolean;
  /** Every series list is covered (and studiesCovered). */
  readonly seriesCovered: boolean;
  readonly instancesCovered: boolean;
  readonly studies: number;
  readonly series: number;
  readonly instances: number;
  /** Studies whose StudyDate is empty or not a calendar date. */
  readonly undatedStudies: number;
  /** Study-level queries issued, per pass. */
  readonly studyQueries: { all: number; dated: number; undated: number };
  readonly associations: number;
  /** Study-level keys the source refused, left out of the study queries. */
  readonly droppedKeys: readonly string[];
  readonly stopped: boolean;
}

interface Seen {
  /** The reported counts of each patient's answer (a study under two patients is answered twice). */
  readonly patients: Map<string, Counts>;
  /** The first answer's row. */
  readonly study: StudyInput;
  dated: boolean;
  readonly hasDate: boolean;
  /** Listed (its row written) already; a later patient's answer then rewrites the study row. */
  listed: boolean;
  late: boolean;
}

interface Counts {
  readonly numSeries: number | null | undefined;
  readonly numInstances: number | null | undefined;
}

const sumOf = (vals: readonly (number | null | undefined)[]): number | null | undefined =>
  vals.some((v) => v === null || v === undefined)
    ? vals.find((v) => v === null || v === undefined)
    : vals.reduce<number>((a, v) => a + v!, 0);

/**
 * The study row with the reported counts of all its answers added up: a source answers a study held
 * under several patients once per patient (Orthanc), each answer counting that patient's part only.
 * A count missing from any answer is missing from the sum.
 */
export function aggregateAnswers(first: StudyInput, answers: readonly Counts[]): StudyInput {
  if (answers.length < 2) return first;
  return {
    ...first,
    numSeries: sumOf(answers.map((a) => a.numSeries)),
    numInstances: sumOf(answers.map((a) => a.numInstances)),
  };
}

/** A900: Identifier does not match SOP Class (e.g. a key from another level). */
const IDENTIFIER_DOES_NOT_MATCH = 0xa900;

const UID_KEYWORD: Record<QueryLevel, string> = {
  PATIENT: 'PatientID',
  STUDY: 'StudyInstanceUID',
  SERIES: 'SeriesInstanceUID',
  IMAGE: 'SOPInstanceUID',
};

const patientKey = (s: StudyInput): string =>
  `${s.patientId ?? ''}\u0000${typeof s.attrs?.IssuerOfPatientID === 'string' ? s.attrs.IssuerOfPatientID : ''}`;

export async function inventoryDimse(o: DimseInventoryOptions): Promise<DimseOutcome> {
  if (o.model !== 'study') {
    throw new Error('inventory: only the Study Root model is supported (source.queryModel: study-root)');
  }
  const pool = new FindPool(o.peer, { model: o.model, size: o.associations, findLimit: o.findLimit });
  const tree = new QueryTree(o.store, o.runId, (level, m) => valueOf(m, UID_KEYWORD[level]) ?? undefined);
  const queue = new TaskQueue();
  const seen = new Map<string, Seen>();
  const modalities = new Set<string>(DEFINED_MODALITIES);
  const counts = { listed: 0, series: 0, instances: 0, all: 0, dated: 0, undated: 0 };
  /** Study-level keys the source refused (A900): asked no more in this run. */
  const droppedKeys: string[] = [];
  let seriesCovered = true;
  let instancesCovered = true;
  const onAbort = () => queue.stop();
  o.signal?.addEventListener('abort', onAbort);

  const progress = () =>
    o.onProgress?.({
      studiesFound: seen.size,
      studiesListed: counts.listed,
      series: counts.series,
      instances: counts.instances,
      queries: pool.sent,
      capped: tree.stats.capped,
    });

  const characters = { PatientName: [] as Set<string>[], PatientID: [] as Set<string>[] };
  const noteCharacters = (key: 'PatientName' | 'PatientID', value: string | null | undefined): void => {
    const chars = [...(value ?? '')].slice(0, o.maxPrefix ?? DEFAULT_MAX_PREFIX);
    chars.forEach((c, i) =>
      (characters[key][i] ??= new Set()).add(key === 'PatientName' ? c.toUpperCase() : c),
    );
  };
  const splitContext = (answer: readonly SmallDataset[]): SplitContext => ({
    today: o.today,
    characters,
    maxPrefix: o.maxPrefix,
    modalities: [...modalities],
    observed: {
      PatientName: answer.map((m) => valueOf(m, 'PatientName') ?? ''),
      PatientID: answer.map((m) => valueOf(m, 'PatientID') ?? ''),
      modalities: answer.flatMap((m) => (valueOf(m, 'ModalitiesInStudy') ?? '').split('\\')),
    },
  });

  const aggregated = (uid: string): StudyInput => {
    const e = seen.get(uid)!;
    return aggregateAnswers(e.study, [...e.patients.values()]);
  };

  const listStudy = async (uid: string): Promise<void> => {
    // The answers seen by now (every answer of the query that found it, at least) are added up.
    const study = aggregated(uid);
    seen.get(uid)!.listed = true;
    const d = await detailStudy(
      { pool, tree, findings: o.findings, clock: o.clock, maxEnumeration: o.maxEnumeration, droppedKeys },
      study,
    );
    seriesCovered &&= d.seriesCovered;
    instancesCovered &&= d.instancesCovered;
    counts.listed++;
    counts.series += d.series.length;
    counts.instances += d.instances.length;
    await o.flusher.add(d.study, d.series, d.instances);
    progress();
  };

  /** Returns false for an answer without StudyInstanceUID (the caller records it). */
  const onStudy = (m: SmallDataset, node: StudyNode): boolean => {
    const s = studyFromMatch(m, o.extraKeys);
    if (!s) return false;
    for (const code of (s.modalitiesInStudy as string | null | undefined)?.split('\\') ?? [])
      if (code.trim()) modalities.add(code.trim().toUpperCase());
    noteCharacters('PatientName', s.patientName);
    noteCharacters('PatientID', s.patientId);
    const prev = seen.get(s.studyUid);
    if (prev) {
      if (node.pass === 'dated') prev.dated = true;
      const pk = patientKey(s);
      if (!prev.patients.has(pk)) {
        prev.patients.set(pk, { numSeries: s.numSeries, numInstances: s.numInstances });
        if (prev.listed) prev.late = true;
        o.findings.add('inventory.study-in-several-patients', { patients: prev.patients.size }, s.studyUid);
      }
      return true;
    }
    seen.set(s.studyUid, {
      patients: new Map([[patientKey(s), { numSeries: s.numSeries, numInstances: s.numInstances }]]),
      study: s,
      dated: node.pass === 'dated',
      hasDate: parseDA(typeof s.studyDate === 'string' ? s.studyDate : undefined) !== undefined,
      listed: false,
      late: false,
    });
    queue.push(() => listStudy(s.studyUid), true);
    return true;
  };

  const runNode = async (node: StudyNode, parent: QueryNode | undefined): Promise<void> => {
    const keys = matchingKeys(node);
    const standardOnly = droppedKeys.length > 0;
    const identifierKeys: Record<string, string> = {
      ...returnKeys('STUDY', o.extraKeys, standardOnly),
      ...keys,
    };
    if (needsUtf8(keys)) identifierKeys.SpecificCharacterSet = 'ISO_IR 192';
    const issuedAt = o.clock.now();
    const answer = await pool.find(buildIdentifier('STUDY', identifierKeys));
    if (answer.kind === 'failed' && answer.status === IDENTIFIER_DOES_NOT_MATCH && !standardOnly) {
      // A strict archive refuses keys that are not study-level keys: ask again without them.
      if (droppedKeys.length === 0) droppedKeys.push(...STUDY_NONSTANDARD_KEYS, ...o.extraKeys);
      return runNode(node, parent);
    }
    counts[node.pass]++;
    const rec = await tree.record('STUDY', { ...keys, pass: node.pass }, answer, parent, issuedAt);
    // An answer without StudyInstanceUID cannot be listed: a finding with the query's id and the
    // answer's index (its keys may hold patient data: not recorded), and the query is not covered.
    const withoutUid: number[] = [];
    answer.matches.forEach((m, i) => onStudy(m, node) || withoutUid.push(i));
    for (const i of withoutUid)
      o.findings.add('inventory.match-without-uid', {
        level: 'STUDY',
        queryId: rec.id,
        answerIndex: i,
        answers: answer.matches.length,
      });
    if (withoutUid.length > 0)
      await tree.residual(
        rec,
        `answer(s) ${withoutUid.join(', ')} of ${answer.matches.length} without StudyInstanceUID: not listed`,
        { withoutUid: withoutUid.length },
      );
    progress();
    if (answer.kind === 'failed') {
      o.findings.add('inventory.query-failed', { level: 'STUDY', queryId: rec.id, error: answer.error });
      return;
    }
    if (answer.kind !== 'capped') return;
    const ctx = splitContext(answer.matches);
    const parts =
      node.pass === 'all' ? splitRoot(ctx, o.undatedKeys) : (splitNode(node, ctx)?.children ?? []);
    if (node.pass === 'all' && o.undatedKeys.length === 0)
      await tree.residual(rec, 'studies without a StudyDate are not listed (no undated keys)', {
        undated: true,
      });
    if (parts.length === 0) {
      o.findings.add('inventory.unsplittable', { level: 'STUDY', queryId: rec.id });
      return;
    }
    for (const child of parts) queue.push(() => runNode(child, rec));
  };

  try {
    queue.push(() => runNode({ pass: 'all', constraints: {}, dims: [] }, undefined));
    await queue.run(o.associations);
    // Capped study-level queries whose parts missed some of their own answer (only once all parts ran).
    for (const root of queue.isStopped ? [] : tree.roots.filter((r) => r.level === 'STUDY')) {
      for (const node of QueryTree.capped(root)) {
        const leaked = await tree.checkSplit(node);
        if (leaked > 0) o.findings.add('inventory.split-leak', { level: 'STUDY', queryId: node.id, leaked });
      }
    }
  } finally {
    o.signal?.removeEventListener('abort', onAbort);
    await pool.close();
  }

  // A patient's answer that came after its study was listed (another split part): the study's
  // reported counts are rewritten with every answer added up (a refinement within this run).
  for (const [uid, e] of seen)
    if (e.late) {
      const a = aggregated(uid);
      await o.flusher.add({ studyUid: uid, numSeries: a.numSeries, numInstances: a.numInstances }, [], []);
    }
  // Parts no split could list may still be proven by the source's own totals (patient-totals.ts).
  const uncovered = tree.roots.some((r) => r.level === 'STUDY' && !QueryTree.covered(r));
  if (uncovered && !queue.isStopped) {
    const found = new Map<string, number>();
    for (const e of seen.values()) for (const k of e.patients.keys()) found.set(k, (found.get(k) ?? 0) + 1);
    const t = await proveByPatientTotals({
      peer: o.peer,
      findLimit: o.findLimit,
      tree,
      found,
      signal: o.signal,
    });
    if (t.proven > 0 || t.unproven > 0) o.findings.add('inventory.proven-by-totals', { ...t });
  }
  const studyRoots = tree.roots.filter((r) => r.level === 'STUDY');
  const studiesCovered =
    !queue.isStopped && studyRoots.length > 0 && studyRoots.every((r) => QueryTree.covered(r));
  const rootCapped = studyRoots.some((r) => r.capped);
  let undated = 0;
  for (const [uid, s] of seen) {
    if (!s.hasDate) undated++;
    else if (rootCapped && !s.dated && !queue.isStopped) o.findings.add('inventory.date-gap', {}, uid);
  }
  return {
    tree,
    studiesCovered,
    seriesCovered: studiesCovered && seriesCovered,
    instancesCovered: studiesCovered && seriesCovered && instancesCovered,
    studies: seen.size,
    series: counts.series,
    instances: counts.instances,
    undatedStudies: undated,
    studyQueries: { all: counts.all, dated: counts.dated, undated: counts.undated },
    associations: pool.associations,
    droppedKeys,
    stopped: queue.isStopped,
  };
}
