import type { Row, SqlParam } from '../db.js';
import type { ExceptionFilter, LedgerException } from '../types.js';
import type { OpContext } from './context.js';
import { exceptionFromRow } from './_rows.js';

/** The ledger's exceptions matching every given filter, by id (oldest first). */
export async function listExceptions(ctx: OpContext, f: ExceptionFilter = {}): Promise<LedgerException[]> {
  const where: string[] = [];
  const params: SqlParam[] = [];
  if (f.status !== undefined) {
    where.push('status = ?');
    params.push(f.status);
  }
  if (f.kind !== undefined) {
    where.push('kind = ?');
    params.push(f.kind);
  }
  params.push(f.limit ?? 10_000);
  const rows = await ctx.db.all<Row>(
    `SELECT * FROM exceptions${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY id LIMIT ?`,
    params,
  );
  return rows.map(exceptionFromRow);
}
