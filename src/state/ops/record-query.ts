import { num, toJson } from '../db.js';
import type { InventoryQueryInput } from '../types.js';
import type { OpContext } from './context.js';
import { clip } from './_rows.js';

/** Records one C-FIND query and how it ended; returns its id (the parent of its splits). */
export async function recordQuery(ctx: OpContext, q: InventoryQueryInput): Promise<number> {
  const now = ctx.clock.now();
  const row = await ctx.db.transaction((tx) =>
    tx.get<{ id: unknown }>(
      `INSERT INTO inventory_queries (run_id, parent_id, level, params, issued_at, finished_at, complete, status, result_count, error)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
      [
        q.runId ?? null,
        q.parentId ?? null,
        q.level,
        toJson(q.params) ?? '{}',
        q.issuedAt ?? now,
        q.finishedAt === undefined ? now : q.finishedAt,
        q.complete,
        q.status ?? null,
        q.resultCount,
        clip(q.error),
      ],
    ),
  );
  return num(row!.id);
}
