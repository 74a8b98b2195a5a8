import type { Migration } from './types.js';

/**
 * The ledger's exceptions (issue 7 items 3 and 5): what the source holds that cannot be migrated or
 * proven, one row per thing, kept until a later inventory no longer finds it (resolved) or someone
 * accepts it (accepted; the accept action comes with a later issue). An open exception keeps the
 * migration from DONE.
 *
 * kind     unreadable-source-file (subject: the file's path, relative to the folder source) |
 *          inventory-part-uncovered (subject: the level and matching keys of the C-FIND part)
 * code     typed cause (a DICOM reader error code, ENOENT, capped, failed, leaked…)
 */
export const migration: Migration = {
  id: 5,
  name: 'exceptions',
  sql: `
CREATE TABLE exceptions (
  id                {{id}},
  kind              TEXT NOT NULL,
  subject           TEXT NOT NULL,
  code              TEXT NOT NULL,
  cause             TEXT NOT NULL,
  study_uid         TEXT,
  sop_instance_uid  TEXT,
  detail            {{json}},
  first_seen_at     BIGINT NOT NULL,
  last_seen_at      BIGINT NOT NULL,
  first_run_id      BIGINT,
  last_run_id       BIGINT,
  status            TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'accepted', 'resolved')),
  status_at         BIGINT NOT NULL,
  accepted_by       TEXT,
  accept_note       TEXT,
  UNIQUE (kind, subject)
);
CREATE INDEX exceptions_status ON exceptions (status);
`,
};
