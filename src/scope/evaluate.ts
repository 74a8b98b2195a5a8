/**
 * The scope decision for one study (pure). Semantics (documented with the options in
 * src/plan/schema-scope.ts):
 *
 * 1. The FIRST rule whose match holds decides include or exclude; later rules are not consulted.
 * 2. No rule matches: `scope.default` decides (recorded as the rule `(default)`).
 * 3. An included study then meets the retention policies: a policy applies when its `modality` and
 *    `match` hold; it keeps the study until the later of StudyDate + keepYears and PatientBirthDate +
 *    patientAgeUntil (a missing or malformed date keeps it forever: the safe side). The study is
 *    excluded when every policy that applies has expired at `asOf` (strictly after the last kept day),
 *    and carries the policy that kept it longest. A study no policy applies to is kept.
 *
 * Every excluded study carries the id of the rule or policy that excluded it.
 */
import { addYears, formatDA, parseDA } from '../inventory/dates.js';
import type { ScopePlan } from '../plan/index.js';
import { type ScopeStudy, matchStudy, modalitiesOf } from './match.js';

/** Rule id recorded for studies no rule matched (not a valid plan id, so it cannot clash). */
export const DEFAULT_RULE_ID = '(default)';

export type DecisionSource = 'rule' | 'default' | 'retention';

export interface ScopeVerdict {
  readonly inScope: boolean;
  readonly ruleId: string;
  readonly source: DecisionSource;
  readonly description: string | null;
  /** Retention: the last day the study had to be kept (DA), when a policy applied and expired. */
  readonly keptUntil?: string;
}

/** The last day (day number) a policy keeps the study, or Infinity when a needed date is missing. */
export function retentionEnd(policy: ScopePlan['retention'][number], study: ScopeStudy): number {
  const ends: number[] = [];
  if (policy.keepYears !== undefined) {
    const d = parseDA(study.studyDate ?? undefined);
    ends.push(d === undefined ? Infinity : addYears(d, policy.keepYears));
  }
  if (policy.patientAgeUntil !== undefined) {
    const b = parseDA(study.patientBirthDate ?? undefined);
    ends.push(b === undefined ? Infinity : addYears(b, policy.patientAgeUntil));
  }
  return Math.max(...ends);
}

function policyApplies(policy: ScopePlan['retention'][number], study: ScopeStudy): boolean {
  if (policy.modality) {
    const have = new Set(modalitiesOf(study));
    if (!policy.modality.some((m) => have.has(m.toUpperCase()))) return false;
  }
  return policy.match ? matchStudy(policy.match, study) : true;
}

/** `asOf`: day number (dates.ts) at which retention is evaluated. */
export function evaluateScope(study: ScopeStudy, scope: ScopePlan, asOf: number): ScopeVerdict {
  let verdict: ScopeVerdict | undefined;
  for (const rule of scope.rules) {
    if (matchStudy(rule.match, study)) {
      verdict = {
        inScope: rule.action === 'include',
        ruleId: rule.id,
        source: 'rule',
        description: rule.description ?? null,
      };
      break;
    }
  }
  verdict ??= {
    inScope: scope.default === 'include',
    ruleId: DEFAULT_RULE_ID,
    source: 'default',
    description: `scope.default: ${scope.default}`,
  };
  if (!verdict.inScope) return verdict;

  let longest: { policy: ScopePlan['retention'][number]; end: number } | undefined;
  for (const policy of scope.retention) {
    if (!policyApplies(policy, study)) continue;
    const end = retentionEnd(policy, study);
    if (!longest || end > longest.end) longest = { policy, end };
  }
  if (!longest || asOf <= longest.end) return verdict;
  const { policy, end } = longest;
  return {
    inScope: false,
    ruleId: policy.id,
    source: 'retention',
    description: policy.description ?? null,
    keptUntil: formatDA(end),
  };
}
