import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PortClashError, withFreePorts } from './ports.js';
import { awaitListening, dicomWebPlugin, spawnPeer, which, type PeerProcess } from './process.js';
import { makeTempDir, removeTempDir } from './tmp.js';

/**
 * Orthanc (Debian 1.10.1) on free loopback ports with its own config and temp storage. Never the system service.
 *
 * The SCP lets any calling AE echo, store, find, get and move (DicomAlwaysAllow*: move destinations still have
 * to be in `modalities`), accepts unknown SOP classes, and does not check the called AE title.
 * Orthanc 1.10.1 quirks worth knowing in tests: OverwriteInstances is false (a re-sent instance with other content
 * is answered Success and dropped); LimitFindResults caps C-FIND answers; REST upload of an HTJ2K file fails
 * (404 "Inexistent tag"); it cannot transcode J2K or JPEG XL.
 */

export interface OrthancModality {
  aeTitle: string;
  host: string;
  port: number;
}

export interface OrthancOptions {
  aeTitle?: string;
  /** DicomModalities, keyed by Orthanc's symbolic name (used in /modalities/{name}/...). */
  modalities?: Record<string, OrthancModality>;
  /** Merged last (shallowly) into the generated JSON config, e.g. { LimitFindResults: 10, OverwriteInstances: true }. */
  config?: Record<string, unknown>;
  /** Load the DICOMweb plugin (root /dicom-web/). */
  dicomWeb?: boolean;
}

export class OrthancHttpError extends Error {
  constructor(
    readonly method: string,
    readonly path: string,
    readonly status: number,
    readonly body: string,
  ) {
    super(`Orthanc ${method} ${path}: HTTP ${status} ${body.slice(0, 500)}`);
  }
}

export interface OrthancRest {
  /** JSON (or text) of a 2xx answer; throws OrthancHttpError otherwise. */
  get<T = unknown>(path: string): Promise<T>;
  /** `body`: a string or Buffer is sent as is; anything else as JSON. */
  post<T = unknown>(path: string, body?: unknown): Promise<T>;
  put<T = unknown>(path: string, body?: unknown): Promise<T>;
  delete<T = unknown>(path: string): Promise<T>;
  /** The raw fetch Response, whatever its status. */
  request(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<Response>;
}

export interface OrthancUploadResult {
  ID: string;
  Status: string;
  Path: string;
  ParentPatient: string;
  ParentStudy: string;
  ParentSeries: string;
}

export interface Orthanc {
  readonly host: string;
  readonly dicomPort: number;
  readonly httpPort: number;
  readonly aeTitle: string;
  /** http://127.0.0.1:<httpPort> */
  readonly baseUrl: string;
  readonly dir: string;
  readonly process: PeerProcess;
  readonly rest: OrthancRest;
  /** POST /instances with the file's bytes. */
  upload(filePath: string): Promise<OrthancUploadResult>;
  /** Kills the process (SIGKILL by default: a crash) and waits for it; config and storage are kept. */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** Starts Orthanc again after kill(): same ports, config and storage; resolves once it answers REST. */
  restart(): Promise<void>;
  stop(): Promise<void>;
  logTail(lines?: number): string;
}

export function orthancConfig(options: {
  aeTitle: string;
  dicomPort: number;
  httpPort: number;
  storage: string;
  modalities: Record<string, OrthancModality>;
  plugins: string[];
  extra: Record<string, unknown>;
}): Record<string, unknown> {
  const modalities: Record<string, unknown> = {};
  for (const [name, m] of Object.entries(options.modalities)) {
    modalities[name] = { AET: m.aeTitle, Host: m.host, Port: m.port };
  }
  return {
    Name: `pacshift-${options.aeTitle}`,
    StorageDirectory: options.storage,
    IndexDirectory: options.storage,
    HttpPort: options.httpPort,
    DicomPort: options.dicomPort,
    DicomAet: options.aeTitle,
    RemoteAccessAllowed: false,
    AuthenticationEnabled: false,
    HttpServerEnabled: true,
    HttpCompressionEnabled: false,
    DicomServerEnabled: true,
    DicomCheckCalledAet: false,
    DicomCheckModalityHost: false,
    DicomAlwaysAllowEcho: true,
    DicomAlwaysAllowStore: true,
    DicomAlwaysAllowFind: true,
    DicomAlwaysAllowFindWorklist: false,
    DicomAlwaysAllowGet: true,
    DicomAlwaysAllowMove: true,
    DicomModalities: modalities,
    DicomModalitiesInDatabase: false,
    OrthancPeers: {},
    UnknownSopClassAccepted: true,
    StorageCommitmentReportsSize: 100,
    SaveJobs: false,
    SyncStorageArea: false, // throwaway storage: no fsync per instance
    ConcurrentJobs: 2,
    LimitFindResults: 0,
    LimitFindInstances: 0,
    OverwriteInstances: false,
    Plugins: options.plugins,
    ...(options.plugins.length > 0 ? { DicomWeb: { Enable: true, Root: '/dicom-web/' } } : {}),
    ...options.extra,
  };
}

function encodeBody(body: unknown): { data: string | Buffer | undefined; type: string | undefined } {
  if (body === undefined) return { data: undefined, type: undefined };
  if (typeof body === 'string') return { data: body, type: 'text/plain' };
  if (Buffer.isBuffer(body)) return { data: body, type: 'application/octet-stream' };
  return { data: JSON.stringify(body), type: 'application/json' };
}

function makeRest(baseUrl: string): OrthancRest {
  const request = async (
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<Response> => {
    const { data, type } = encodeBody(body);
    const allHeaders: Record<string, string> = { ...headers };
    if (type && !Object.keys(allHeaders).some((h) => h.toLowerCase() === 'content-type'))
      allHeaders['Content-Type'] = type;
    return fetch(`${baseUrl}${path}`, { method, headers: allHeaders, body: data });
  };
  const call = async <T>(
    method: string,
    path: string,
    body?: unknown,
    headers?: Record<string, string>,
  ): Promise<T> => {
    const response = await request(method, path, body, headers);
    const text = await response.text();
    if (!response.ok) throw new OrthancHttpError(method, path, response.status, text);
    const contentType = response.headers.get('content-type') ?? '';
    return (contentType.includes('json') && text !== '' ? JSON.parse(text) : text) as T;
  };
  return {
    get: (path) => call('GET', path),
    post: (path, body) => call('POST', path, body),
    put: (path, body) => call('PUT', path, body),
    delete: (path) => call('DELETE', path),
    request,
  };
}

async function waitForRest(rest: OrthancRest, proc: PeerProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await rest.get('/system');
      return;
    } catch (error) {
      if (proc.exitStatus() || Date.now() > deadline) {
        await proc.stop(500);
        const message = `Orthanc did not answer GET /system: ${(error as Error).message}\n${proc.logTail(40)}`;
        throw /already in use/i.test(proc.logTail(40)) ? new PortClashError(message) : new Error(message);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

export async function startOrthanc(options: OrthancOptions = {}): Promise<Orthanc> {
  const aeTitle = options.aeTitle ?? 'ORTHANC';
  const binary = which('Orthanc');
  if (!binary) throw new Error('Orthanc is not installed');
  const plugins: string[] = [];
  if (options.dicomWeb) {
    const plugin = dicomWebPlugin();
    if (!plugin)
      throw new Error('Orthanc DICOMweb plugin is not installed (Debian package orthanc-dicomweb)');
    plugins.push(plugin);
  }
  const dir = makeTempDir('orthanc');
  try {
    return await withFreePorts(2, async ([dicomPort, httpPort]) => {
      const configFile = join(dir, 'orthanc.json');
      const config = orthancConfig({
        aeTitle,
        dicomPort: dicomPort!,
        httpPort: httpPort!,
        storage: join(dir, 'storage'),
        modalities: options.modalities ?? {},
        plugins,
        extra: options.config ?? {},
      });
      writeFileSync(configFile, JSON.stringify(config, null, 2));
      const baseUrl = `http://127.0.0.1:${httpPort!}`;
      const rest = makeRest(baseUrl);
      const launch = async (): Promise<PeerProcess> => {
        const p = spawnPeer(binary, [configFile], {
          name: `Orthanc ${aeTitle}`,
          cwd: dir,
          logFile: join(dir, 'orthanc.log'),
        });
        await awaitListening(p, [httpPort!, dicomPort!], 30_000);
        await waitForRest(rest, p, 30_000);
        return p;
      };
      let proc = await launch();
      return {
        host: '127.0.0.1',
        dicomPort: dicomPort!,
        httpPort: httpPort!,
        aeTitle,
        baseUrl,
        dir,
        get process() {
          return proc;
        },
        rest,
        async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
          if (!proc.exitStatus()) process.kill(-proc.pid, signal);
          await proc.exited;
          await proc.stop(500); // whatever is left in its process group
        },
        async restart(): Promise<void> {
          if (!proc.exitStatus()) throw new Error(`Orthanc ${aeTitle} still runs: kill() it first`);
          // The ports are ours again only once the old listener is gone; a restart on a taken port is a
          // test bug, not a clash to retry with other ports.
          proc = await launch();
        },
        upload: (filePath: string) =>
          rest
            .request('POST', '/instances', readFileSync(filePath), { 'Content-Type': 'application/dicom' })
            .then(async (r) => {
              const text = await r.text();
              if (!r.ok) throw new OrthancHttpError('POST', `/instances (${filePath})`, r.status, text);
              return JSON.parse(text) as OrthancUploadResult;
            }),
        async stop(): Promise<void> {
          await proc.stop(10_000);
          removeTempDir(dir);
        },
        logTail: (lines?: number) => proc.logTail(lines),
      };
    });
  } catch (error) {
    removeTempDir(dir);
    throw error;
  }
}
