import type { Row } from '../db.js';
import type { ScopeDecision } from '../types.js';
import type { OpContext } from './context.js';
import { scopeFromRow } from './_rows.js';

export async function getScopeDecision(ctx: OpContext, studyUid: string): Promise<ScopeDecision | undefined> {
  const r = await ctx.db.get<Row>('SELECT * FROM scope_decisions WHERE study_uid = ?', [studyUid]);
  return r ? scopeFromRow(r) : undefined;
}
