/**
 * The audit trail of the transform: one event per changed element per instance, kind
 * `transform.change`, in the state database's events table (append-only: it refuses UPDATE and
 * DELETE). The detail holds the values before and after — patient data, which the state database
 * already holds (demographics); they are shown only when asked for (`pacshift audit --phi` or
 * privacy.logPhi), never logged.
 *
 *   detail: { studyUid, sopInstanceUid, tag: "0010,0020", keyword, vr,
 *             by: { kind: "correction" | "rule", id, row? }, before, after, inserted }
 */
import { formatTag } from '../dicom/keyword.js';
import type { Store } from '../state/store.js';
import type { AuditEvent, EventInput, Json } from '../state/types.js';
import type { ChangeSource } from './transformer.js';

export const TRANSFORM_EVENT = 'transform.change';

/** One element changed in one instance, as the rewriter reported it, with the table/rule that asked. */
export interface AppliedChange {
  readonly tag: number;
  readonly keyword: string;
  readonly vr: string;
  /** Decoded value before (null: the element was absent). */
  readonly before: string | null;
  /** Value written (null: removed). */
  readonly after: string | null;
  /** The element was absent and is now there. */
  readonly inserted: boolean;
  readonly by: ChangeSource;
}

export function auditEvent(
  jobId: number | null,
  studyUid: string,
  sopInstanceUid: string,
  c: AppliedChange,
): EventInput {
  const by: { [k: string]: Json } = { kind: c.by.kind, id: c.by.id };
  if (c.by.row !== undefined) by.row = c.by.row;
  return {
    jobId,
    studyUid,
    sopInstanceUid,
    kind: TRANSFORM_EVENT,
    detail: {
      studyUid,
      sopInstanceUid,
      tag: formatTag(c.tag).replace(/[()]/g, ''),
      keyword: c.keyword,
      vr: c.vr,
      by,
      before: c.before,
      after: c.after,
      inserted: c.inserted,
    },
  };
}

/** One row of the trail as `pacshift audit` and the report read it. */
export interface TrailEntry {
  readonly id: number;
  readonly at: number;
  readonly jobId: number | null;
  readonly studyUid: string;
  readonly sopInstanceUid: string;
  /** "GGGG,EEEE" */
  readonly tag: string;
  readonly keyword: string;
  readonly vr: string;
  readonly by: ChangeSource;
  readonly inserted: boolean;
  /** Present only when values are shown. */
  readonly before?: string | null;
  readonly after?: string | null;
}

export interface TrailFilter {
  readonly studyUid?: string;
  /** A correction table or rule id. */
  readonly by?: string;
  /** Include before/after values (patient data). */
  readonly values?: boolean;
}

const str = (v: Json | undefined): string | null => (typeof v === 'string' ? v : null);

export function trailEntry(e: AuditEvent, values: boolean): TrailEntry | undefined {
  const d = e.detail;
  if (!d || typeof d !== 'object' || Array.isArray(d)) return undefined;
  const by = d.by && typeof d.by === 'object' && !Array.isArray(d.by) ? d.by : {};
  const source: ChangeSource = {
    kind: by.kind === 'correction' ? 'correction' : 'rule',
    id: str(by.id) ?? '(unknown)',
    ...(typeof by.row === 'number' ? { row: by.row } : {}),
  };
  return {
    id: e.id,
    at: e.at,
    jobId: e.jobId,
    studyUid: e.studyUid ?? str(d.studyUid) ?? '',
    sopInstanceUid: e.sopInstanceUid ?? str(d.sopInstanceUid) ?? '',
    tag: str(d.tag) ?? '',
    keyword: str(d.keyword) ?? '',
    vr: str(d.vr) ?? '',
    by: source,
    inserted: d.inserted === true,
    ...(values ? { before: str(d.before), after: str(d.after) } : {}),
  };
}

/** The trail, oldest first, filtered; read a page at a time. */
export async function* readTrail(store: Store, f: TrailFilter = {}): AsyncGenerator<TrailEntry> {
  let afterId: number | undefined;
  const limit = 5000;
  for (;;) {
    const page = await store.listEvents({ kind: TRANSFORM_EVENT, studyUid: f.studyUid, afterId, limit });
    for (const e of page) {
      const t = trailEntry(e, f.values === true);
      if (t && (f.by === undefined || t.by.id === f.by)) yield t;
    }
    if (page.length < limit) return;
    afterId = page[page.length - 1]!.id;
  }
}

/** Per table/rule: elements changed, instances and studies touched. */
export interface TrailSummary {
  readonly kind: 'correction' | 'rule';
  readonly id: string;
  readonly elements: number;
  readonly instances: number;
  readonly studies: number;
  /** Keyword → elements changed. */
  readonly keywords: Readonly<Record<string, number>>;
}

export async function summarizeTrail(store: Store): Promise<TrailSummary[]> {
  const by = new Map<
    string,
    {
      kind: 'correction' | 'rule';
      id: string;
      elements: number;
      sops: Set<string>;
      studies: Set<string>;
      keywords: Record<string, number>;
    }
  >();
  for await (const t of readTrail(store)) {
    const k = `${t.by.kind}|${t.by.id}`;
    const g = by.get(k) ?? {
      kind: t.by.kind,
      id: t.by.id,
      elements: 0,
      sops: new Set<string>(),
      studies: new Set<string>(),
      keywords: {},
    };
    g.elements++;
    g.sops.add(t.sopInstanceUid);
    g.studies.add(t.studyUid);
    g.keywords[t.keyword] = (g.keywords[t.keyword] ?? 0) + 1;
    by.set(k, g);
  }
  return [...by.values()]
    .map((g) => ({
      kind: g.kind,
      id: g.id,
      elements: g.elements,
      instances: g.sops.size,
      studies: g.studies.size,
      keywords: g.keywords,
    }))
    .sort((a, b) => a.kind.localeCompare(b.kind) || a.id.localeCompare(b.id));
}
