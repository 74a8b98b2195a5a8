import type { Migration } from './types.js';

/**
 * Named locks with a lease (issue 7 item 4): one inventory at a time per migration, whichever
 * process and backend. A holder extends its lease while it works; an expired lease, or one whose
 * holder is a process of this host that no longer exists, can be taken over.
 */
export const migration: Migration = {
  id: 6,
  name: 'locks',
  sql: `
CREATE TABLE locks (
  name         TEXT PRIMARY KEY,
  owner        TEXT NOT NULL,   -- newOwnerId(): prefix@host:pid:random
  acquired_at  BIGINT NOT NULL,
  expires_at   BIGINT NOT NULL
);
`,
};
