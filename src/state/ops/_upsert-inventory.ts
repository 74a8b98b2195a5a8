import { chunks, placeholders, toJson, type Queryable, type Row, type SqlParam } from '../db.js';
import type { ChangeKind, Json, UpsertResult } from '../types.js';
import type { OpContext } from './context.js';
import { stableStringify } from './_rows.js';
import type { FieldSpec, LevelSpec } from './_inventory-levels.js';

type Input = Readonly<Record<string, unknown>>;

/** The value as stored: '' and empty multi-values are NULL; multi-values backslash-joined; JSON as text. */
function normalize(f: FieldSpec, v: unknown): SqlParam {
  if (v === undefined || v === null) return null;
  switch (f.kind) {
    case 'text': {
      const s = String(v).trim();
      return s === '' ? null : s;
    }
    case 'multi': {
      const s = (Array.isArray(v) ? v.map((x) => String(x).trim()).join('\\') : String(v).trim()).replace(
        /^\\+|\\+$/g,
        '',
      );
      return s === '' ? null : s;
    }
    case 'int': {
      const n = typeof v === 'number' ? v : Number(String(v).trim());
      if (!Number.isFinite(n)) throw new TypeError(`${f.prop}: not a number: ${String(v)}`);
      return Math.trunc(n);
    }
    case 'json':
      return toJson(v);
  }
}

/** Comparable form of a stored column value. */
function comparable(f: FieldSpec, stored: unknown): string {
  if (stored === null || stored === undefined) return 'null';
  if (f.kind === 'json') return stableStringify(typeof stored === 'string' ? JSON.parse(stored) : stored);
  if (f.kind === 'int') return String(Number(stored));
  return JSON.stringify(String(stored));
}

function comparableInput(f: FieldSpec, v: SqlParam): string {
  if (v === null) return 'null';
  if (f.kind === 'json') return stableStringify(JSON.parse(String(v)));
  if (f.kind === 'int') return String(v);
  return JSON.stringify(String(v));
}

function jsonOf(f: FieldSpec, v: unknown): Json {
  if (v === null || v === undefined) return null;
  if (f.kind === 'json') return (typeof v === 'string' ? JSON.parse(v) : v) as Json;
  if (f.kind === 'int') return Number(v);
  return String(v);
}

interface ChangeRow {
  readonly uid: string;
  readonly studyUid: string;
  readonly kind: ChangeKind;
  readonly oldValue: Json;
  readonly newValue: Json;
}

/**
 * Upserts one inventory level's rows for an inventory run, in one transaction, recording deltas:
 * new, counts-changed, attributes-changed, reappeared (a vanished row seen again). A row written
 * by the same run already is updated without a delta.
 *
 * Concurrency: new rows go in with INSERT ... ON CONFLICT DO NOTHING RETURNING (what came back was
 * new); the rest are read (PostgreSQL: FOR UPDATE, in key order) and compared. Two inventory
 * processes upserting the same UIDs therefore never both report a row as new.
 */
export async function upsertInventory(
  ctx: OpContext,
  spec: LevelSpec,
  runId: number,
  rows: readonly Input[],
): Promise<UpsertResult> {
  // The last occurrence of a UID in the batch wins.
  const byKey = new Map<string, Input>();
  for (const r of rows) {
    const key = r[spec.keyProp];
    if (typeof key !== 'string' || key.trim() === '')
      throw new TypeError(`${spec.level}: missing ${spec.keyProp}`);
    byKey.set(key.trim(), r);
  }
  const keys = [...byKey.keys()].sort();
  const result = {
    inserted: [] as string[],
    reappeared: [] as string[],
    countsChanged: [] as string[],
    attributesChanged: [] as string[],
    unchanged: 0,
  };
  if (keys.length === 0) return result;

  const now = ctx.clock.now();
  const insertColumns = [
    spec.keyColumn,
    ...spec.parents.map((p) => p.column),
    ...spec.fields.map((f) => f.column),
  ];
  const seenColumns = ['first_seen_at', 'last_seen_at', 'first_run_id', 'last_run_id'];
  const selectColumns = [
    spec.keyColumn,
    spec.studyColumn,
    'first_seen_at',
    'vanished_at',
    'last_run_id',
    ...spec.fields.map((f) => f.column),
  ];
  const forUpdate = ctx.db.dialect === 'postgres' ? ' FOR UPDATE' : '';

  await ctx.db.transaction(async (tx) => {
    const changes: ChangeRow[] = [];
    for (const part of chunks(keys, 200)) {
      const existing = await selectExisting(tx, spec, selectColumns, part, forUpdate);
      const missing = part.filter((k) => !existing.has(k));
      if (missing.length > 0) {
        const params: SqlParam[] = [];
        for (const k of missing) {
          const r = byKey.get(k)!;
          params.push(
            k,
            ...spec.parents.map((p) => normalize(p, r[p.prop])),
            ...spec.fields.map((f) => normalize(f, r[f.prop])),
          );
          params.push(now, now, runId, runId);
        }
        const width = insertColumns.length + seenColumns.length;
        const inserted = await tx.all<{ k: string }>(
          `INSERT INTO ${spec.table} (${[...insertColumns, ...seenColumns].join(', ')})
           VALUES ${missing.map(() => `(${placeholders(width)})`).join(', ')}
           ON CONFLICT (${spec.keyColumn}) DO NOTHING
           RETURNING ${spec.keyColumn} AS k`,
          params,
        );
        const insertedSet = new Set(inserted.map((r) => r.k));
        for (const k of missing) {
          if (!insertedSet.has(k)) continue;
          result.inserted.push(k);
          if (spec.recordNew) {
            const r = byKey.get(k)!;
            changes.push({
              uid: k,
              studyUid: studyUidOf(spec, k, r),
              kind: 'new',
              oldValue: null,
              newValue: countsOf(spec, r),
            });
          }
        }
        // Lost an insert race (PostgreSQL, another inventory process): compare like any existing row.
        const raced = missing.filter((k) => !insertedSet.has(k));
        if (raced.length > 0) {
          for (const [k, row] of await selectExisting(tx, spec, selectColumns, raced, forUpdate))
            existing.set(k, row);
        }
      }

      const untouched: string[] = [];
      for (const [k, old] of existing) {
        const r = byKey.get(k)!;
        const sets: string[] = [];
        const params: SqlParam[] = [];
        const oldCounts: Record<string, Json> = {};
        const newCounts: Record<string, Json> = {};
        const oldAttrs: Record<string, Json> = {};
        const newAttrs: Record<string, Json> = {};
        for (const f of spec.fields) {
          if (r[f.prop] === undefined) continue; // not reported: keep
          const v = normalize(f, r[f.prop]);
          if (comparable(f, old[f.column]) === comparableInput(f, v)) continue;
          sets.push(`${f.column} = ?`);
          params.push(v);
          // A row only received so far (never inventoried) gets its inventory values without a delta;
          // so does a row this run wrote already (it refines its own answer, e.g. a study answered
          // once per patient): deltas are between runs.
          if (old.first_seen_at === null || old.first_seen_at === undefined) continue;
          if (old.last_run_id !== null && old.last_run_id !== undefined && Number(old.last_run_id) === runId)
            continue;
          if (f.count) {
            oldCounts[f.prop] = jsonOf(f, old[f.column]);
            newCounts[f.prop] = jsonOf(f, v);
          } else {
            oldAttrs[f.prop] = jsonOf(f, old[f.column]);
            newAttrs[f.prop] = jsonOf(f, v);
          }
        }
        const studyUid = String(old[spec.studyColumn]);
        const firstInventory = old.first_seen_at === null || old.first_seen_at === undefined;
        const wasVanished = old.vanished_at !== null && old.vanished_at !== undefined;
        const countsChanged = Object.keys(newCounts).length > 0;
        if (firstInventory) result.inserted.push(k);
        if (wasVanished) {
          result.reappeared.push(k);
          changes.push({
            uid: k,
            studyUid,
            kind: 'reappeared',
            oldValue: { vanishedAt: Number(old.vanished_at) },
            newValue: null,
          });
        }
        if (countsChanged) {
          result.countsChanged.push(k);
          changes.push({
            uid: k,
            studyUid,
            kind: 'counts-changed',
            oldValue: oldCounts,
            newValue: newCounts,
          });
        }
        if (Object.keys(newAttrs).length > 0) {
          result.attributesChanged.push(k);
          changes.push({
            uid: k,
            studyUid,
            kind: 'attributes-changed',
            oldValue: oldAttrs,
            newValue: newAttrs,
          });
        }
        if (sets.length === 0 && !wasVanished && !firstInventory) {
          untouched.push(k);
          continue;
        }
        await tx.run(
          `UPDATE ${spec.table} SET ${[
            ...sets,
            'last_seen_at = ?',
            'last_run_id = ?',
            'vanished_at = NULL',
            'first_seen_at = COALESCE(first_seen_at, ?)',
            'first_run_id = COALESCE(first_run_id, ?)',
            'changed_at = ' + (countsChanged ? '?' : 'changed_at'),
          ].join(', ')}
           WHERE ${spec.keyColumn} = ?`,
          [...params, now, runId, now, runId, ...(countsChanged ? [now] : []), k],
        );
      }
      if (untouched.length > 0) {
        result.unchanged += untouched.length;
        await tx.run(
          `UPDATE ${spec.table} SET last_seen_at = ?, last_run_id = ? WHERE ${spec.keyColumn} IN (${placeholders(untouched.length)})`,
          [now, runId, ...untouched],
        );
      }
    }
    await insertChanges(tx, spec, runId, now, changes);
  });
  return result;
}

async function selectExisting(
  tx: Queryable,
  spec: LevelSpec,
  columns: readonly string[],
  keys: readonly string[],
  forUpdate: string,
): Promise<Map<string, Row>> {
  const rows = await tx.all<Row>(
    `SELECT ${columns.join(', ')} FROM ${spec.table} WHERE ${spec.keyColumn} IN (${placeholders(keys.length)})
     ORDER BY ${spec.keyColumn}${forUpdate}`,
    keys,
  );
  return new Map(rows.map((r) => [String(r[spec.keyColumn]), r]));
}

function studyUidOf(spec: LevelSpec, key: string, r: Input): string {
  return spec.level === 'study' ? key : String(r.studyUid);
}

function countsOf(spec: LevelSpec, r: Input): Json {
  const out: Record<string, Json> = {};
  for (const f of spec.fields)
    if (f.count && r[f.prop] !== undefined) out[f.prop] = jsonOf(f, normalize(f, r[f.prop]));
  return Object.keys(out).length > 0 ? out : null;
}

export async function insertChanges(
  tx: Queryable,
  spec: LevelSpec,
  runId: number,
  now: number,
  changes: readonly ChangeRow[],
): Promise<void> {
  for (const part of chunks(changes)) {
    const params: SqlParam[] = [];
    for (const c of part)
      params.push(runId, spec.level, c.uid, c.studyUid, c.kind, toJson(c.oldValue), toJson(c.newValue), now);
    await tx.run(
      `INSERT INTO inventory_changes (run_id, level, uid, study_uid, kind, old_value, new_value, seen_at)
       VALUES ${part.map(() => `(${placeholders(8)})`).join(', ')}`,
      params,
    );
  }
}
