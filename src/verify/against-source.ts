/**
 * The target compared with what the source holds, not only with what arrived. The expected side of verification
 * is the copy that passed through pacshift (pass-through.ts); a copy that was not the source's — sent to our
 * listener by someone else under the source's AE title — would verify against itself. So the identifying values
 * of each copy are also checked against the source's own inventory (its C-FIND answers for the study): a
 * PatientID the source does not hold for that study, and that no correction of ours wrote (the transform audit
 * trail), is an attribute mismatch "not what the source holds". The inventory keeps one PatientID per study,
 * and a study can hold several (Orthanc answers it once per patient): a value the inventory does not know is
 * checked with a fresh IMAGE-level C-FIND for that instance to the source (`askSource`), and only a PatientID the
 * source does not answer either is a mismatch.
 */
import { str } from '../dicom/small-dataset.js';
import { type Peer, openChannel } from '../net/peer.js';
import { cFindAll } from '../net/services/find-scu.js';
import { buildIdentifier } from '../net/services/identifier.js';
import { QR, UNCOMPRESSED_LE } from '../net/services/sop-classes.js';
import type { Instance, Store } from '../state/index.js';
import { UNAUTHENTICATED_ARRIVAL } from '../transfer/listener-book.js';
import { canRepresent } from './repertoire.js';
import type { AttributeDifference } from './types.js';

/**
 * The audit event of one element a correction changed (src/transform/audit.ts TRANSFORM_EVENT; verify may not
 * import transform, which imports verify: the test checks the two are the same).
 */
export const CORRECTION_EVENT = 'transform.change';

/** Inventory column → keyword, for the values the study row holds from the source's C-FIND answers. */
const STUDY_KEYS: readonly {
  keyword: string;
  of: (s: NonNullable<Awaited<ReturnType<Store['getStudy']>>>) => string | null;
}[] = [{ keyword: 'PatientID', of: (s) => s.patientId }];

const norm = (v: unknown): string =>
  typeof v === 'string' ? v.replace(/[\s\0]+$/, '').trim() : String(v ?? '');

/** SOP Instance UID → the identifying keywords whose recorded value the source's inventory contradicts. */
export async function sourceDisagreements(
  store: Store,
  studyUid: string,
  instances: readonly Instance[],
  askSource?: (i: Instance) => Promise<SourceAnswer | undefined>,
): Promise<Map<string, AttributeDifference[]>> {
  const out = new Map<string, AttributeDifference[]>();
  const study = await store.getStudy(studyUid);
  if (!study) return out;
  // Copies our listener accepted on the Move Originator Message ID of our own C-MOVE came from the source; those
  // accepted on their SOP Instance UID alone may not have (src/transfer/listener-book.ts).
  const unauthenticated = new Set(
    (await store.listEvents({ kind: UNAUTHENTICATED_ARRIVAL })).flatMap((e) => e.sopInstanceUid ?? []),
  );
  instances = instances.filter((i) => unauthenticated.has(i.sopInstanceUid));
  if (instances.length === 0) return out;
  // Values our own corrections wrote are expected to differ from the source's.
  const corrected = new Set<string>();
  for (const e of await store.listEvents({ studyUid, kind: CORRECTION_EVENT })) {
    const d = e.detail as { sopInstanceUid?: string; keyword?: string } | null;
    if (d?.sopInstanceUid && d.keyword) corrected.add(`${d.sopInstanceUid}|${d.keyword}`);
  }
  for (const k of STUDY_KEYS) {
    const held = k.of(study);
    if (held === null || norm(held) === '') continue;
    for (const i of instances) {
      const sent = i.header?.[k.keyword];
      if (sent === undefined || corrected.has(`${i.sopInstanceUid}|${k.keyword}`)) continue;
      if (norm(sent) === norm(held)) continue;
      const fresh = askSource ? await askSource(i) : undefined;
      if (fresh?.patientIds.has(norm(sent))) continue;
      // An answer in a character set that cannot hold the value says nothing about it (Orthanc answers Latin-1).
      if (typeof sent === 'string' && fresh && !canRepresent(sent, fresh.charset)) continue;
      out.set(i.sopInstanceUid, [
        ...(out.get(i.sopInstanceUid) ?? []),
        { keyword: k.keyword, seenIn: 'source', withheld: true },
      ]);
    }
  }
  return out;
}

export interface SourceAnswer {
  readonly patientIds: ReadonlySet<string>;
  /** (0008,0005) of the answers. */
  readonly charset: string;
}

/**
 * What the source answers now for one instance (study root, IMAGE level: the PatientID of the patient it files
 * the instance under); undefined when it cannot be asked (patient root needs the PatientID it would tell us; the
 * association or the query failed).
 */
export async function sourcePatientIds(
  peer: Peer,
  model: 'study' | 'patient',
  i: Instance,
): Promise<SourceAnswer | undefined> {
  if (model !== 'study') return undefined;
  const opened = await openChannel(peer, [
    { abstractSyntax: QR.study.find, transferSyntaxes: UNCOMPRESSED_LE },
  ]);
  if (!opened.ok) return undefined;
  try {
    const keys = {
      StudyInstanceUID: i.studyUid,
      SeriesInstanceUID: i.seriesUid,
      SOPInstanceUID: i.sopInstanceUid,
      PatientID: '',
    };
    const r = await cFindAll(opened.value, buildIdentifier('IMAGE', keys), {
      model: 'study',
      timeoutMs: peer.dimseTimeoutMs,
    });
    if (!r.ok) return undefined;
    return {
      patientIds: new Set(r.value.identifiers.map((d) => norm(str(d, 0x00100020)))),
      charset: r.value.identifiers.map((d) => str(d, 0x00080005).trim()).find(Boolean) ?? '',
    };
  } finally {
    if (!opened.value.ended) await opened.value.assoc.release();
  }
}
