import type { Migration } from './types.js';

/** Per-instance failure ledger, quarantine, the append-only audit log, throughput samples. */
export const migration: Migration = {
  id: 3,
  name: 'outcomes-audit',
  sql: `
CREATE TABLE instance_outcomes (
  id                {{id}},
  job_id            BIGINT,
  sop_instance_uid  TEXT NOT NULL,
  study_uid         TEXT NOT NULL,
  phase             TEXT NOT NULL CHECK (phase IN ('retrieve', 'store', 'verify')),
  status            INTEGER,          -- DIMSE status, when there was one
  category          TEXT NOT NULL,    -- e.g. out-of-resources, data-conflict, not-received, pixel-mismatch
  cause             TEXT,
  at                BIGINT NOT NULL
);
CREATE INDEX instance_outcomes_study ON instance_outcomes (study_uid);
CREATE INDEX instance_outcomes_sop ON instance_outcomes (sop_instance_uid);

CREATE TABLE quarantine (
  sop_instance_uid  TEXT PRIMARY KEY,
  study_uid         TEXT NOT NULL,
  series_uid        TEXT,
  status            INTEGER,
  category          TEXT NOT NULL,
  cause             TEXT,
  path              TEXT,             -- where the refused object is kept
  quarantined_at    BIGINT NOT NULL
);
CREATE INDEX quarantine_study ON quarantine (study_uid);

CREATE TABLE events (
  id                {{id}},
  job_id            BIGINT,
  study_uid         TEXT,
  sop_instance_uid  TEXT,
  kind              TEXT NOT NULL,
  detail            {{json}},
  at                BIGINT NOT NULL
);
CREATE INDEX events_study ON events (study_uid);
CREATE INDEX events_job ON events (job_id);
CREATE INDEX events_kind_at ON events (kind, at);

CREATE TABLE throughput_samples (
  id         {{id}},
  at         BIGINT NOT NULL,
  phase      TEXT NOT NULL CHECK (phase IN ('retrieve', 'store')),
  instances  INTEGER NOT NULL,
  bytes      BIGINT NOT NULL,
  job_id     BIGINT
);
CREATE INDEX throughput_phase_at ON throughput_samples (phase, at);
`,
  sqlite: `
CREATE TRIGGER events_no_update BEFORE UPDATE ON events
BEGIN SELECT RAISE(ABORT, 'events is append-only'); END;
CREATE TRIGGER events_no_delete BEFORE DELETE ON events
BEGIN SELECT RAISE(ABORT, 'events is append-only'); END;
`,
  postgres: `
CREATE FUNCTION events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'events is append-only';
END
$$;
CREATE TRIGGER events_no_change BEFORE UPDATE OR DELETE ON events
  FOR EACH ROW EXECUTE FUNCTION events_append_only();
`,
};
