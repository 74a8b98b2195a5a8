import type { Migration } from './types.js';

/**
 * Scope decisions and the job queue. `job_states` is the ordered enum as data (kept equal to
 * JOB_STATE_TABLE in job-state.ts by a test); `jobs.state` references it.
 */
export const migration: Migration = {
  id: 2,
  name: 'scope-jobs',
  sql: `
CREATE TABLE scope_decisions (
  study_uid         TEXT PRIMARY KEY,
  in_scope          {{bool}} NOT NULL,
  rule_id           TEXT,
  rule_description  TEXT,
  decided_at        BIGINT NOT NULL,
  CHECK (in_scope OR rule_id IS NOT NULL)   -- every excluded study carries the rule that excluded it
);

CREATE TABLE job_states (
  name      TEXT PRIMARY KEY,
  rank      INTEGER NOT NULL UNIQUE,
  terminal  {{bool}} NOT NULL
);
INSERT INTO job_states (name, rank, terminal) VALUES
  ('pending', 0, FALSE), ('retrieving', 1, FALSE), ('retrieved', 2, FALSE), ('storing', 3, FALSE),
  ('stored', 4, FALSE), ('verifying', 5, FALSE), ('verified', 6, TRUE),
  ('failed', 100, TRUE), ('dead', 101, TRUE), ('excluded', 102, TRUE);

CREATE TABLE jobs (
  id                {{id}},
  kind              TEXT NOT NULL DEFAULT 'migrate',
  study_uid         TEXT NOT NULL,
  state             TEXT NOT NULL DEFAULT 'pending' REFERENCES job_states (name),
  priority          INTEGER NOT NULL DEFAULT 0,     -- higher first
  bumped_priority   INTEGER NOT NULL DEFAULT 0,     -- on-demand prioritize: sorts before priority
  bumped_at         BIGINT,
  study_date        TEXT,                           -- copied from studies: newest first within a priority
  attempts          INTEGER NOT NULL DEFAULT 0,     -- failures so far (failJob and expired leases)
  max_attempts      INTEGER NOT NULL DEFAULT 5 CHECK (max_attempts >= 1),
  next_run_at       BIGINT NOT NULL DEFAULT 0,      -- back-off: not claimable before
  lease_owner       TEXT,
  lease_expires_at  BIGINT,
  last_error_code   TEXT,                           -- DICOM status as 0xHHHH, or our code
  last_error        TEXT,                           -- message with UIDs only, never patient data
  created_at        BIGINT NOT NULL,
  updated_at        BIGINT NOT NULL,
  UNIQUE (kind, study_uid),
  CHECK ((lease_owner IS NULL) = (lease_expires_at IS NULL))
);
CREATE INDEX jobs_claim ON jobs (bumped_priority DESC, priority DESC, study_date DESC {{nulls_last}}, id)
  WHERE state IN ('pending', 'retrieving', 'retrieved', 'storing', 'stored', 'verifying');
CREATE INDEX jobs_state ON jobs (state);
CREATE INDEX jobs_lease ON jobs (lease_expires_at) WHERE lease_owner IS NOT NULL;

CREATE TABLE control (
  key         TEXT PRIMARY KEY,
  value       {{json}},
  updated_at  BIGINT NOT NULL
);
`,
};
