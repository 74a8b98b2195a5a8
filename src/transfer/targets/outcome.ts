/** Building StoreOutcome values for targets that are not DIMSE: a status looked up in the shared table. */
import { lookupStatus, type DimseService } from '../../net/dimse/status.js';
import type { NetFailure } from '../../net/errors.js';
import type { SendableInstance, StoreOutcome } from '../../net/services/store-scu.js';

/** An outcome with a DICOM status: success and warnings are ok, anything else is not. */
export function statusOutcome(
  service: DimseService,
  instance: SendableInstance,
  status: number,
  errorComment?: string,
): StoreOutcome {
  const entry = lookupStatus(service, status);
  const ok = entry.category === 'success' || entry.category === 'warning';
  const extra = errorComment ? { errorComment } : {};
  return ok
    ? { ok: true, instance, status, entry, ...extra }
    : { ok: false, instance, status, entry, ...extra };
}

/** An outcome without a status: the peer did not answer (or could not be reached). */
export const failureOutcome = (instance: SendableInstance, failure: NetFailure): StoreOutcome => ({
  ok: false,
  instance,
  failure,
});
