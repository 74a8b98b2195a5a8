/**
 * The definition of done, in one SQL expression shared by the ledger rows and their summary.
 * Precedence: verified (a verified study with instances the target refused — quarantined — is failed:
 * it is not all there) > excluded (by rule, or its job excluded) > stored-not-verified > failed
 * (failed/dead job, or vanished from the source before it was stored) > pending (everything else:
 * no scope decision yet, no job yet, or a job under way or waiting for its back-off).
 */
export const LEDGER_FROM_SQL = `
  studies s
  LEFT JOIN scope_decisions d ON d.study_uid = s.study_uid
  LEFT JOIN jobs j ON j.study_uid = s.study_uid AND j.kind = 'migrate'`;

export const LEDGER_STATUS_SQL = `CASE
    WHEN j.state = 'verified' AND EXISTS (SELECT 1 FROM quarantine q WHERE q.study_uid = s.study_uid) THEN 'failed'
    WHEN j.state = 'verified' THEN 'verified'
    WHEN j.state = 'excluded' OR d.in_scope = FALSE THEN 'excluded'
    WHEN j.state IN ('stored', 'verifying') THEN 'migrated-not-verified'
    WHEN j.state IN ('failed', 'dead') THEN 'failed'
    WHEN s.vanished_at IS NOT NULL THEN 'failed'
    ELSE 'pending'
  END`;

/** The code a failed study's ledger row carries when the source lost it. */
export const VANISHED = 'VANISHED';
