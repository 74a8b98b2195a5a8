import type { Row } from '../db.js';
import type { InventoryPage } from '../analysis-types.js';
import type { Instance, Series, Study } from '../types.js';
import type { OpContext } from './context.js';
import { instanceFromRow, seriesFromRow, studyFromRow } from './_rows.js';

const page = async (ctx: OpContext, table: string, key: string, p: InventoryPage): Promise<Row[]> =>
  p.after === undefined
    ? ctx.db.all<Row>(`SELECT * FROM ${table} ORDER BY ${key} LIMIT ?`, [p.limit ?? 1000])
    : ctx.db.all<Row>(`SELECT * FROM ${table} WHERE ${key} > ? ORDER BY ${key} LIMIT ?`, [
        p.after,
        p.limit ?? 1000,
      ]);

/** Every inventoried study (vanished ones included), by Study Instance UID, a page at a time. */
export async function pageStudies(ctx: OpContext, p: InventoryPage = {}): Promise<Study[]> {
  return (await page(ctx, 'studies', 'study_uid', p)).map(studyFromRow);
}

/** Every series row, by Series Instance UID. */
export async function pageSeries(ctx: OpContext, p: InventoryPage = {}): Promise<Series[]> {
  return (await page(ctx, 'series', 'series_uid', p)).map(seriesFromRow);
}

/** Every instance row (inventoried or only received), by SOP Instance UID. */
export async function pageInstances(ctx: OpContext, p: InventoryPage = {}): Promise<Instance[]> {
  return (await page(ctx, 'instances', 'sop_instance_uid', p)).map(instanceFromRow);
}
