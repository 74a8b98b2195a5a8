import type { EventInput } from '../types.js';
import type { OpContext } from './context.js';
import { insertEvents } from './_events.js';

/**
 * Appends audit events (one transaction), e.g. the patient-correction trail: one event per change
 * made to each instance. The table refuses UPDATE and DELETE (a trigger in both dialects).
 */
export async function appendEvents(ctx: OpContext, events: readonly EventInput[]): Promise<void> {
  if (events.length === 0) return;
  const now = ctx.clock.now();
  await ctx.db.transaction((tx) => insertEvents(tx, now, events));
}
