import { bool, chunks, placeholders, strOrNull, type Row, type SqlParam } from '../db.js';
import type { EventInput, ScopeDecisionInput, ScopeResult } from '../types.js';
import type { OpContext } from './context.js';
import { insertEvents } from './_events.js';
import { clip } from './_rows.js';

/**
 * Records scope decisions (one transaction). Every excluded study carries the rule that excluded it.
 * A study newly excluded whose job is still `pending` and not leased moves to `excluded`; a study
 * back in scope whose job was `excluded` returns to `pending`. Jobs already under way are left alone
 * (the ledger shows the exclusion). A change of an earlier decision is written to the audit log.
 */
export async function setScopeDecisions(
  ctx: OpContext,
  decisions: readonly ScopeDecisionInput[],
): Promise<ScopeResult> {
  const byStudy = new Map<string, ScopeDecisionInput>();
  for (const d of decisions) {
    if (!d.inScope && !d.ruleId)
      throw new TypeError(`scope: excluding ${d.studyUid} needs the rule that excludes it`);
    byStudy.set(d.studyUid, d);
  }
  const uids = [...byStudy.keys()].sort();
  const now = ctx.clock.now();
  const forUpdate = ctx.db.dialect === 'postgres' ? ' FOR UPDATE' : '';
  return ctx.db.transaction(async (tx) => {
    let changed = 0;
    let jobsExcluded = 0;
    let jobsReopened = 0;
    const events: EventInput[] = [];
    for (const part of chunks(uids, 200)) {
      const previous = new Map(
        (
          await tx.all<Row>(
            `SELECT study_uid, in_scope, rule_id FROM scope_decisions WHERE study_uid IN (${placeholders(part.length)})
             ORDER BY study_uid${forUpdate}`,
            part,
          )
        ).map((r) => [String(r.study_uid), r]),
      );
      const params: SqlParam[] = [];
      for (const uid of part) {
        const d = byStudy.get(uid)!;
        params.push(uid, d.inScope, d.ruleId ?? null, clip(d.ruleDescription), now);
        const prev = previous.get(uid);
        if (!prev) {
          changed++;
        } else if (bool(prev.in_scope) !== d.inScope || strOrNull(prev.rule_id) !== (d.ruleId ?? null)) {
          changed++;
          events.push({
            studyUid: uid,
            kind: 'scope.changed',
            detail: {
              from: { inScope: bool(prev.in_scope), ruleId: strOrNull(prev.rule_id) },
              to: { inScope: d.inScope, ruleId: d.ruleId ?? null },
            },
          });
        }
      }
      await tx.run(
        `INSERT INTO scope_decisions (study_uid, in_scope, rule_id, rule_description, decided_at)
         VALUES ${part.map(() => `(${placeholders(5)})`).join(', ')}
         ON CONFLICT (study_uid) DO UPDATE SET in_scope = excluded.in_scope, rule_id = excluded.rule_id,
           rule_description = excluded.rule_description, decided_at = excluded.decided_at`,
        params,
      );

      const out = part.filter((u) => !byStudy.get(u)!.inScope);
      if (out.length > 0) {
        const rows = await tx.all<Row>(
          `UPDATE jobs SET state = 'excluded', lease_owner = NULL, lease_expires_at = NULL, updated_at = ?
           WHERE study_uid IN (${placeholders(out.length)}) AND state = 'pending'
             AND (lease_owner IS NULL OR lease_expires_at <= ?)
           RETURNING id, study_uid`,
          [now, ...out, now],
        );
        jobsExcluded += rows.length;
        for (const r of rows) {
          const d = byStudy.get(String(r.study_uid))!;
          events.push({
            jobId: Number(r.id),
            studyUid: String(r.study_uid),
            kind: 'job.state',
            detail: { from: 'pending', to: 'excluded', ruleId: d.ruleId ?? null },
          });
        }
      }
      const back = part.filter((u) => byStudy.get(u)!.inScope);
      if (back.length > 0) {
        const rows = await tx.all<Row>(
          `UPDATE jobs SET state = 'pending', next_run_at = ?, updated_at = ?
           WHERE study_uid IN (${placeholders(back.length)}) AND state = 'excluded'
           RETURNING id, study_uid`,
          [now, now, ...back],
        );
        jobsReopened += rows.length;
        for (const r of rows) {
          events.push({
            jobId: Number(r.id),
            studyUid: String(r.study_uid),
            kind: 'job.state',
            detail: { from: 'excluded', to: 'pending' },
          });
        }
      }
    }
    await insertEvents(tx, now, events);
    return { decided: uids.length, changed, jobsExcluded, jobsReopened };
  });
}
