/**
 * C-FIND over the archive: the identifier is checked against the model (level, unique keys above
 * the level, no keys below it), matched against the hierarchy (PS3.4 C.2.2.2, matching.ts), and
 * each match becomes a response identifier with every requested key (empty when unknown).
 */
import { vrOf, keywordOf } from '../dicom/keyword.js';
import { type SmallDataset, str } from '../dicom/small-dataset.js';
import type { QueryLevel, QueryModel } from '../net/services/sop-classes.js';
import { type Result, err, ok } from '../util/result.js';
import {
  BINARY_NUMBER_VRS,
  INSTANCE_AVAILABILITY,
  QUERY_RETRIEVE_LEVEL,
  RETRIEVE_AE_TITLE,
  SPECIFIC_CHARACTER_SET,
  attributeByTag,
  levelRank,
} from './attributes.js';
import { type Entity, entityValue } from './entities.js';
import type { Hierarchy, StudySummary } from './hierarchy.js';
import type { ArchiveIndex } from './index-db.js';
import { MODEL_LEVELS, UNIQUE_KEY, effectiveLevel, isQueryLevel } from './levels.js';
import { type Matcher, compileMatcher, isSingleValue } from './matching.js';

/** A request the archive refuses: the DIMSE status and a comment (no patient data). */
export interface QueryFailure {
  status: number;
  comment: string;
}

/** A900: Identifier does not match SOP Class. */
export const IDENTIFIER_MISMATCH = 0xa900;

export interface QueryKey {
  tag: number;
  keyword: string;
  /** The VR the response uses (the dictionary's for attributes the archive knows). */
  vr: string;
  query: string;
  /** Undefined for keys the archive neither matches nor returns (they come back empty). */
  level?: QueryLevel;
  matcher?: Matcher;
}

export interface ParsedQuery {
  model: QueryModel;
  level: QueryLevel;
  keys: QueryKey[];
  /** Some key is not supported for matching or return (C-FIND answers FF01). */
  unsupportedKeys: boolean;
  /** The request asked for (0008,0005). */
  charsetRequested: boolean;
  retrieveAeRequested: boolean;
  availabilityRequested: boolean;
}

export interface QueryOptions {
  /**
   * Accept keys below the query level (ignored) and missing unique keys above it (searching the
   * whole archive), as lenient archives do. Default false: baseline hierarchical behaviour.
   */
  relational?: boolean;
}

/** Elements the archive handles itself, never as matching keys. */
const SPECIAL = new Set([
  QUERY_RETRIEVE_LEVEL,
  SPECIFIC_CHARACTER_SET,
  RETRIEVE_AE_TITLE,
  INSTANCE_AVAILABILITY,
]);

const fail = (comment: string, status = IDENTIFIER_MISMATCH): { ok: false; error: QueryFailure } =>
  err({ status, comment });

/**
 * Check and compile an identifier. For a retrieve (C-MOVE, C-GET) only unique keys select, and
 * the unique key of the retrieve level must be given (one value or a list).
 */
export function parseQuery(
  model: QueryModel,
  identifier: SmallDataset,
  purpose: 'find' | 'retrieve',
  opts: QueryOptions = {},
): Result<ParsedQuery, QueryFailure> {
  const levelValue = str(identifier, QUERY_RETRIEVE_LEVEL).trim().toUpperCase();
  if (!isQueryLevel(levelValue))
    return fail(`QueryRetrieveLevel (0008,0052) missing or invalid: "${levelValue.slice(0, 16)}"`);
  const levels = MODEL_LEVELS[model];
  if (!levels.includes(levelValue)) return fail(`${levelValue} level is not part of the ${model} root model`);
  const level = levelValue;
  const rank = levelRank(level);
  const uniqueTags = new Map(levels.map((l) => [UNIQUE_KEY[l].tag, l]));
  const keys: QueryKey[] = [];
  let unsupportedKeys = false;
  for (const [tag, el] of identifier) {
    if (SPECIAL.has(tag) || tag >>> 16 === 0x0002 || tag >>> 16 === 0 || (tag & 0xffff) === 0) continue;
    const attr = attributeByTag.get(tag);
    const query = el.vr === 'SQ' ? '' : str(identifier, tag).trim();
    const keyword = attr?.keyword ?? keywordOf(tag);
    const vr = attr?.vr ?? (el.vr && el.vr !== 'UN' ? el.vr : vrOf(tag));
    if (!attr || el.vr === 'SQ') {
      unsupportedKeys = true;
      keys.push({ tag, keyword, vr: el.vr === 'SQ' ? 'SQ' : vr, query });
      continue;
    }
    const keyLevel = effectiveLevel(model, attr.level);
    if (levelRank(keyLevel) > rank) {
      if (!opts.relational && purpose === 'find') return fail(`${keyword} is below the ${level} level`);
      keys.push({ tag, keyword, vr, query });
      continue;
    }
    const unique = uniqueTags.get(tag);
    if (purpose === 'retrieve' && unique === undefined) {
      keys.push({ tag, keyword, vr, query }); // not a selecting key for a retrieve
      continue;
    }
    keys.push({ tag, keyword, vr, query, level: keyLevel, matcher: compileMatcher(vr, query) });
  }
  // Unique keys: one value at each level above; at the retrieve level, a value or a list.
  for (const l of levels.slice(0, levels.indexOf(level) + 1)) {
    const u = UNIQUE_KEY[l];
    const k = keys.find((x) => x.tag === u.tag);
    const given = k !== undefined && k.query !== '';
    if (l !== level) {
      if (!given) {
        if (opts.relational) continue;
        return fail(`a ${level}-level request needs a single ${u.keyword} (${l} level)`);
      }
      if (!isSingleValue(u.vr, k.query) && !opts.relational)
        return fail(`${u.keyword} above the ${level} level must be a single value`);
    } else if (purpose === 'retrieve') {
      if (!given || /[*?]/.test(k.query))
        return fail(`a ${level}-level retrieve needs ${u.keyword} (one value or a list)`);
    }
  }
  return ok({
    model,
    level,
    keys,
    unsupportedKeys,
    charsetRequested: identifier.has(SPECIFIC_CHARACTER_SET),
    retrieveAeRequested: identifier.has(RETRIEVE_AE_TITLE),
    availabilityRequested: identifier.has(INSTANCE_AVAILABILITY),
  });
}

const matchesAt = (e: Entity, keys: readonly QueryKey[], level: QueryLevel): boolean =>
  keys.every((k) => k.level !== level || !k.matcher || k.matcher.test(entityValue(e, k.keyword)));

/** UIDs listed by a uid-list key, or undefined when the key is universal or absent. */
function uidsOf(keys: readonly QueryKey[], tag: number): string[] | undefined {
  const k = keys.find((x) => x.tag === tag);
  if (!k || !k.matcher || k.matcher.kind !== 'uid-list') return undefined;
  return k.query
    .split('\\')
    .map((s) => s.trim())
    .filter(Boolean);
}

/** Studies to consider: in the patient root, reached through the patients matching the patient keys. */
function candidateStudies(h: Hierarchy, q: ParsedQuery): Entity[] {
  const uids = uidsOf(q.keys, UNIQUE_KEY.STUDY.tag);
  const wanted = uids ? new Set(uids) : undefined;
  if (q.model === 'patient') {
    const out: Entity[] = [];
    for (const p of h.patients()) {
      if (!matchesAt({ level: 'PATIENT', patient: p }, q.keys, 'PATIENT')) continue;
      for (const st of p.studies)
        if (!wanted || wanted.has(st.uid)) out.push({ level: 'STUDY', patient: p, study: st });
    }
    return out;
  }
  const studies = uids
    ? uids.map((u) => h.study(u)).filter((s): s is StudySummary => s !== undefined)
    : h.allStudies();
  return studies.map((study) => ({ level: 'STUDY', study }));
}

/** The entities matching a parsed query, in index order. */
export function search(h: Hierarchy, index: ArchiveIndex, q: ParsedQuery): Entity[] {
  const { keys } = q;
  if (q.level === 'PATIENT') {
    return h
      .patients()
      .map((p): Entity => ({ level: 'PATIENT', patient: p }))
      .filter((e) => matchesAt(e, keys, 'PATIENT'));
  }
  const studies = candidateStudies(h, q).filter(
    (e) => matchesAt(e, keys, 'PATIENT') && matchesAt(e, keys, 'STUDY'),
  );
  if (q.level === 'STUDY') return studies;
  const seriesUids = uidsOf(keys, UNIQUE_KEY.SERIES.tag);
  const series: Entity[] = [];
  for (const s of studies) {
    const list = seriesUids
      ? seriesUids.map((u) => s.study!.series.get(u)).filter((x) => x !== undefined)
      : [...s.study!.series.values()];
    // In the patient root, only the series holding this patient's instances.
    const part = s.patient ? s.study!.patients.get(s.patient.patientId) : undefined;
    for (const se of list) {
      if (part && !part.series.has(se.uid)) continue;
      const e: Entity = { level: 'SERIES', patient: s.patient, study: s.study, series: se };
      if (matchesAt(e, keys, 'SERIES')) series.push(e);
    }
  }
  if (q.level === 'SERIES') return series;
  const images: Entity[] = [];
  const sopUids = uidsOf(keys, UNIQUE_KEY.IMAGE.tag);
  const bySeries = new Map(series.map((e) => [`${e.study!.uid}|${e.series!.uid}`, e]));
  const rows = sopUids
    ? index.primaryWhere('sop_instance_uid', sopUids)
    : index.primaryWhere('series_uid', [...new Set(series.map((e) => e.series!.uid))]);
  for (const row of rows) {
    const parent = bySeries.get(`${row.studyUid}|${row.seriesUid}`);
    if (!parent || (parent.patient && row.patientId !== parent.patient.patientId)) continue;
    const e: Entity = {
      level: 'IMAGE',
      patient: parent.patient,
      study: parent.study,
      series: parent.series,
      row,
    };
    if (matchesAt(e, keys, 'IMAGE')) images.push(e);
  }
  return images;
}

/** An indexed value as an element value: empty is zero-length whatever the VR; binary VRs get numbers. */
function elementValue(vr: string, v: string): string | number | number[] | null {
  if (v === '') return null;
  if (!BINARY_NUMBER_VRS.has(vr)) return v;
  const nums = v.split('\\').map(Number);
  if (nums.some((n) => !Number.isFinite(n))) return null;
  return nums.length === 1 ? nums[0]! : nums;
}

const isNonAscii = (s: string): boolean => [...s].some((c) => c.charCodeAt(0) > 0x7e);

/**
 * The response identifier for one match: every requested key, the unique keys of the level and
 * above, (0008,0005) ISO_IR 192 when a value is not ASCII (responses are encoded in UTF-8).
 */
export function responseIdentifier(q: ParsedQuery, e: Entity, aeTitle: string): SmallDataset {
  const ds: SmallDataset = new Map();
  ds.set(QUERY_RETRIEVE_LEVEL, { vr: 'CS', value: q.level });
  let nonAscii = false;
  for (const k of q.keys) {
    if (k.vr === 'SQ') {
      ds.set(k.tag, { vr: 'SQ', value: [] });
      continue;
    }
    // Keys the archive matches are at or above the level; the others (unsupported, or below the level) come back empty.
    const v = k.level !== undefined ? (entityValue(e, k.keyword) ?? '') : '';
    if (isNonAscii(v)) nonAscii = true;
    ds.set(k.tag, { vr: k.vr, value: elementValue(k.vr, v) });
  }
  const levels = MODEL_LEVELS[q.model];
  for (const l of levels.slice(0, levels.indexOf(q.level) + 1)) {
    const u = UNIQUE_KEY[l];
    if (!ds.has(u.tag)) {
      const v = entityValue(e, u.keyword) ?? '';
      if (isNonAscii(v)) nonAscii = true;
      ds.set(u.tag, { vr: u.vr, value: elementValue(u.vr, v) });
    }
  }
  if (q.retrieveAeRequested) ds.set(RETRIEVE_AE_TITLE, { vr: 'AE', value: aeTitle });
  if (q.availabilityRequested) ds.set(INSTANCE_AVAILABILITY, { vr: 'CS', value: 'ONLINE' });
  if (nonAscii) ds.set(SPECIFIC_CHARACTER_SET, { vr: 'CS', value: 'ISO_IR 192' });
  else if (q.charsetRequested) ds.set(SPECIFIC_CHARACTER_SET, { vr: 'CS', value: '' });
  return ds;
}

/** Run a C-FIND: the response identifiers, or why the request is refused. */
export function find(
  h: Hierarchy,
  index: ArchiveIndex,
  model: QueryModel,
  identifier: SmallDataset,
  aeTitle: string,
  opts: QueryOptions = {},
): Result<{ query: ParsedQuery; matches: SmallDataset[] }, QueryFailure> {
  const q = parseQuery(model, identifier, 'find', opts);
  if (!q.ok) return q;
  const matches = search(h, index, q.value).map((e) => responseIdentifier(q.value, e, aeTitle));
  return ok({ query: q.value, matches });
}
