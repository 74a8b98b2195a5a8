import type { Migration } from './types.js';

/**
 * `pacshift analyze`: headers of the instances the analysis read itself (a sample retrieved from the
 * source, or files of a folder source), one row per distinct content of a SOP Instance UID; the
 * analysis runs with their findings and the studies each touches; the key that pseudonymises
 * PatientID groups in findings. Separate from `instances`: an instance read by the analysis is not
 * received by the migration (its received_at stays NULL, so the transfer still moves it).
 */
export const migration: Migration = {
  id: 4,
  name: 'analysis',
  sql: `
CREATE TABLE analysis_headers (
  id                   {{id}},
  sop_instance_uid     TEXT NOT NULL,
  content_digest       TEXT NOT NULL,    -- SHA-256 of the decoded elements (File Meta, Pixel Data left out)
  study_uid            TEXT,
  series_uid           TEXT,
  origin               TEXT NOT NULL,    -- sample (retrieved by analyze) | folder (read in place)
  dataset_sha256       TEXT,             -- of the data set bytes as read
  transfer_syntax_uid  TEXT,
  header               {{json}} NOT NULL,
  problems             {{json}},         -- character set and UID problems found in the data set
  first_seen_at        BIGINT NOT NULL,
  last_seen_at         BIGINT NOT NULL,
  times_seen           INTEGER NOT NULL DEFAULT 1,
  UNIQUE (sop_instance_uid, content_digest)
);
CREATE INDEX analysis_headers_study ON analysis_headers (study_uid);
CREATE INDEX analysis_headers_series ON analysis_headers (series_uid);

CREATE TABLE analysis_runs (
  id           {{id}},
  started_at   BIGINT NOT NULL,
  finished_at  BIGINT NOT NULL,
  params       {{json}},
  summary      {{json}}                 -- counts by code, breakdowns by year and device, sample coverage
);

CREATE TABLE analysis_findings (
  id                {{id}},
  run_id            BIGINT NOT NULL REFERENCES analysis_runs (id),
  code              TEXT NOT NULL,
  severity          TEXT NOT NULL CHECK (severity IN ('error', 'warning', 'info')),
  subject           TEXT NOT NULL,      -- a UID, or a pseudonymised group (pid#...): never patient data
  series_uid        TEXT,
  sop_instance_uid  TEXT,
  detail            {{json}}
);
CREATE INDEX analysis_findings_run ON analysis_findings (run_id, code);

CREATE TABLE analysis_finding_studies (
  finding_id  BIGINT NOT NULL REFERENCES analysis_findings (id),
  study_uid   TEXT NOT NULL,
  PRIMARY KEY (finding_id, study_uid)
);
CREATE INDEX analysis_finding_studies_study ON analysis_finding_studies (study_uid);

CREATE TABLE analysis_key (
  id          INTEGER PRIMARY KEY CHECK (id = 1),
  secret      TEXT NOT NULL,
  created_at  BIGINT NOT NULL
);
`,
};
