/**
 * A DICOMweb archive as a target: STOW-RS (PS3.18 10.5), POST {url}/studies with a multipart/related
 * body streamed from the spool, several requests in parallel. Each instance's outcome comes from the
 * response (stow-response.ts) or, when the response does not name it, from the HTTP status table
 * (stow-status.ts); a request that names nobody after a 400/409/413 is retried one instance per request
 * so that one bad object does not take the others with it. Network failures are outcomes (retry).
 */
import type { StoreOutcome } from '../../net/services/store-scu.js';
import { HttpClient, type HttpEndpoint } from './http.js';
import { dicomMultipart } from './multipart.js';
import { failureOutcome, statusOutcome } from './outcome.js';
import { parseStowResponse } from './stow-response.js';
import { lookupHttpStatus } from './stow-status.js';
import type { Target, TargetInstance } from './target.js';

export interface DicomwebTargetOptions extends HttpEndpoint {
  /** Instances per STOW-RS request (default 50). */
  readonly batchInstances?: number;
  /** Bytes per STOW-RS request: a batch closes before it would exceed this (default 256 MiB; one instance always fits). */
  readonly batchBytes?: number;
}

const hexStatus = (n: number) => `0x${n.toString(16).toUpperCase().padStart(4, '0')}`;

/** Split instances into requests by count and size. */
export function stowBatches<T extends { datasetLength: number }>(
  instances: readonly T[],
  maxInstances: number,
  maxBytes: number,
): T[][] {
  const out: T[][] = [];
  let cur: T[] = [];
  let bytes = 0;
  for (const i of instances) {
    if (cur.length > 0 && (cur.length >= maxInstances || bytes + i.datasetLength > maxBytes)) {
      out.push(cur);
      cur = [];
      bytes = 0;
    }
    cur.push(i);
    bytes += i.datasetLength;
  }
  if (cur.length) out.push(cur);
  return out;
}

export function dicomwebTarget(o: DicomwebTargetOptions): Target {
  const client = new HttpClient(o);
  const name = client.name;

  async function post(batch: readonly TargetInstance[]): Promise<StoreOutcome[]> {
    let body;
    try {
      body = await dicomMultipart(batch);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code ?? (e as Error).message;
      // A spooled file cannot be read: send the others alone, that one fails locally.
      if (batch.length > 1) return (await Promise.all(batch.map((i) => post([i])))).flat();
      return [
        failureOutcome(batch[0]!, {
          kind: 'local',
          message: `spooled file of ${batch[0]!.sopInstanceUid} cannot be read: ${code}`,
        }),
      ];
    }
    const r = await client.request({
      method: 'POST',
      path: '/studies',
      headers: { 'Content-Type': body.contentType, Accept: 'application/dicom+json' },
      body: () => body.chunks(),
      contentLength: body.contentLength,
      maxResponseBytes: 16 << 20,
    });
    if (!r.ok) return batch.map((i) => failureOutcome(i, r.error));
    const res = r.value;
    const ans = parseStowResponse(res.body, res.headers['content-type']);
    const http = lookupHttpStatus(res.status);
    const named = batch.filter((i) => ans.stored.has(i.sopInstanceUid) || ans.failed.has(i.sopInstanceUid));
    if (named.length === 0 && http.splitBatch && batch.length > 1) {
      // Which object is at fault? One per request tells.
      const out: StoreOutcome[] = [];
      for (const i of batch) out.push(...(await post([i])));
      return out;
    }
    const httpWords = `STOW-RS ${name}: HTTP ${res.status}${res.statusText ? ` ${res.statusText}` : ''}`;
    return batch.map((i): StoreOutcome => {
      const f = ans.failed.get(i.sopInstanceUid);
      if (f) {
        const reason = f.reason ?? http.status ?? 0xc000;
        return statusOutcome('STOW-RS', i, reason, `${httpWords}; Failure Reason ${hexStatus(reason)}`);
      }
      const s = ans.stored.get(i.sopInstanceUid);
      if (s)
        return statusOutcome(
          'STOW-RS',
          i,
          s.reason ?? 0x0000,
          s.reason !== undefined ? `${httpWords}; Warning Reason ${hexStatus(s.reason)}` : undefined,
        );
      if (http.status === undefined)
        return failureOutcome(i, { kind: 'no-response', message: `${httpWords}: ${http.meaning}` });
      return statusOutcome('STOW-RS', i, http.status, `${httpWords}: ${http.meaning}`);
    });
  }

  return {
    kind: 'dicomweb',
    name,
    async store(instances, opts) {
      const queue = stowBatches(instances, o.batchInstances ?? 50, o.batchBytes ?? 256 << 20);
      const out: StoreOutcome[] = [];
      const worker = async () => {
        for (let b = queue.shift(); b; b = queue.shift()) out.push(...(await post(b)));
      };
      await Promise.all(
        Array.from({ length: Math.max(1, Math.min(opts.concurrency, queue.length)) }, worker),
      );
      return out;
    },
    close: async () => client.close(),
  };
}
