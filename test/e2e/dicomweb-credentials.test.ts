/**
 * Credentials over plain HTTP (issue 7 item 17). A DICOMweb target on http:// used to receive
 * `Authorization: Basic …` — the password, base64-encoded, readable by anyone on the way. Now the plan is refused
 * (a plan error, exit 2, naming target.auth and the fix) unless it sets target.allowPlainHttpCredentials: true.
 * Against a real Orthanc with the DICOMweb plugin, behind a TCP proxy that records what crosses the wire.
 */
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readInstanceInfo } from '../../src/dicom/part10.js';
import { openMigration } from '../../src/run/context.js';
import { corpusDir, hasCorpus } from '../harness/corpus.js';
import { e2eDir, runMigrate } from '../harness/migration.js';
import { startOrthanc, type Orthanc } from '../harness/orthanc.js';
import { freePort } from '../harness/ports.js';
import { peers } from '../harness/process.js';
import { startProxy, type Proxy } from '../harness/proxy.js';

const FILE = 'highdicom/ct_image.dcm';
const PASSWORD_ENV = 'PACSHIFT_E2E_WEB_PASSWORD';

describe.skipIf(!peers.dicomweb || !hasCorpus())('DICOMweb credentials over plain http://', () => {
  const work = e2eDir('dicomweb-credentials');
  let orthanc: Orthanc;
  let proxy: Proxy;
  let wire = '';
  let folder: string;

  beforeAll(async () => {
    orthanc = await startOrthanc({ aeTitle: 'WEBTARGET', dicomWeb: true });
    proxy = await startProxy({
      targetHost: '127.0.0.1',
      targetPort: orthanc.httpPort,
      onData: (d, c) => {
        if (d === 'upstream') wire += c.toString('latin1');
      },
    });
    folder = join(work.dir, 'source');
    mkdirSync(folder);
    symlinkSync(join(corpusDir(), FILE), join(folder, 'ct.dcm'));
  }, 120_000);
  afterAll(async () => {
    await proxy?.stop();
    await orthanc?.stop();
    work.remove();
  });

  async function plan(name: string, extra: Record<string, unknown>): Promise<string> {
    const dir = join(work.dir, name);
    mkdirSync(dir);
    const p = join(dir, 'plan.yaml');
    writeFileSync(
      p,
      JSON.stringify({
        name,
        version: 1,
        local: { aeTitle: 'PACSHIFT', host: '127.0.0.1', port: await freePort() },
        source: { type: 'folder', path: folder },
        target: {
          type: 'dicomweb',
          url: `http://127.0.0.1:${proxy.port}/dicom-web`,
          auth: { type: 'basic', username: 'pacshift', passwordEnv: PASSWORD_ENV },
          ...extra,
        },
        state: { sqlite: join(dir, 'state.sqlite') },
        spool: { dir: join(dir, 'spool') },
        report: { dir: join(dir, 'report') },
        transfer: { quietPeriod: '1s' },
        verify: { sample: { percent: 100 } },
      }),
    );
    return p;
  }

  it('is a plan error naming target.auth and the fix; nothing is sent', async () => {
    const p = await plan('refused', {});
    wire = '';
    const run = await runMigrate(p, [], {
      logFile: join(work.dir, 'refused.log'),
      timeoutMs: 120_000,
      env: { [PASSWORD_ENV]: 'not-for-the-wire' },
    });
    expect(run.code).toBe(2);
    expect(run.log).toMatch(
      /target\.auth.*plain http:\/\/.*https:\/\/.*target\.allowPlainHttpCredentials: true/s,
    );
    expect(proxy.stats().connections).toBe(0);
    expect(wire).not.toMatch(/Authorization/i);
    expect(wire).not.toContain(Buffer.from('pacshift:not-for-the-wire').toString('base64'));
  }, 180_000);

  it('goes through only when the plan allows it explicitly (target.allowPlainHttpCredentials: true)', async () => {
    const p = await plan('allowed', { allowPlainHttpCredentials: true });
    wire = '';
    const run = await runMigrate(p, [], {
      logFile: join(work.dir, 'allowed.log'),
      timeoutMs: 180_000,
      env: { [PASSWORD_ENV]: 'allowed-on-loopback' },
    });
    expect(run.code, run.log.slice(-2000)).toBe(0);
    expect(wire).toContain(
      `Authorization: Basic ${Buffer.from('pacshift:allowed-on-loopback').toString('base64')}`,
    );
    const ctx = await openMigration(p);
    try {
      const info = await readInstanceInfo(join(corpusDir(), FILE));
      const inst = await ctx.store.getInstance(info.ok ? info.value.sopInstanceUid : '');
      expect(inst?.verifyOutcome).toBe('verified');
    } finally {
      await ctx.close();
    }
  }, 240_000);
});
