/** The plan's target as a Target (and the DICOMweb endpoint for verification and `pacshift check`). */
import { readFileSync } from 'node:fs';
import type { Peer } from '../../net/peer.js';
import type { Plan } from '../../plan/index.js';
import { dicomwebTarget } from './dicomweb.js';
import { dimseTarget } from './dimse.js';
import { folderTarget } from './folder.js';
import type { HttpAuth, HttpEndpoint } from './http.js';
import type { Target } from './target.js';

export type { Target, TargetInstance, TargetKind, TargetStoreOptions } from './target.js';
export { dimseTarget } from './dimse.js';
export { folderTarget, folderPathOf, FOLDER_CONFLICT_STATUS } from './folder.js';
export { dicomwebTarget, type DicomwebTargetOptions } from './dicomweb.js';
export { HttpClient, type HttpEndpoint, type HttpAuth } from './http.js';

export type DicomwebTargetPlan = Extract<Plan['target'], { type: 'dicomweb' }>;

/** A secret the plan names by environment variable; a typed error when it is not set. */
export class MissingSecretError extends Error {}

function secret(name: string, what: string): string {
  const v = process.env[name];
  if (v === undefined || v === '')
    throw new MissingSecretError(`target.auth: environment variable ${name} (${what}) is not set`);
  return v;
}

export function dicomwebEndpoint(t: DicomwebTargetPlan): HttpEndpoint {
  let auth: HttpAuth | undefined;
  if (t.auth?.type === 'basic')
    auth = { type: 'basic', username: t.auth.username, password: secret(t.auth.passwordEnv, 'the password') };
  else if (t.auth?.type === 'bearer')
    auth = { type: 'bearer', token: secret(t.auth.tokenEnv, 'the bearer token') };
  return {
    url: t.url,
    auth,
    ca: t.ca ? readFileSync(t.ca) : undefined,
    responseTimeoutMs: t.timeout,
    maxSockets: t.maxRequests,
    allowPlainHttpCredentials: t.allowPlainHttpCredentials,
  };
}

/** The plan's target. `peer`: the DIMSE peer built from the plan (src/run/context.ts), for a dimse target. */
export function openTarget(plan: Plan, peer: Peer | undefined): Target {
  const t = plan.target;
  if (t.type === 'folder') return folderTarget(t.path);
  if (t.type === 'dicomweb')
    return dicomwebTarget({ ...dicomwebEndpoint(t), batchInstances: t.batchInstances });
  if (!peer) throw new Error('openTarget: the plan has a DICOM target but no peer was built for it');
  return dimseTarget(peer);
}
