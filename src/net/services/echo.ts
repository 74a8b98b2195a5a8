import type { DimseChannel } from '../dimse/channel.js';
import { CommandField, NO_DATASET } from '../dimse/command.js';
import type { NetFailure } from '../errors.js';
import { VERIFICATION } from './sop-classes.js';

export interface EchoResult {
  status: number;
}

/** C-ECHO-RQ on an established association (Verification SOP Class must be accepted). */
export async function cEcho(
  ch: DimseChannel,
  timeoutMs = 30_000,
): Promise<{ ok: true; value: EchoResult } | { ok: false; error: NetFailure }> {
  const ctx = ch.findContext(VERIFICATION);
  if (!ctx)
    return {
      ok: false,
      error: { kind: 'no-presentation-context', message: 'Verification SOP Class not accepted' },
    };
  return ch.request(
    ctx.id,
    {
      CommandField: CommandField.C_ECHO_RQ,
      MessageID: ch.nextMessageId(),
      AffectedSOPClassUID: VERIFICATION,
      CommandDataSetType: NO_DATASET,
    },
    undefined,
    { timeoutMs, onResponse: (m) => ({ status: m.command.Status ?? 0xffff }) },
  );
}
