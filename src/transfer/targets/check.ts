/**
 * `pacshift check` for a DICOMweb target: QIDO-RS GET {url}/studies?limit=1 answers (200, or 204 for an
 * empty archive) with the plan's credentials. A refusal (401/403) or a wrong URL (404) fails with the
 * reason; no connection at all marks the target unreachable (exit 3).
 */
import type { NetFailure } from '../../net/errors.js';
import { HttpClient, type HttpEndpoint } from './http.js';

export interface DicomwebCheck {
  readonly outcome: 'pass' | 'warn' | 'fail';
  readonly detail: string;
  readonly unreachable?: boolean;
  readonly status?: string;
}

const UNREACHABLE: ReadonlySet<NetFailure['kind']> = new Set(['connect-failed', 'timeout', 'closed', 'tls']);

export async function checkDicomwebTarget(endpoint: HttpEndpoint): Promise<DicomwebCheck> {
  const client = new HttpClient({
    ...endpoint,
    responseTimeoutMs: Math.min(endpoint.responseTimeoutMs ?? 30_000, 30_000),
  });
  try {
    const r = await client.request({
      method: 'GET',
      path: '/studies?limit=1',
      headers: { Accept: 'application/dicom+json' },
    });
    if (!r.ok)
      return {
        outcome: 'fail',
        detail: `${client.name}: ${r.error.kind}: ${r.error.message}`,
        unreachable: UNREACHABLE.has(r.error.kind),
      };
    const { status, statusText } = r.value;
    const words = `HTTP ${status}${statusText ? ` ${statusText}` : ''}`;
    if (status === 200 || status === 204)
      return { outcome: 'pass', detail: `${client.name} answers QIDO-RS (${words})`, status: String(status) };
    const why =
      status === 401 || status === 403
        ? 'credentials missing or refused (target.auth)'
        : status === 404
          ? 'no DICOMweb service at this URL (target.url is the DICOMweb root, without /studies)'
          : 'unexpected answer';
    return { outcome: 'fail', detail: `${client.name}: QIDO-RS ${words}: ${why}`, status: String(status) };
  } finally {
    client.close();
  }
}
