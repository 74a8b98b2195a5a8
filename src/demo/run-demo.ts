/**
 * `pacshift demo`: two built-in archives on free loopback ports (the source seeded with generated
 * data and planted problems, the target refusing one SOP class), a plan, and the whole pipeline:
 * inventory → scope → migrate → verify → report. Everything lives under one folder.
 */
import { mkdir, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { join, resolve } from 'node:path';
import { startArchive } from '../archive/archive.js';
import { generateDemoArchive, SOP, TEST_PATIENT, type DemoManifest } from './generate.js';

export interface DemoSetup {
  dir: string;
  planPath: string;
  manifest: DemoManifest;
  source: { port: number; close(): Promise<void>; unreadable: number };
  target: { port: number; close(): Promise<void> };
  close(): Promise<void>;
}

function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = net.createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const p = (s.address() as net.AddressInfo).port;
      s.close(() => res(p));
    });
  });
}

export function demoPlanYaml(o: { localPort: number; sourcePort: number; targetPort: number }): string {
  return `# The pacshift demo plan: written by \`pacshift demo\`; see \`pacshift init\` for every option.
name: demo
version: 1
local:
  aeTitle: PACSHIFT
  host: 127.0.0.1
  port: ${o.localPort}
source:
  type: dimse
  host: 127.0.0.1
  port: ${o.sourcePort}
  calledAe: DEMO_SOURCE
  retrieve: c-move
target:
  type: dimse
  host: 127.0.0.1
  port: ${o.targetPort}
  calledAe: DEMO_TARGET
scope:
  rules:
    - id: no-test-patients
      action: exclude
      description: QA phantoms and test patients stay behind
      match:
        patientId: "${TEST_PATIENT.id.slice(0, 4)}*"
transfer:
  quietPeriod: 2s
verify:
  sample:
    percent: 100
    minStudies: 0
`;
}

export async function setUpDemo(dir: string): Promise<DemoSetup> {
  dir = resolve(dir);
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  const manifest = await generateDemoArchive(join(dir, 'source-archive'));
  const [localPort] = [await freePort()];
  const target = await startArchive({
    dir: join(dir, 'target-archive'),
    port: 0,
    host: '127.0.0.1',
    aeTitle: 'DEMO_TARGET',
    refuseSopClasses: [SOP.PDF],
    peers: { PACSHIFT: { host: '127.0.0.1', port: localPort! } },
  });
  const source = await startArchive({
    dir: manifest.dir,
    port: 0,
    host: '127.0.0.1',
    aeTitle: 'DEMO_SOURCE',
    peers: { PACSHIFT: { host: '127.0.0.1', port: localPort! } },
  });
  const planPath = join(dir, 'demo.yaml');
  await writeFile(
    planPath,
    demoPlanYaml({ localPort: localPort!, sourcePort: source.port, targetPort: target.port }),
  );
  return {
    dir,
    planPath,
    manifest,
    source: { port: source.port, close: () => source.close(), unreadable: source.stats.unreadable },
    target: { port: target.port, close: () => target.close() },
    close: async () => {
      await source.close();
      await target.close();
    },
  };
}
