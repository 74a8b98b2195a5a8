/**
 * Patient identity: one PatientID (with its issuer) carrying different names, birth dates or sexes;
 * one PatientID shared by people whose names have no word in common (a placeholder ID); the same name
 * and birth date under different PatientIDs (a missed merge); studies without PatientID or issuer.
 * Values are compared normalised (case, spaces, ^ padding). Findings name groups by pseudonym; the
 * values themselves appear only with logPhi.
 */
import type { Evidence, Observation } from '../evidence.js';
import { groupKey, isPlaceholderName, looksLikePlaceholder, nameWords, pseudonym } from '../normalise.js';
import { finding, type CheckContext, type Finding } from './context.js';

interface Group {
  readonly patientId: string;
  readonly issuer: string;
  readonly observations: Observation[];
}

/**
 * Observations grouped by PatientID + issuer. An unknown or empty issuer joins the PatientID's only
 * non-empty one (a copy that lacks the issuer is not another patient); different non-empty issuers
 * are different patients.
 */
export function patientGroups(ev: Evidence): Map<string, Group> {
  const all = [...ev.observations.values()].flatMap((m) => [...m.values()]);
  const issuers = new Map<string, Set<string>>();
  for (const o of all)
    if (o.patientId && o.issuer)
      issuers.set(o.patientId, (issuers.get(o.patientId) ?? new Set()).add(o.issuer));
  const groups = new Map<string, Group>();
  for (const o of all) {
    if (!o.patientId) continue;
    const known = issuers.get(o.patientId);
    const issuer = o.issuer || (known && known.size === 1 ? [...known][0]! : '');
    const key = groupKey(o.patientId, issuer);
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { patientId: o.patientId, issuer, observations: [] }));
    g.observations.push(o);
  }
  return groups;
}

/** Distinct known values of one field, with the studies carrying each. */
function valuesOf(
  obs: readonly Observation[],
  field: 'name' | 'birthDate' | 'sex',
): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  for (const o of obs) {
    const v = o[field];
    if (v === undefined) continue;
    out.set(v, (out.get(v) ?? new Set()).add(o.studyUid));
  }
  return out;
}

/**
 * People in a group: identities (name, birth date) joined when their names share a word or their
 * birth dates are equal and known. More than one: the ID is shared by unrelated people.
 */
export function peopleOf(obs: readonly Observation[]): { name: string; birthDate: string }[][] {
  const ids = new Map<string, { name: string; birthDate: string }>();
  for (const o of obs) {
    if (!o.name) continue; // an unknown or empty name is nobody in particular
    const id = { name: o.name, birthDate: o.birthDate ?? '' };
    ids.set(JSON.stringify(id), id);
  }
  const list = [...ids.values()];
  const parent = list.map((_, i) => i);
  const find = (i: number): number => (parent[i] === i ? i : (parent[i] = find(parent[i]!)));
  for (let i = 0; i < list.length; i++)
    for (let j = i + 1; j < list.length; j++) {
      const a = list[i]!;
      const b = list[j]!;
      const wa = nameWords(a.name);
      const shareWord = [...nameWords(b.name)].some((w) => wa.has(w));
      const sameBirth = a.birthDate !== '' && a.birthDate === b.birthDate;
      if (shareWord || sameBirth) parent[find(i)] = find(j);
    }
  const clusters = new Map<number, { name: string; birthDate: string }[]>();
  list.forEach((id, i) => clusters.set(find(i), [...(clusters.get(find(i)) ?? []), id]));
  return [...clusters.values()];
}

export function checkPatients(ev: Evidence, c: CheckContext): Finding[] {
  const out: Finding[] = [];
  const groups = patientGroups(ev);
  for (const [key, g] of groups) {
    const subject = pseudonym(c.secret, key);
    const studies = new Set(g.observations.map((o) => o.studyUid));
    const phi = (extra: Record<string, unknown>) =>
      c.logPhi ? { patientId: g.patientId, issuer: g.issuer, ...extra } : {};
    for (const [field, code] of [
      ['name', 'PATIENT_NAME_CONFLICT'],
      ['birthDate', 'PATIENT_BIRTHDATE_CONFLICT'],
      ['sex', 'PATIENT_SEX_CONFLICT'],
    ] as const) {
      const values = valuesOf(g.observations, field);
      if (values.size < 2) continue;
      const involved = new Set([...values.values()].flatMap((s) => [...s]));
      out.push(
        finding(code, subject, involved, {
          distinctValues: values.size,
          includesEmpty: values.has(''),
          studiesPerValue: [...values.values()].map((s) => s.size).sort((a, b) => b - a),
          ...(phi({ values: [...values.keys()].sort() }) as object),
        }),
      );
    }
    const people = peopleOf(g.observations);
    if (people.length > 1)
      out.push(
        finding('PATIENT_ID_SHARED', subject, studies, {
          people: people.length,
          placeholderLike: looksLikePlaceholder(g.patientId),
          ...(phi({
            identities: people.map((p) => p.map((i) => `${i.name} ${i.birthDate}`.trim())),
          }) as object),
        }),
      );
  }

  // The same person (name and birth date, both known and not placeholders) under several IDs.
  const persons = new Map<string, { ids: Set<string>; studies: Set<string> }>();
  for (const [key, g] of groups)
    for (const o of g.observations) {
      if (!o.name || !o.birthDate || isPlaceholderName(o.name)) continue;
      const k = `${o.name}\u0000${o.birthDate}`;
      const p = persons.get(k) ?? { ids: new Set<string>(), studies: new Set<string>() };
      p.ids.add(key);
      p.studies.add(o.studyUid);
      persons.set(k, p);
    }
  for (const [k, p] of persons) {
    if (p.ids.size < 2) continue;
    const ids = [...p.ids].sort();
    out.push(
      finding(
        'PATIENT_LIKELY_MISSED_MERGE',
        pseudonym(c.secret, `person\u0000${k}`).replace('pid#', 'person#'),
        p.studies,
        {
          patientIds: ids.map((i) => pseudonym(c.secret, i)),
          ...(c.logPhi ? { values: ids.map((i) => i.split('\u0000')[0]!) } : {}),
        },
      ),
    );
  }

  // One PatientID reported with and without an issuer, or with several.
  const byId = new Map<string, Observation[]>();
  for (const m of ev.observations.values())
    for (const o of m.values())
      if (o.patientId && o.issuer !== undefined) byId.set(o.patientId, [...(byId.get(o.patientId) ?? []), o]);
  for (const [id, obs] of byId) {
    const issuers = new Set(obs.map((o) => o.issuer!));
    if (issuers.size < 2) continue;
    out.push(
      finding(
        'PATIENT_ISSUER_CONFLICT',
        pseudonym(c.secret, groupKey(id, '*')),
        obs.map((o) => o.studyUid),
        {
          issuers: issuers.size,
          includesEmpty: issuers.has(''),
          ...(c.logPhi ? { patientId: id, values: [...issuers].sort() } : {}),
        },
      ),
    );
  }

  // Per study: no PatientID; no issuer (as the inventory reported it). An empty PatientID in a study
  // under several patients is an inconsistent identity (STUDY_MULTI_PATIENT), not a missing one.
  const multi = multiPatientStudies(ev);
  for (const [studyUid, m] of ev.observations) {
    const obs = [...m.values()];
    if (obs.some((o) => o.patientId === '') && !multi.has(studyUid))
      out.push(
        finding('PATIENT_ID_MISSING', studyUid, [studyUid], {
          sources: [...new Set(obs.filter((o) => o.patientId === '').flatMap((o) => [...o.sources]))].sort(),
        }),
      );
    const inv = obs.filter((o) => o.sources.has('inventory'));
    if (inv.length > 0 && inv.every((o) => o.issuer === '') && obs.every((o) => !o.issuer))
      out.push(finding('ISSUER_MISSING', studyUid, [studyUid]));
  }
  return out;
}

/** The inventory's study-in-several-patients events: study → the most patients it counted. */
export function reportedPatients(ev: Evidence): Map<string, number> {
  const reported = new Map<string, number>();
  for (const e of ev.events)
    if (e.kind === 'inventory.study-in-several-patients' && e.studyUid) {
      const n =
        typeof e.detail === 'object' && e.detail && !Array.isArray(e.detail) ? Number(e.detail.patients) : 2;
      reported.set(e.studyUid, Math.max(reported.get(e.studyUid) ?? 0, Number.isFinite(n) ? n : 2));
    }
  return reported;
}

export interface MultiPatient {
  readonly patients: number;
  /** Patient group keys seen in the study (an empty PatientID is one of its own). */
  readonly keys: Set<string>;
  readonly withoutPatientId: boolean;
  readonly reported: boolean;
}

/**
 * Studies under more than one patient. The groups a study's observations fall in count, and an empty
 * PatientID beside a non-empty one counts as another identity. The inventory's count (it keys
 * PatientID + issuer as answered) counts too: when a header of every series was read, only less the
 * pairs the headers show to be one patient (a copy without the issuer); a header per series does not
 * see every instance, so the inventory's word never simply disappears.
 */
export function multiPatientStudies(
  ev: Evidence,
  reported: ReadonlyMap<string, number> = reportedPatients(ev),
): Map<string, MultiPatient> {
  const keysOfStudy = new Map<string, Set<string>>();
  const addKey = (studyUid: string, key: string) =>
    keysOfStudy.set(studyUid, (keysOfStudy.get(studyUid) ?? new Set()).add(key));
  for (const [key, g] of patientGroups(ev)) for (const o of g.observations) addKey(o.studyUid, key);
  const empty = new Set<string>();
  /** Study → PatientID → the issuers it was seen with (known ones only). */
  const issuers = new Map<string, Map<string, Set<string>>>();
  for (const [uid, m] of ev.observations)
    for (const o of m.values()) {
      if (o.patientId === '') empty.add(uid);
      if (!o.patientId || o.issuer === undefined) continue;
      const byId = issuers.get(uid) ?? new Map<string, Set<string>>();
      byId.set(o.patientId, (byId.get(o.patientId) ?? new Set()).add(o.issuer));
      issuers.set(uid, byId);
    }
  // PatientIDs seen with and without their one issuer: two to the inventory, one patient here.
  const mergedIn = (uid: string) =>
    [...(issuers.get(uid)?.values() ?? [])].filter((s) => s.has('') && s.size === 2).length;
  const out = new Map<string, MultiPatient>();
  for (const uid of new Set([...keysOfStudy.keys(), ...reported.keys()])) {
    const keys = new Set(keysOfStudy.get(uid) ?? []);
    const withoutPatientId = empty.has(uid);
    if (withoutPatientId) keys.add(groupKey('', ''));
    const series = [...(ev.studies.get(uid)?.series ?? [])];
    const covered = series.length > 0 && series.every((s) => ev.seriesWithHeaders.has(s));
    const inventory = (reported.get(uid) ?? 0) - (covered ? mergedIn(uid) : 0);
    const patients = Math.max(keys.size, inventory);
    if (patients >= 2) out.set(uid, { patients, keys, withoutPatientId, reported: reported.has(uid) });
  }
  return out;
}
