/**
 * Totals that prove what a capped C-FIND could not list (issue 7 item 5). A study-level part the
 * source capped and no key could split further (typically in the undated pass: many studies of one
 * patient, one modality, one time) is still covered when the source's own totals show nothing is
 * missing: a Patient Root PATIENT-level C-FIND returns each patient's NumberOfPatientRelatedStudies,
 * and when that equals the studies found for every patient the query matched, no study of theirs is
 * hidden.
 *
 * - all patients (the root patient query, PatientID empty) answered completely, and every patient's
 *   total equals what was found (and no study was found under a patient it did not list): every part
 *   is proven, whatever its keys;
 * - otherwise, a part that constrains PatientID (exact or prefix) is proven by the same check on the
 *   patients matching that PatientID, when that patient query is answered completely.
 *
 * A capped or failed patient query proves nothing; neither does a patient without a total.
 */
import type { SmallDataset } from '../dicom/small-dataset.js';
import type { Peer } from '../net/peer.js';
import { buildIdentifier } from '../net/services/identifier.js';
import type { Json } from '../state/index.js';
import { FindPool } from './find-pool.js';
import { intOf, valueOf } from './keys.js';
import { QueryTree, type QueryNode } from './tree.js';

export interface TotalsOptions {
  readonly peer: Peer;
  readonly findLimit?: number;
  readonly tree: QueryTree;
  /** Studies found per patient key (PatientID NUL IssuerOfPatientID), each study under every patient it was answered for. */
  readonly found: ReadonlyMap<string, number>;
  readonly signal?: AbortSignal;
}

export interface TotalsOutcome {
  /** Uncovered study-level parts proven by totals. */
  readonly proven: number;
  readonly unproven: number;
  /** Patient-level queries issued. */
  readonly queries: number;
}

type Check = { ok: true; patients: number; studies: number } | { ok: false; why: string };

const keyOf = (m: SmallDataset): string =>
  `${valueOf(m, 'PatientID') ?? ''}\u0000${valueOf(m, 'IssuerOfPatientID') ?? ''}`;

/** Patients matching `patientId` ('' = all): do their totals equal what was found? */
async function checkPatients(
  pool: FindPool,
  patientId: string,
  o: TotalsOptions,
  all: boolean,
): Promise<Check> {
  const a = await pool.find(
    buildIdentifier('PATIENT', {
      PatientID: patientId,
      IssuerOfPatientID: '',
      NumberOfPatientRelatedStudies: '',
    }),
  );
  if (a.kind !== 'complete')
    return {
      ok: false,
      why: a.kind === 'capped' ? `patient query capped (${a.why})` : `patient query failed: ${a.error}`,
    };
  const listed = new Set<string>();
  let studies = 0;
  for (const m of a.matches) {
    const k = keyOf(m);
    const total = intOf(valueOf(m, 'NumberOfPatientRelatedStudies'));
    if (total === null || total === undefined)
      return { ok: false, why: 'a patient without NumberOfPatientRelatedStudies' };
    if (total !== (o.found.get(k) ?? 0))
      return { ok: false, why: 'a patient total differs from the studies found' };
    listed.add(k);
    studies += total;
  }
  if (all && [...o.found.keys()].some((k) => !listed.has(k)))
    return { ok: false, why: 'studies were found under a patient the patient query did not list' };
  return { ok: true, patients: listed.size, studies };
}

const patientIdOf = (node: QueryNode): string | undefined => {
  const part = node.params.residual === true && node.parent ? node.parent : node;
  const v: Json | undefined = part.params.PatientID;
  return typeof v === 'string' && v !== '' && v !== '*' ? v : undefined;
};

/** Proves the uncovered study-level leaves of `tree` by patient totals where it can (see above). */
export async function proveByPatientTotals(o: TotalsOptions): Promise<TotalsOutcome> {
  const leaves = o.tree.roots.filter((r) => r.level === 'STUDY').flatMap((r) => QueryTree.uncoveredLeaves(r));
  if (leaves.length === 0) return { proven: 0, unproven: 0, queries: 0 };
  const pool = new FindPool(o.peer, { model: 'patient', size: 1, findLimit: o.findLimit });
  const cache = new Map<string, Check>();
  const check = async (patientId: string): Promise<Check> => {
    let c = cache.get(patientId);
    if (!c) cache.set(patientId, (c = await checkPatients(pool, patientId, o, patientId === '')));
    return c;
  };
  let proven = 0;
  try {
    const global = await check('');
    for (const leaf of leaves) {
      if (o.signal?.aborted) break;
      const pid = global.ok ? undefined : patientIdOf(leaf);
      const c = global.ok ? global : pid ? await check(pid) : undefined;
      if (!c?.ok) continue;
      await o.tree.proof(
        leaf,
        `${global.ok ? 'every patient' : 'every patient matching its PatientID'}: ${c.studies} studies by the source's NumberOfPatientRelatedStudies, all found`,
        { patients: c.patients, studies: c.studies, scope: global.ok ? 'all' : 'PatientID' },
      );
      proven++;
    }
  } finally {
    await pool.close();
  }
  return { proven, unproven: leaves.length - proven, queries: cache.size };
}
