/**
 * A DICOMweb archive (plan target.type: dicomweb) seen by verification: QIDO-RS lists a study's
 * instances with the keywords asked (GET {url}/studies/{study}/instances?includefield=…, paged with
 * limit/offset until a page comes back short, so the listing is complete), and WADO-RS retrieves copies
 * of instances (GET …/series/{series}/instances/{sop}, multipart/related application/dicom, the stored
 * transfer syntax asked for with transfer-syntax=*) into a temporary folder.
 *
 * DICOM JSON answers (PS3.18 F.2) are UTF-8: text is compared as such. Failures are VerifyFailure values.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { lookupKeyword } from '../dicom/keyword.js';
import type { NetFailure } from '../net/errors.js';
import { HttpClient, type HttpEndpoint } from '../transfer/targets/http.js';
import type { Instance, Json } from '../state/types.js';
import { err, ok, type Result } from '../util/result.js';
import { fromNetFailure } from './failure.js';
import type { Header, RetrievedFiles, TargetListing, VerifyTarget } from './target.js';
import type { VerifyFailure } from './types.js';
import { ANSWER_CHARSET_KEY, ENCODING_KEYWORDS, isMetaKey } from './values.js';

export interface DicomwebVerifyOptions extends HttpEndpoint {
  /** Parent of the temporary folders retrieved copies go to. */
  readonly tempDir: string;
  /** QIDO-RS page size (default 1000). */
  readonly pageSize?: number;
}

type JsonElement = { vr?: string; Value?: unknown[] };
type JsonDataset = Record<string, JsonElement | undefined>;

const tagHex = (tag: number) => tag.toString(16).toUpperCase().padStart(8, '0');
const SOP_INSTANCE_UID = '00080018';

/** One DICOM JSON value as the JSON form of the record (undefined for sequences and bulk data). */
function jsonValue(e: JsonElement): Json | undefined {
  if (e.vr === 'SQ') return undefined;
  const v = e.Value;
  if (v === undefined) return '';
  const out: (string | number)[] = [];
  for (const x of v) {
    if (typeof x === 'string' || typeof x === 'number') out.push(x);
    else if (x === null) out.push('');
    else if (typeof x === 'object' && e.vr === 'PN') {
      const pn = x as { Alphabetic?: string; Ideographic?: string; Phonetic?: string };
      out.push([pn.Alphabetic ?? '', pn.Ideographic ?? '', pn.Phonetic ?? ''].join('=').replace(/=+$/, ''));
    } else return undefined;
  }
  return out.length === 1 ? out[0]! : out;
}

/** A QIDO-RS answer as keyword → value, for the keywords asked. */
export function qidoHeader(ds: JsonDataset, keywords: readonly string[]): Header {
  const h: Record<string, Json> = { [ANSWER_CHARSET_KEY]: 'ISO_IR 192' };
  for (const k of keywords) {
    const t = lookupKeyword(k);
    if (!t) continue;
    const e = ds[tagHex(t.tag)];
    if (!e) continue;
    const v = jsonValue(e);
    if (v !== undefined) h[k] = v;
  }
  return h;
}

/** The parts of a multipart/related body (bytes of each part's content). */
export function multipartParts(body: Buffer, contentType: string | undefined): Buffer[] | undefined {
  const m = /boundary="?([^";]+)"?/i.exec(contentType ?? '');
  if (!m) return undefined;
  const delim = Buffer.from(`--${m[1]}`, 'latin1');
  const parts: Buffer[] = [];
  let at = body.indexOf(delim);
  while (at !== -1) {
    let start = at + delim.length;
    if (body.subarray(start, start + 2).toString('latin1') === '--') break; // closing delimiter
    const headEnd = body.indexOf('\r\n\r\n', start, 'latin1');
    if (headEnd === -1) return undefined;
    start = headEnd + 4;
    const next = body.indexOf(Buffer.concat([Buffer.from('\r\n', 'latin1'), delim]), start);
    if (next === -1) return undefined;
    parts.push(body.subarray(start, next));
    at = next + 2;
  }
  return parts;
}

const httpFailure = (what: string, status: number, statusText: string): VerifyFailure => ({
  code: `HTTP_${status}`,
  message: `${what}: HTTP ${status}${statusText ? ` ${statusText}` : ''}`,
  retryable: status >= 500 || status === 408 || status === 429,
});

export function dicomwebVerifyTarget(o: DicomwebVerifyOptions): VerifyTarget {
  const client = new HttpClient(o);
  const name = client.name;
  const pageSize = o.pageSize ?? 1000;
  const net = (f: NetFailure, what: string) => fromNetFailure(f, what);

  async function list(
    studyUid: string,
    _expected: readonly Instance[],
    keywords: readonly string[],
  ): Promise<Result<TargetListing, VerifyFailure>> {
    const asked = keywords.filter(
      (k) => !ENCODING_KEYWORDS.has(k) && !isMetaKey(k) && lookupKeyword(k)?.keyword === k,
    );
    const fields = [...new Set([...asked, 'SOPInstanceUID', 'SeriesInstanceUID'])]
      .map((k) => `includefield=${tagHex(lookupKeyword(k)!.tag)}`)
      .join('&');
    const instances = new Map<string, Header[]>();
    const what = `QIDO-RS study ${studyUid} at ${name}`;
    for (let offset = 0; ; offset += pageSize) {
      const r = await client.request({
        method: 'GET',
        path: `/studies/${encodeURIComponent(studyUid)}/instances?${fields}&limit=${pageSize}&offset=${offset}`,
        headers: { Accept: 'application/dicom+json' },
      });
      if (!r.ok) return err(net(r.error, what));
      const res = r.value;
      if (res.status === 204 || (res.status === 404 && offset === 0)) break; // no match: nothing there
      if (res.status !== 200) return err(httpFailure(what, res.status, res.statusText));
      let page: JsonDataset[];
      try {
        const j: unknown = res.body.length ? JSON.parse(res.body.toString('utf8')) : [];
        if (!Array.isArray(j)) throw new Error('not an array');
        page = j as JsonDataset[];
      } catch {
        return err({
          code: 'QIDO_UNREADABLE',
          message: `${what}: the answer is not DICOM JSON`,
          retryable: true,
        });
      }
      for (const d of page) {
        const sop = d[SOP_INSTANCE_UID]?.Value?.[0];
        if (typeof sop !== 'string' || sop === '') continue;
        instances.set(sop, [...(instances.get(sop) ?? []), qidoHeader(d, asked.concat('SOPInstanceUID'))]);
      }
      if (page.length < pageSize) break;
    }
    return ok({ instances, complete: true, mode: 'query', notes: [] });
  }

  async function retrieve(
    studyUid: string,
    expected: readonly Instance[],
  ): Promise<Result<RetrievedFiles, VerifyFailure>> {
    await mkdir(o.tempDir, { recursive: true });
    const dir = await mkdtemp(join(o.tempDir, `verify-${process.pid}-`));
    const paths: string[] = [];
    const notes: string[] = [];
    const release = () => rm(dir, { recursive: true, force: true });
    for (const i of expected) {
      const what = `WADO-RS instance ${i.sopInstanceUid} at ${name}`;
      const path = `/studies/${encodeURIComponent(studyUid)}/series/${encodeURIComponent(i.seriesUid)}/instances/${encodeURIComponent(i.sopInstanceUid)}`;
      let r = await client.request({
        method: 'GET',
        path,
        headers: { Accept: 'multipart/related; type="application/dicom"; transfer-syntax=*' },
        maxResponseBytes: 1 << 30,
      });
      if (r.ok && (r.value.status === 406 || r.value.status === 400))
        // An archive that cannot send "as stored" on request: its default syntax (pixels compared as values).
        r = await client.request({
          method: 'GET',
          path,
          headers: { Accept: 'multipart/related; type="application/dicom"' },
          maxResponseBytes: 1 << 30,
        });
      if (!r.ok) {
        await release();
        return err(net(r.error, what));
      }
      if (r.value.status === 404) {
        notes.push(`${i.sopInstanceUid}: not retrievable (HTTP 404)`);
        continue;
      }
      if (r.value.status !== 200) {
        await release();
        return err(httpFailure(what, r.value.status, r.value.statusText));
      }
      const parts = multipartParts(r.value.body, r.value.headers['content-type']);
      if (!parts) {
        await release();
        return err({
          code: 'WADO_UNREADABLE',
          message: `${what}: not a multipart/related answer`,
          retryable: true,
        });
      }
      for (let k = 0; k < parts.length; k++) {
        const p = join(dir, `${i.sopInstanceUid}.${k}.dcm`);
        await writeFile(p, parts[k]!);
        paths.push(p);
      }
    }
    return ok({ paths, notes, release });
  }

  return { name, list, retrieve, close: async () => client.close() };
}
