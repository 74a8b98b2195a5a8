import type { Migration } from './types.js';

/**
 * The source archive's inventory: studies, series, instances as C-FIND reported them (plus what is
 * recorded per instance as it passes through), the queries that proved the inventory complete, and
 * the per-run deltas. No foreign keys between the levels: instances may arrive that no query listed.
 */
export const migration: Migration = {
  id: 1,
  name: 'inventory',
  sql: `
CREATE TABLE inventory_runs (
  id            {{id}},
  started_at    BIGINT NOT NULL,
  finished_at   BIGINT,
  complete      {{bool}},                 -- NULL until finished: every query of the run completed
  params        {{json}},
  note          TEXT
);

CREATE TABLE inventory_queries (
  id            {{id}},
  run_id        BIGINT REFERENCES inventory_runs (id),
  parent_id     BIGINT REFERENCES inventory_queries (id),  -- the capped query this one splits
  level         TEXT NOT NULL CHECK (level IN ('PATIENT', 'STUDY', 'SERIES', 'IMAGE')),
  params        {{json}} NOT NULL,       -- the matching keys sent
  issued_at     BIGINT NOT NULL,
  finished_at   BIGINT,
  complete      {{bool}} NOT NULL,       -- false: capped (FE00 not requested, B001...) or failed
  status        INTEGER,                 -- final DIMSE status
  result_count  INTEGER NOT NULL DEFAULT 0,
  error         TEXT
);
CREATE INDEX inventory_queries_run ON inventory_queries (run_id);
CREATE INDEX inventory_queries_parent ON inventory_queries (parent_id);

CREATE TABLE studies (
  study_uid            TEXT PRIMARY KEY,
  patient_id           TEXT,
  patient_name         TEXT,
  patient_birth_date   TEXT,
  patient_sex          TEXT,
  accession_number     TEXT,
  study_date           TEXT,             -- DA, YYYYMMDD; NULL when empty at the source
  study_time           TEXT,
  study_description    TEXT,
  modalities_in_study  TEXT,             -- multi-valued, backslash-separated as in DICOM
  institution_name     TEXT,
  referring_physician  TEXT,
  num_series           INTEGER,          -- as reported by the source
  num_instances        INTEGER,          -- as reported by the source
  attrs                {{json}},         -- any other inventoried attribute, by keyword
  first_seen_at        BIGINT NOT NULL,
  last_seen_at         BIGINT NOT NULL,
  first_run_id         BIGINT,
  last_run_id          BIGINT,
  vanished_at          BIGINT,           -- a later inventory no longer found it
  changed_at           BIGINT            -- reported counts changed
);
CREATE INDEX studies_patient ON studies (patient_id);
CREATE INDEX studies_last_run ON studies (last_run_id);

CREATE TABLE series (
  series_uid           TEXT PRIMARY KEY,
  study_uid            TEXT NOT NULL,
  modality             TEXT,
  series_number        INTEGER,
  series_description   TEXT,
  body_part            TEXT,
  manufacturer         TEXT,
  model                TEXT,
  station_name         TEXT,
  software_versions    TEXT,
  num_instances        INTEGER,
  attrs                {{json}},
  first_seen_at        BIGINT NOT NULL,
  last_seen_at         BIGINT NOT NULL,
  first_run_id         BIGINT,
  last_run_id          BIGINT,
  vanished_at          BIGINT,
  changed_at           BIGINT
);
CREATE INDEX series_study ON series (study_uid);

CREATE TABLE instances (
  sop_instance_uid     TEXT PRIMARY KEY,
  series_uid           TEXT NOT NULL,
  study_uid            TEXT NOT NULL,
  sop_class_uid        TEXT,
  instance_number      INTEGER,
  transfer_syntax_uid  TEXT,
  size_bytes           BIGINT,
  attrs                {{json}},
  first_seen_at        BIGINT,           -- NULL: never inventoried, only received
  last_seen_at         BIGINT,
  first_run_id         BIGINT,
  last_run_id          BIGINT,
  vanished_at          BIGINT,
  changed_at           BIGINT,
  -- recorded while the data passes through
  received_at          BIGINT,
  spool_path           TEXT,
  dataset_sha256       TEXT,
  pixel_digest         TEXT,
  pixel_digest_ts      TEXT,             -- transfer syntax the pixel digest was computed in
  header               {{json}},         -- a compact set of attributes, for verification
  stored_at            BIGINT,           -- the target confirmed the C-STORE
  store_status         INTEGER,          -- DIMSE status of that C-STORE
  verified_at          BIGINT,
  verify_outcome       TEXT CHECK (verify_outcome IN
                         ('verified', 'missing', 'attribute-mismatch', 'pixel-mismatch', 'duplicate-conflict')),
  verify_detail        {{json}}
);
CREATE INDEX instances_study ON instances (study_uid);
CREATE INDEX instances_series ON instances (series_uid);

CREATE TABLE inventory_changes (
  id          {{id}},
  run_id      BIGINT NOT NULL REFERENCES inventory_runs (id),
  level       TEXT NOT NULL CHECK (level IN ('study', 'series', 'instance')),
  uid         TEXT NOT NULL,
  study_uid   TEXT NOT NULL,
  kind        TEXT NOT NULL CHECK (kind IN ('new', 'counts-changed', 'attributes-changed', 'vanished', 'reappeared')),
  old_value   {{json}},
  new_value   {{json}},
  seen_at     BIGINT NOT NULL
);
CREATE INDEX inventory_changes_run ON inventory_changes (run_id);
CREATE INDEX inventory_changes_study ON inventory_changes (study_uid);
`,
};
