/**
 * Reading a STOW-RS response (PS3.18 10.5.3, Table 10.5.3-1): DICOM JSON (PS3.18 F.2) with
 * Referenced SOP Sequence (0008,1199) and Failed SOP Sequence (0008,1198). Unreadable bodies are an empty
 * answer (every instance then falls back on the HTTP status), never a throw.
 */

export interface StowInstanceAnswer {
  readonly sopInstanceUid: string;
  /** Failure Reason (0008,1197) for failed instances; Warning Reason (0008,1196) for stored ones (if any). */
  readonly reason?: number;
}

export interface StowAnswer {
  readonly stored: ReadonlyMap<string, StowInstanceAnswer>;
  readonly failed: ReadonlyMap<string, StowInstanceAnswer>;
  /** The body was DICOM JSON we could read. */
  readonly readable: boolean;
}

const REFERENCED_SOP_SEQUENCE = '00081199';
const FAILED_SOP_SEQUENCE = '00081198';
const REFERENCED_SOP_INSTANCE_UID = '00081155';
const FAILURE_REASON = '00081197';
const WARNING_REASON = '00081196';

type JsonElement = { vr?: string; Value?: unknown[] };
type JsonDataset = Record<string, JsonElement | undefined>;

const first = (ds: JsonDataset, tag: string): unknown => ds[tag]?.Value?.[0];

function items(ds: JsonDataset, tag: string): JsonDataset[] {
  const v = ds[tag]?.Value;
  return Array.isArray(v) ? v.filter((x): x is JsonDataset => typeof x === 'object' && x !== null) : [];
}

function answer(item: JsonDataset, reasonTag: string): StowInstanceAnswer | undefined {
  const uid = first(item, REFERENCED_SOP_INSTANCE_UID);
  if (typeof uid !== 'string' || uid.trim() === '') return undefined;
  const r = first(item, reasonTag);
  const reason = typeof r === 'number' ? r : typeof r === 'string' && /^\d+$/.test(r) ? Number(r) : undefined;
  return reason === undefined ? { sopInstanceUid: uid.trim() } : { sopInstanceUid: uid.trim(), reason };
}

export function parseStowResponse(body: Buffer, contentType: string | undefined): StowAnswer {
  const stored = new Map<string, StowInstanceAnswer>();
  const failed = new Map<string, StowInstanceAnswer>();
  if (body.length === 0 || (contentType !== undefined && /xml/i.test(contentType)))
    return { stored, failed, readable: false };
  let json: unknown;
  try {
    json = JSON.parse(body.toString('utf8'));
  } catch {
    return { stored, failed, readable: false };
  }
  const root = (Array.isArray(json) ? json[0] : json) as JsonDataset | undefined;
  if (typeof root !== 'object' || root === null) return { stored, failed, readable: false };
  for (const it of items(root, REFERENCED_SOP_SEQUENCE)) {
    const a = answer(it, WARNING_REASON);
    if (a) stored.set(a.sopInstanceUid, a);
  }
  for (const it of items(root, FAILED_SOP_SEQUENCE)) {
    const a = answer(it, FAILURE_REASON);
    if (a) failed.set(a.sopInstanceUid, a);
  }
  return { stored, failed, readable: true };
}
