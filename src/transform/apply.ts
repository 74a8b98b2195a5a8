/**
 * The transform step of the migration: each instance that arrives in the spool is read for the
 * transformer's keywords, its changes are planned (correction tables, then rules, against the study as
 * the inventory knows it) and, when there are any, the file is rewritten (src/transform/rewrite.ts:
 * only the named elements and the lengths around them change) so that what is recorded, sent and
 * verified is the corrected copy. Every changed element of every instance is one audit event
 * (`transform.change`, audit.ts).
 *
 * Crash safety (with the naming rules in src/transfer/spool.ts):
 *   1. rewrite X into a temporary file `.X.xf-…` (removed by the spool's recovery)
 *   2. record the instance as received from the rewritten copy (pass-through), append its events —
 *      events already in the database for (SOP Instance UID, tag) are not appended again
 *   3. rename the temporary file to `X.x<hash of X>.dcm` (atomic) — it now replaces X
 *   4. delete X
 * Killed after 1 or 2: X is still there without its copy and is transformed again (same plan, same
 * bytes; the record is "again", no event twice). Killed after 3: recovery deletes X. A transformed copy
 * is never transformed again, so a `replace` cannot apply twice.
 *
 * A change the rewriter refuses (value not encodable in the instance's character set, invalid for the
 * VR, …) is a per-instance failure: the instance is quarantined with the cause and never sent uncorrected.
 */
import { rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { readHeaderAttributes } from '../dicom/digest.js';
import { lookupKeyword } from '../dicom/keyword.js';
import type { Store } from '../state/store.js';
import type { EventInput, StoredInput } from '../state/types.js';
import type { ScopeStudy } from '../scope/match.js';
import {
  type Spool,
  type SpooledInstance,
  fileSha256,
  isTransformedPath,
  transformedPath,
} from '../transfer/spool.js';
import { auditEvent, TRANSFORM_EVENT, type AppliedChange } from './audit.js';
import { rewriteInstance } from './rewrite.js';
import type { HeaderValues, PlannedChange, Transformer } from './transformer.js';

/**
 * The status a transform failure is quarantined with: 0xA900 is the C-STORE family "data set does not
 * match SOP class", which the field notes (domain.md) name as "usually our bug or a rule's". The
 * instance was NOT sent; the category (`transform-<kind>`) and cause say so.
 */
export const TRANSFORM_FAILURE_STATUS = 0xa900;

/** Why an instance could not be transformed (typed; the message names tags and rule ids, never values). */
export interface TransformFailure {
  readonly kind: string;
  readonly tag?: number;
  readonly message: string;
  /** The tables/rules whose changes were refused. */
  readonly by: readonly PlannedChange['by'][];
}

export type Prepared =
  /** Nothing to change (or already the transformed copy): record and send the instance as it is. */
  | {
      readonly outcome: 'unchanged' | 'already';
      readonly original: SpooledInstance;
      readonly read: SpooledInstance;
    }
  /** Rewritten into `read.path` (temporary); after the record it becomes `finalPath`. */
  | {
      readonly outcome: 'changed';
      readonly original: SpooledInstance;
      readonly read: SpooledInstance;
      readonly finalPath: string;
      readonly studyUid: string;
      readonly changes: readonly AppliedChange[];
    }
  /** Refused: recorded as received from the original, then quarantined with the cause. */
  | {
      readonly outcome: 'failed';
      readonly original: SpooledInstance;
      readonly read: SpooledInstance;
      readonly studyUid: string;
      readonly failure: TransformFailure;
    };

/** Points between the steps, for fault-injection tests (a throw there is a crash: nothing after it runs). */
export type CrashPoint = 'rewritten' | 'recorded' | 'events' | 'renamed' | 'quarantine-moved';

export interface TransformStepOptions {
  readonly transformer: Transformer;
  readonly store: Store;
  readonly spool: Spool;
  readonly log?: (msg: string) => void;
  /** Tests: called at each crash point. */
  readonly crashAt?: (p: CrashPoint) => void;
}

export interface CommitResult {
  /** What to send, in the order given (transformed copies in place of their originals). */
  readonly send: SpooledInstance[];
  readonly changed: number;
  readonly events: number;
  readonly quarantined: number;
}

/** The header as the transformer reads it: decoded text, numbers joined with "\", null when absent or undecodable. */
export async function readTransformHeader(
  path: string,
  keywords: readonly string[],
): Promise<{ ok: true; header: HeaderValues } | { ok: false; message: string }> {
  const tags = new Map<number, string>();
  for (const k of keywords) {
    const d = lookupKeyword(k);
    if (d && d.keyword === k) tags.set(d.tag, k);
  }
  const r = await readHeaderAttributes(path, [...tags.keys()]);
  if (!r.ok) return { ok: false, message: r.error.message };
  const header: Record<string, string | null> = {};
  for (const [tag, k] of tags) {
    const a = r.value.get(tag);
    if (!a) header[k] = null;
    else if (a.text !== undefined) header[k] = a.text;
    else if (a.numbers) header[k] = (a.numbers as readonly (number | bigint)[]).map(String).join('\\');
    else header[k] = a.bytes.length === 0 ? '' : null;
  }
  return { ok: true, header };
}

export class TransformStep {
  private readonly studies = new Map<string, ScopeStudy | undefined>();
  private readonly log: (msg: string) => void;

  constructor(private readonly o: TransformStepOptions) {
    this.log = o.log ?? (() => undefined);
  }

  get active(): boolean {
    return this.o.transformer.active;
  }

  private async study(uid: string): Promise<ScopeStudy | undefined> {
    if (!this.studies.has(uid)) this.studies.set(uid, await this.o.store.getStudy(uid));
    return this.studies.get(uid);
  }

  /** Plans and rewrites one instance into a temporary file next to it (nothing is recorded yet). */
  async prepare(s: SpooledInstance, jobStudyUid: string): Promise<Prepared> {
    if (isTransformedPath(s.path)) return { outcome: 'already', original: s, read: s };
    const studyUid = s.studyUid ?? jobStudyUid;
    const t = this.o.transformer;
    const h = await readTransformHeader(s.path, t.readKeywords);
    if (!h.ok)
      return {
        outcome: 'failed',
        original: s,
        read: s,
        studyUid,
        failure: { kind: 'unreadable', message: `header unreadable: ${h.message}`, by: [] },
      };
    const planned = t.plan(h.header, await this.study(studyUid));
    if (planned.length === 0) return { outcome: 'unchanged', original: s, read: s };
    const sha = await fileSha256(s.path);
    const finalPath = transformedPath(s.path, sha);
    const tmp = join(dirname(s.path), `.${basename(finalPath)}.${process.pid}.tmp`);
    const r = await rewriteInstance(
      s.path,
      tmp,
      planned.map((c) => ({ tag: c.tag, value: c.value })),
    );
    if (!r.ok) {
      await rm(tmp, { force: true });
      const e = r.error;
      const by = planned.filter((c) => e.tag === undefined || c.tag === e.tag).map((c) => c.by);
      return {
        outcome: 'failed',
        original: s,
        read: s,
        studyUid,
        failure: { kind: e.kind, tag: e.tag, message: e.message, by },
      };
    }
    this.o.crashAt?.('rewritten');
    const byTag = new Map(planned.map((c) => [c.tag, c.by]));
    const v = r.value;
    const changes: AppliedChange[] = v.changes.map((c) => ({
      tag: c.tag,
      keyword: c.keyword,
      vr: c.vr,
      before: c.before,
      after: c.after,
      inserted: c.inserted,
      by: byTag.get(c.tag) ?? { kind: 'rule', id: '(unknown)' },
    }));
    return {
      outcome: 'changed',
      original: s,
      read: {
        ...s,
        path: tmp,
        sizeBytes: v.sizeBytes,
        datasetOffset: v.datasetOffset,
        datasetLength: v.datasetLength,
        transferSyntaxUid: v.transferSyntaxUid,
      },
      finalPath,
      studyUid,
      changes,
    };
  }

  /** Where the record says the instance is (the transformed copy's final name for changed ones). */
  static spoolPathOf(p: Prepared): string {
    return p.outcome === 'changed' ? p.finalPath : p.original.path;
  }

  /**
   * After the instances are recorded as received (from `read`): appends the audit events not yet in the
   * database, puts the transformed copies in place of their originals, quarantines the failures.
   */
  async commit(prepared: readonly Prepared[], jobId: number | null): Promise<CommitResult> {
    this.o.crashAt?.('recorded');
    const changed = prepared.filter((p) => p.outcome === 'changed');
    const events: EventInput[] = [];
    for (const studyUid of new Set(changed.map((p) => p.studyUid))) {
      const have = await this.recordedKeys(studyUid);
      for (const p of changed)
        if (p.studyUid === studyUid)
          for (const c of p.changes)
            if (!have.has(`${p.original.sopInstanceUid}|${c.tag}`))
              events.push(auditEvent(jobId, studyUid, p.original.sopInstanceUid, c));
    }
    await this.o.store.appendEvents(events);
    this.o.crashAt?.('events');
    const send: SpooledInstance[] = [];
    const quarantine: StoredInput[] = [];
    for (const p of prepared) {
      if (p.outcome === 'changed') {
        await rename(p.read.path, p.finalPath);
        this.o.crashAt?.('renamed');
        send.push(await this.o.spool.replace(p.original, p.finalPath));
      } else if (p.outcome === 'failed') {
        const path = await this.o.spool.toQuarantine(p.original);
        this.o.crashAt?.('quarantine-moved');
        const f = p.failure;
        const by = f.by.map((b) => `${b.kind} ${b.id}${b.row !== undefined ? ` row ${b.row}` : ''}`);
        quarantine.push({
          sopInstanceUid: p.original.sopInstanceUid,
          status: TRANSFORM_FAILURE_STATUS,
          outcome: 'quarantined',
          category: `transform-${f.kind}`,
          cause: `transform (not sent): ${f.message}${by.length ? ` [${by.join(', ')}]` : ''}`,
          path,
        });
        this.log(
          `study ${p.studyUid}: SOP instance ${p.original.sopInstanceUid} not transformed (${f.kind}): quarantined, not sent`,
        );
      } else send.push(p.original);
    }
    if (quarantine.length > 0) await this.o.store.recordInstancesStored(quarantine, { jobId });
    return { send, changed: changed.length, events: events.length, quarantined: quarantine.length };
  }

  /** (SOP Instance UID, tag) pairs whose change is already in the audit trail of a study. */
  private async recordedKeys(studyUid: string): Promise<Set<string>> {
    const keys = new Set<string>();
    let afterId: number | undefined;
    for (;;) {
      const page = await this.o.store.listEvents({ studyUid, kind: TRANSFORM_EVENT, afterId, limit: 5000 });
      for (const e of page) {
        const d = e.detail as { tag?: string } | null;
        if (e.sopInstanceUid && d?.tag)
          keys.add(`${e.sopInstanceUid}|${parseInt(d.tag.replace(',', ''), 16)}`);
      }
      if (page.length < 5000) return keys;
      afterId = page[page.length - 1]!.id;
    }
  }
}
