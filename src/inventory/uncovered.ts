/**
 * The parts of the source an inventory run could not list (issue 7 item 5), as exceptions of the
 * ledger: every uncovered query with no part below it (capped and not split further, failed, or a
 * residual check whose parts missed something). The subject names the part by its level and keys,
 * patient keys redacted to their length (the subject is shown in reports without privacy.logPhi),
 * plus a short digest of the exact keys, so the same part found uncovered by a later run is the same
 * exception, and a run that covers it resolves it.
 */
import { createHash } from 'node:crypto';
import type { ExceptionInput, InventoryQuery, Json } from '../state/index.js';

const PATIENT_KEYS = new Set(['PatientID', 'PatientName', 'PatientBirthDate', 'IssuerOfPatientID']);

const canonical = (v: Json): string =>
  v === null || typeof v !== 'object'
    ? JSON.stringify(v)
    : Array.isArray(v)
      ? `[${v.map(canonical).join(',')}]`
      : `{${Object.keys(v)
          .sort()
          .map((k) => `${JSON.stringify(k)}:${canonical(v[k]!)}`)
          .join(',')}}`;

/** `STUDY undated PatientID=<4 chars>* StudyTime=100000-105959 #1a2b3c4d` (no patient data). */
export function partSubject(q: Pick<InventoryQuery, 'level' | 'params'>): string {
  const params = (q.params ?? {}) as Record<string, Json>;
  const words: string[] = [q.level];
  if (typeof params.pass === 'string') words.push(params.pass);
  for (const k of Object.keys(params).sort()) {
    if (k === 'pass' || k === 'residual') continue;
    const v = params[k];
    if (PATIENT_KEYS.has(k) && typeof v === 'string')
      words.push(`${k}=<${[...v.replace(/\*$/, '')].length} chars>${v.endsWith('*') ? '*' : ''}`);
    else words.push(`${k}=${typeof v === 'string' ? v : canonical(v ?? null)}`);
  }
  const digest = createHash('sha256')
    .update(`${q.level}|${canonical(params)}`)
    .digest('hex')
    .slice(0, 8);
  return `${words.join(' ')} #${digest}`;
}

/** The ledger exception of each uncovered leaf query of a run. */
export function uncoveredExceptions(
  leafIds: readonly number[],
  queries: readonly InventoryQuery[],
): ExceptionInput[] {
  const byId = new Map(queries.map((q) => [q.id, q]));
  const out: ExceptionInput[] = [];
  for (const id of leafIds) {
    const q = byId.get(id);
    if (!q) continue;
    const params = (q.params ?? {}) as Record<string, Json>;
    const residual = params.residual === true;
    const part = residual && q.parentId !== null ? (byId.get(q.parentId) ?? q) : q;
    const partParams = (part.params ?? {}) as Record<string, Json>;
    const code = residual
      ? typeof params.reported === 'number'
        ? 'count-shortfall'
        : params.withoutUid !== undefined
          ? 'match-without-uid'
          : 'split-leak'
      : (q.error ?? '').startsWith('capped')
        ? 'capped'
        : 'failed';
    const what =
      code === 'capped'
        ? 'the source capped this C-FIND and it could not be split further'
        : code === 'failed'
          ? 'this C-FIND failed'
          : 'the parts of this capped C-FIND missed some of its answers';
    out.push({
      kind: 'inventory-part-uncovered',
      subject: `${partSubject(part)}${residual ? ' residual' : ''}`,
      code,
      cause: `${what}: ${q.error ?? 'no detail'}`.slice(0, 1000),
      studyUid: typeof partParams.StudyInstanceUID === 'string' ? partParams.StudyInstanceUID : null,
      detail: {
        queryId: q.id,
        partQueryId: part.id,
        level: part.level,
        status: q.status,
        results: q.resultCount,
      },
    });
  }
  return out;
}
