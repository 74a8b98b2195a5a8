import type { Row } from '../db.js';
import type { Instance, InstanceFilter } from '../types.js';
import type { OpContext } from './context.js';
import { instanceFromRow } from './_rows.js';

const FILTERS: Record<InstanceFilter, string> = {
  all: '',
  unreceived: ' AND received_at IS NULL AND vanished_at IS NULL',
  unstored: ' AND stored_at IS NULL',
  unverified: " AND stored_at IS NOT NULL AND (verify_outcome IS NULL OR verify_outcome <> 'verified')",
};

/**
 * A study's instances, by series then instance number. `unstored` is what a resumed worker still has
 * to send (quarantined instances included: the caller decides), `unreceived` what it still has to
 * retrieve, `unverified` what was stored but not yet verified as equal.
 */
export async function listInstances(
  ctx: OpContext,
  studyUid: string,
  filter: InstanceFilter = 'all',
): Promise<Instance[]> {
  const rows = await ctx.db.all<Row>(
    `SELECT * FROM instances WHERE study_uid = ?${FILTERS[filter]}
     ORDER BY series_uid, instance_number, sop_instance_uid`,
    [studyUid],
  );
  return rows.map(instanceFromRow);
}
