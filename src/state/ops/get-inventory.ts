import type { Row } from '../db.js';
import type { Instance, Series, Study } from '../types.js';
import type { OpContext } from './context.js';
import { instanceFromRow, seriesFromRow, studyFromRow } from './_rows.js';

export async function getStudy(ctx: OpContext, studyUid: string): Promise<Study | undefined> {
  const r = await ctx.db.get<Row>('SELECT * FROM studies WHERE study_uid = ?', [studyUid]);
  return r ? studyFromRow(r) : undefined;
}

export async function getSeries(ctx: OpContext, seriesUid: string): Promise<Series | undefined> {
  const r = await ctx.db.get<Row>('SELECT * FROM series WHERE series_uid = ?', [seriesUid]);
  return r ? seriesFromRow(r) : undefined;
}

export async function getInstance(ctx: OpContext, sopInstanceUid: string): Promise<Instance | undefined> {
  const r = await ctx.db.get<Row>('SELECT * FROM instances WHERE sop_instance_uid = ?', [sopInstanceUid]);
  return r ? instanceFromRow(r) : undefined;
}
