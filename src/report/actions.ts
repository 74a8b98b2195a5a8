/**
 * What a failure code asks of the project team, in words for a PACS administrator: DICOM statuses
 * through the status table (src/net/dimse/status.ts), pacshift's own codes from the table below.
 */
import { lookupStatus, type DimseService, type StatusAction } from '../net/dimse/status.js';
import type { NetFailureKind } from '../net/errors.js';

/** The status table's actions, said plainly. */
export const ACTION_TEXT: Readonly<Record<StatusAction, string>> = {
  verify: 'Stored; verification follows.',
  'accept-warning-verify':
    'Accepted with a warning: check the comment and the elements the peer changed; verification compares the content.',
  'retry-backoff':
    'The peer was out of resources: retried with back-off. If it persists, check its storage, licences and association limits, then requeue.',
  quarantine:
    'Data conflict or invalid data: the object is quarantined and never blindly retried. Correct the data (or the rule that changed it), then requeue.',
  'retry-other-syntax-then-quarantine':
    'The peer cannot read the object: one retry in another transfer syntax where the plan allows it, then quarantine.',
  'compare-content':
    'The peer already holds this SOP Instance UID: contents are compared; equal is done, different is a conflict to resolve at the target.',
  'quarantine-capability-gap':
    'The target does not support this SOP class: ask its vendor, or exclude the class with a scope rule.',
  'stop-configuration':
    'Configuration or protocol error (permissions, AE titles, a bug): fix the configuration and requeue; retrying alone will not help.',
  progress: 'In progress.',
  reconcile: 'The retrieve ended with failed sub-operations: the missing instances are retried one by one.',
  'backoff-retry-smaller':
    'The source was out of resources: retried after a back-off, in smaller parts (series, then instances).',
  'stop-run': "Move destination unknown: register pacshift's AE title, host and port at the source.",
  'incomplete-split': 'The peer cut its answer short: the query is split until every part is complete.',
  'resend-commit': 'Storage commitment failed: the instance is sent again and commitment asked again.',
  conflict: 'Storage commitment reports a class/instance conflict: resolve at the target.',
  later: 'The peer asked to try later.',
  none: 'No action.',
};

/** pacshift's own failure codes: what they mean. */
export const CODE_MEANINGS: Readonly<Record<string, string>> = {
  VERIFY_MISSING: 'verification: instances confirmed stored are not at the target',
  VERIFY_DUPLICATE: 'verification: the target holds a SOP Instance UID more than once',
  VERIFY_PIXEL_MISMATCH: 'verification: pixel data at the target differs from what was sent',
  VERIFY_ATTRIBUTE_MISMATCH: 'verification: attributes at the target differ from what was sent',
  VERIFY_UNEXPECTED: 'verification: the target holds instances in the study that were not sent',
  VANISHED: 'the study vanished from the source',
  LEASE_EXPIRED: 'the worker stopped answering',
  CONNECT_FAILED: 'peer unreachable',
  TIMEOUT: 'peer did not answer in time',
  ABORTED: 'association aborted',
  CLOSED: 'connection closed without release',
  NO_RESPONSE: 'no response before the association ended',
  ASSOC_REJECTED: 'association rejected',
  ASSOC_REJECTED_TRANSIENT: 'association rejected for now (peer busy)',
  NO_PRESENTATION_CONTEXT: 'service or SOP class not offered by the peer',
  TLS: 'TLS handshake failed',
  PROTOCOL_ERROR: 'DICOM protocol violation by the peer',
  QUERY_INCOMPLETE: 'C-FIND answers incomplete',
  NO_PATIENT_ID: 'no PatientID recorded for a patient-root query',
  TOO_MANY_SOP_CLASSES: 'more SOP classes than one association can carry',
  LOCAL_IO: 'local file system error',
  LISTENER: 'cannot open the listener for C-MOVE copies',
  LOCAL: 'refused or failed on our side (association rejected by us, local error)',
  UNSENDABLE: 'the instance cannot reach the target unchanged: pacshift did not send it',
  NOT_DELIVERED: 'the source did not deliver instances the inventory lists',
  SPOOL_FULL:
    'the spool had no room: our listener refused instances (0xA700: spool.maxBytes reached, or no space left on the spool disk, ENOSPC)',
  SPOOL_TOO_SMALL: 'an instance is larger than the whole spool (spool.maxBytes): it can never be received',
  UNREADABLE_ARRIVAL:
    'an instance arrived that pacshift cannot read (refused 0xC000, kept in the quarantine)',
  NO_ANSWER: 'the target did not answer a C-STORE (association ended or timed out before its response)',
  ABORTED_BY_OBJECT: 'the target aborts the association on this object, every time it is sent',
  INTERNAL: 'internal error in pacshift while handling the study',
  TARGET_FOLDER: 'the target folder cannot be listed',
  QIDO_UNREADABLE: "the DICOMweb target's QIDO-RS answer is not DICOM JSON",
  WADO_UNREADABLE: "the DICOMweb target's WADO-RS answer is not multipart/related",
};

/** pacshift's own failure codes: what to do. */
export const CODE_ACTIONS: Readonly<Record<string, string>> = {
  VERIFY_MISSING:
    'Instances confirmed stored are not at the target. The study is verified again after a back-off (the target may still be indexing); if they stay missing, requeue the study to send them again, or ask the target administrator.',
  VERIFY_DUPLICATE:
    'The target holds a SOP Instance UID more than once (often a copy under another PatientID). Remove or merge the wrong copy at the target, then verify again.',
  VERIFY_PIXEL_MISMATCH:
    'Pixel data at the target differs from what was sent. Check whether the target recompressed lossily or another copy replaced ours; send again.',
  VERIFY_ATTRIBUTE_MISMATCH:
    'Attributes at the target differ from what was sent (coercion, reconciliation with the RIS, another copy). Compare, correct at the target or send again.',
  VERIFY_UNEXPECTED:
    'The target holds instances in this study that pacshift did not send. Check whether another source or the target itself created them.',
  VANISHED:
    "The study disappeared from the source before it was migrated. Confirm with the source's administrator (deleted, merged or moved to another patient).",
  LEASE_EXPIRED:
    'The worker handling the study stopped answering (crash, overload) until its attempts ran out. Read the log around that time, then requeue.',
  CONNECT_FAILED: 'The peer could not be reached. Check the network, host and port; the study is retried.',
  TIMEOUT: 'The peer did not answer in time. Check its load and the plan timeouts; the study is retried.',
  ABORTED: 'The peer aborted the association. Read its log; the study is retried.',
  CLOSED: 'The connection closed without a release. Check the network and the peer; the study is retried.',
  NO_RESPONSE: 'The association ended before the peer answered. The study is retried.',
  ASSOC_REJECTED: "The peer refused the association. Check the AE titles and the peer's list of known AEs.",
  ASSOC_REJECTED_TRANSIENT:
    'The peer rejected the association as transient (congestion, its limit of associations). The study is retried; lower the associations in the plan if it lasts.',
  NO_PRESENTATION_CONTEXT:
    'The peer does not offer the service or SOP class needed. Check its configuration.',
  TLS: 'The TLS handshake failed. Check certificates, CA and host name.',
  PROTOCOL_ERROR: "The peer broke the DICOM protocol. Keep its log and pacshift's for a bug report.",
  QUERY_INCOMPLETE:
    "The target's C-FIND answers stayed incomplete even for small queries. Raise its result limit.",
  NO_PATIENT_ID:
    'Patient-root queries need the PatientID the transfer recorded: use study-root queries, or check the records.',
  TOO_MANY_SOP_CLASSES:
    'A series holds more SOP classes than one association can carry: verify that series by C-MOVE or by hand.',
  LOCAL_IO:
    'pacshift could not write retrieved copies locally. Check free space and permissions of the spool folder.',
  LISTENER:
    "pacshift could not listen for the source's C-MOVE copies. Check that the plan's local port is free and allowed.",
  LOCAL:
    "Something on pacshift's side failed (see the cause): check the plan's local settings and pacshift's log; the study is not retried blindly.",
  UNSENDABLE:
    'The instance cannot be sent without changing it (see the cause: an odd-length data set whose last element is not its Pixel Data). It is quarantined; correct the file at the source, or send it with a tool that re-encodes it.',
  SPOOL_FULL:
    'Not the source: the study was released without an attempt, its spooled part freed, and retrieved again when the spool had room. Nothing to do if the study ends verified; if it keeps happening, set spool.maxBytes below the free space of the spool disk, or free that disk.',
  SPOOL_TOO_SMALL:
    'Raise spool.maxBytes above the largest instance of the study (the cause names the limit), then requeue the study.',
  UNREADABLE_ARRIVAL:
    "The file as it arrived is in the quarantine (the cause names the reader's finding and the path): compare it with the source's copy. A source that sends data sets it cannot read back itself needs its copy repaired there; otherwise suspect the network path.",
  NOT_DELIVERED:
    "The source answered but did not send every instance the inventory lists, even when asked one by one; each instance's cause is in the failures list. The study is retried; if they stay missing, check them at the source (deleted, offline, unreadable, a SOP class or transfer syntax it cannot send).",
  ABORTED_BY_OBJECT:
    "The target aborted the association on this instance, and again when it was sent alone on a new association: the object itself makes it abort (often a UID it cannot parse). It is quarantined; read the target's log for what it refused, correct the object, then requeue it.",
  NO_ANSWER:
    'The target did not answer C-STORE requests before the association ended or timed out. Check its load, logs and the plan timeouts; the study is retried.',
  INTERNAL:
    'pacshift met an internal error (a bug or an unexpected local I/O error) on this study. Keep the log around that time for a bug report; the study is retried.',
  TARGET_FOLDER:
    'The target folder could not be listed. Check that it exists and that pacshift may read it, then verify again.',
  QIDO_UNREADABLE:
    "The DICOMweb target answered a search with something that is not DICOM JSON. Check the URL (a proxy or login page?) and the target's logs; verification is retried.",
  WADO_UNREADABLE:
    "The DICOMweb target answered a retrieve with something that is not multipart/related. Check the URL and the target's WADO-RS support; verification is retried.",
};

/**
 * The engine records a source's network failure by its kind (src/net/errors.ts): each kind is the
 * code verification records for it (src/verify/failure.ts), which the tables above explain.
 */
export const NET_KIND_CODES: Readonly<Record<NetFailureKind, string>> = {
  'connect-failed': 'CONNECT_FAILED',
  tls: 'TLS',
  timeout: 'TIMEOUT',
  rejected: 'ASSOC_REJECTED',
  aborted: 'ABORTED',
  'protocol-error': 'PROTOCOL_ERROR',
  closed: 'CLOSED',
  'no-presentation-context': 'NO_PRESENTATION_CONTEXT',
  'no-response': 'NO_RESPONSE',
  local: 'LOCAL',
  unsendable: 'UNSENDABLE',
};

/** HTTP_<status> from a DICOMweb peer: meaning and action by status class (and a few statuses of their own). */
export const HTTP_CODES: readonly { match: (status: number) => boolean; meaning: string; action: string }[] =
  [
    {
      match: (n) => n === 401 || n === 403,
      meaning: 'not authorised',
      action:
        "The DICOMweb peer refused pacshift's credentials. Check the plan's authentication, then verify again.",
    },
    {
      match: (n) => n === 404,
      meaning: 'not found',
      action:
        'The DICOMweb peer does not know the URL or the object. Check the base URL; for an object, check that it was stored.',
    },
    {
      match: (n) => n === 408 || n === 429,
      meaning: 'too many requests or request timeout',
      action:
        'The DICOMweb peer asked to slow down: retried after a back-off. Lower the plan concurrency if it persists.',
    },
    {
      match: (n) => n >= 400 && n < 500,
      meaning: 'request refused',
      action: "The DICOMweb peer refused the request. Read its log and check the plan's DICOMweb settings.",
    },
    {
      match: (n) => n >= 500 && n < 600,
      meaning: 'server error',
      action: 'The DICOMweb peer failed: retried after a back-off. Check its log and storage if it persists.',
    },
    {
      match: () => true,
      meaning: 'unexpected answer',
      action:
        'The DICOMweb peer answered with a status pacshift does not expect. Read its log and check the URL.',
    },
  ];

const SERVICES: readonly DimseService[] = ['C-STORE', 'C-MOVE', 'C-GET', 'C-FIND'];

/** "0xA700" or 0xA700 → the number; undefined for our own codes. */
export function statusNumber(code: string | number): number | undefined {
  if (typeof code === 'number') return code;
  const m = /^0x([0-9a-f]{4})$/i.exec(code.trim());
  return m ? parseInt(m[1]!, 16) : undefined;
}

export interface CodeExplanation {
  /** What the code means (per service where they differ). */
  readonly meaning: string;
  readonly action: string;
}

/** Meaning and action of a failure code. DICOM statuses are looked up for each service that can return them. */
export function explainCode(code: string | number | null): CodeExplanation {
  if (code === null) return { meaning: 'no code recorded', action: 'See the cause.' };
  const n = statusNumber(code);
  if (n === undefined) {
    const given = String(code);
    const http = /^HTTP_(\d{3})$/.exec(given);
    if (http) {
      const status = Number(http[1]);
      const h = HTTP_CODES.find((x) => x.match(status))!;
      return { meaning: `HTTP ${status} from the DICOMweb peer: ${h.meaning}`, action: h.action };
    }
    const c = Object.hasOwn(NET_KIND_CODES, given) ? NET_KIND_CODES[given as NetFailureKind] : given;
    return { meaning: CODE_MEANINGS[c] ?? c, action: CODE_ACTIONS[c] ?? 'See the cause.' };
  }
  const per = SERVICES.map((svc) => {
    const e = lookupStatus(svc, n);
    return { svc, meaning: e.meaning, action: ACTION_TEXT[e.action] };
  });
  /** One text when every service agrees, else "C-STORE: …; C-MOVE/C-GET: …". */
  const merge = (pick: (p: (typeof per)[number]) => string, sep: string): string => {
    const by = new Map<string, DimseService[]>();
    for (const p of per) by.set(pick(p), [...(by.get(pick(p)) ?? []), p.svc]);
    if (by.size === 1) return [...by.keys()][0]!;
    return [...by].map(([text, svcs]) => `${svcs.join('/')}: ${text}`).join(sep);
  };
  return { meaning: merge((p) => p.meaning, '; '), action: merge((p) => p.action, ' ') };
}
