import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openChannel, type Peer } from '../../src/net/peer.js';
import { cEcho } from '../../src/net/services/echo.js';
import { UNCOMPRESSED_LE, VERIFICATION } from '../../src/net/services/sop-classes.js';
import { storeInstances } from '../../src/net/services/store-scu.js';
import type { TlsSettings } from '../../src/net/transport/tls-options.js';
import { hasCorpus, wellFormedUncompressed } from '../harness/corpus.js';
import { readSendable, receivedDigest, sentDigest, startTestScp, type TestScp } from '../harness/net-peer.js';
import { hasCommand, peers } from '../harness/process.js';
import { storescu } from '../harness/scu.js';
import { startStorescp, type Storescp } from '../harness/storescp.js';
import { makeCertificates, type Certificates, type KeyPair } from '../harness/tls.js';

// DICOM over TLS (PS3.15 B.1) between pacshift and DCMTK's own TLS (storescp/storescu +tls), certificates from
// test/harness/tls.ts; and who may call: an unconfigured calling AE, or a configured one from another host, is
// rejected with the PS3.8 values. Every failure is a typed value, within the timeouts (never a hang).

const QUICK = { connectMs: 5_000, associationMs: 5_000, releaseMs: 5_000, artimMs: 5_000 };
/** The longest a failed attempt may take: it must end by itself, well before the timeouts. */
const FAST_MS = 4_000;

const describeIf = describe.skipIf(!peers.dcmtk || !hasCommand('openssl') || !hasCorpus());

describeIf('TLS and who may call', () => {
  let certs: Certificates;
  let scp: Storescp;
  let untrustedScp: Storescp;
  let wrongHostScp: Storescp;
  let pacshiftTls: TestScp;
  let restricted: TestScp;
  const files = () =>
    wellFormedUncompressed()
      .filter((r) => r.transferSyntax === 'Explicit VR Little Endian' && r.size < 200_000)
      .slice(0, 3);

  const read = (p: KeyPair): { key: Buffer; cert: Buffer } => ({
    key: readFileSync(p.key),
    cert: readFileSync(p.cert),
  });
  /** pacshift as a TLS client: trusts the test CA, presents `as` (default the client certificate). */
  const clientTls = (as: KeyPair = certs.client): TlsSettings => ({
    ca: readFileSync(certs.ca.cert),
    ...read(as),
  });
  const peerOf = (
    s: { host: string; port: number; aeTitle: string },
    tls: TlsSettings | undefined,
    callingAeTitle = 'PACSHIFT',
  ): Peer => ({
    host: s.host,
    port: s.port,
    aeTitle: s.aeTitle,
    callingAeTitle,
    tls,
    timeouts: QUICK,
    dimseTimeoutMs: 5_000,
  });

  async function echo(peer: Peer) {
    const t0 = Date.now();
    const ch = await openChannel(peer, [{ abstractSyntax: VERIFICATION, transferSyntaxes: UNCOMPRESSED_LE }]);
    if (!ch.ok) return { r: ch, ms: Date.now() - t0 };
    const r = await cEcho(ch.value);
    await ch.value.assoc.release();
    return { r, ms: Date.now() - t0, tls: ch.value.assoc.info.tls };
  }

  beforeAll(async () => {
    certs = await makeCertificates({ hosts: ['localhost', '127.0.0.1'] });
    const server = { ca: certs.ca.cert, requirePeerCert: true };
    [scp, untrustedScp, wrongHostScp] = await Promise.all([
      startStorescp({ aeTitle: 'TLS_SCP', tls: { ...certs.server, ...server } }),
      startStorescp({ aeTitle: 'UNTRUSTED_SCP', tls: { ...certs.untrusted, ...server } }),
      startStorescp({ aeTitle: 'WRONGHOST_SCP', tls: { ...certs.wrongHost, ...server } }),
    ]);
    const serverTls: TlsSettings = { ca: readFileSync(certs.ca.cert), ...read(certs.server) };
    pacshiftTls = await startTestScp({ aeTitle: 'PACSHIFT_TLS', tls: serverTls });
    restricted = await startTestScp({
      aeTitle: 'RESTRICTED',
      tls: serverTls,
      allow: [
        { aeTitle: 'KNOWN', hosts: ['127.0.0.1'] },
        { aeTitle: 'ELSEWHERE', hosts: ['192.0.2.7'] },
      ],
    });
  }, 120_000);
  afterAll(async () => {
    await Promise.all([
      scp?.stop(),
      untrustedScp?.stop(),
      wrongHostScp?.stop(),
      pacshiftTls?.stop(),
      restricted?.stop(),
    ]);
    certs?.cleanup();
  });

  it('pacshift → storescp over TLS (client certificate required): echo, and files stored with their bytes', async () => {
    const e = await echo(peerOf(scp, clientTls()));
    expect(e.r.ok, e.r.ok ? '' : `${e.r.error.kind}: ${e.r.error.message}\n${scp.logTail()}`).toBe(true);
    expect(e.tls).toBe(true);
    const { sendable } = await readSendable(files().map((r) => r.absPath));
    expect(sendable).toHaveLength(3);
    const outcomes = await storeInstances(peerOf(scp, clientTls()), sendable);
    expect(outcomes.map((o) => o.ok && o.status)).toEqual([0, 0, 0]);
    const received = await Promise.all((await scp.waitForFiles(3)).map(receivedDigest));
    for (const i of sendable) {
      const s = await sentDigest(i, 'other');
      expect(received.some((r) => r.sopInstanceUid === i.sopInstanceUid && r.sha256 === s.sha256)).toBe(true);
    }
  });

  it('storescu → pacshift SCP over TLS: files stored; an untrusted client certificate is refused at the handshake', async () => {
    const rows = files();
    const r = await storescu(
      pacshiftTls,
      rows.map((x) => x.absPath),
      { tls: { ...certs.client, ca: certs.ca.cert } },
    );
    expect(r.ok, r.stderr).toBe(true);
    await pacshiftTls.waitForStored(rows.length);
    expect(new Set(pacshiftTls.stored.flatMap((s) => (s.ok ? [s.instance.sopInstanceUid] : [])))).toEqual(
      new Set(rows.map((x) => x.sopInstanceUid)),
    );
    expect(pacshiftTls.associations.every((a) => a.info.tls)).toBe(true);

    const refusedBefore = pacshiftTls.refused.length;
    const bad = await storescu(pacshiftTls, [rows[0]!.absPath], {
      tls: { ...certs.untrusted, ca: certs.ca.cert },
      networkTimeoutS: 3,
    });
    expect(bad.ok).toBe(false);
    expect(pacshiftTls.refused.length).toBeGreaterThan(refusedBefore);
    expect(pacshiftTls.refused.at(-1)!.why).toMatch(/TLS handshake failed/);
    expect(pacshiftTls.stored).toHaveLength(rows.length);
  });

  it('a plain connection to a TLS port fails, typed, without hanging (both ways)', async () => {
    for (const target of [scp, pacshiftTls]) {
      const { r, ms } = await echo(peerOf(target, undefined));
      expect(r.ok).toBe(false);
      if (r.ok) continue;
      console.log(`plain → TLS ${target.aeTitle}: ${r.error.kind} in ${ms} ms (${r.error.message})`);
      expect(['closed', 'aborted', 'protocol-error', 'connect-failed']).toContain(r.error.kind);
      expect(ms).toBeLessThan(FAST_MS);
    }
  });

  it('a server certificate from an untrusted CA, or for another host, is a typed tls failure', async () => {
    const cases = [
      { target: untrustedScp, why: /self.signed|unable to verify|issuer|UNABLE_TO_GET_ISSUER/i },
      { target: wrongHostScp, why: /altnames|ALTNAME|does not match|Hostname/i },
    ];
    for (const c of cases) {
      const { r, ms } = await echo(peerOf(c.target, clientTls()));
      expect(r.ok).toBe(false);
      if (r.ok) continue;
      console.log(
        `pacshift → ${c.target.aeTitle}: ${r.error.kind} ${'code' in r.error ? r.error.code : ''} in ${ms} ms`,
      );
      expect(r.error.kind).toBe('tls');
      expect(r.error.message).toMatch(c.why);
      expect(ms).toBeLessThan(FAST_MS);
    }
    // The same storescp is fine for a client that checks the name it was issued for.
    const named = await echo(peerOf(wrongHostScp, { ...clientTls(), servername: certs.wrongHostName }));
    expect(named.r.ok, named.r.ok ? '' : named.r.error.message).toBe(true);
  });

  it('our client certificate from an untrusted CA: storescp refuses it with a TLS alert, a typed tls failure naming it', async () => {
    // TLS 1.3: our handshake completes before storescp checks our certificate; its alert comes afterwards.
    const { r, ms } = await echo(peerOf(scp, clientTls(certs.untrusted)));
    expect(r.ok).toBe(false);
    if (r.ok) return;
    console.log(`untrusted client certificate → storescp: ${r.error.kind} in ${ms} ms (${r.error.message})`);
    expect(r.error.kind).toBe('tls');
    expect(r.error.message).toMatch(/UNKNOWN_CA/);
    expect(ms).toBeLessThan(FAST_MS);
  });

  it('an unconfigured calling AE is rejected: A-ASSOCIATE-RJ permanent, service-user, calling-AE-not-recognized', async () => {
    const { r } = await echo(peerOf(restricted, clientTls(), 'STRANGER'));
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.error).toMatchObject({ kind: 'rejected', result: 1, source: 1, reason: 3 });
      expect(r.error.message).toMatch(/calling-AE-title-not-recognized/);
    }
    expect(restricted.refused.at(-1)!.why).toMatch(/calling AE STRANGER is not configured/);
    // storescu sees the same rejection.
    const s = await storescu(restricted, [files()[0]!.absPath], {
      callingAe: 'STRANGER',
      tls: { ...certs.client, ca: certs.ca.cert },
    });
    expect(s.ok).toBe(false);
    expect(s.stderr + s.stdout).toMatch(/Calling AE Title Not Recognized/i);
    expect(restricted.stored).toHaveLength(0);
  });

  it('a configured calling AE from a host it is not configured for is rejected the same way; from its host, accepted', async () => {
    const { r } = await echo(peerOf(restricted, clientTls(), 'ELSEWHERE'));
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error).toMatchObject({ kind: 'rejected', result: 1, source: 1, reason: 3 });
    expect(restricted.refused.at(-1)!.why).toMatch(/ELSEWHERE is not allowed from 127\.0\.0\.1/);
    const known = await echo(peerOf(restricted, clientTls(), 'KNOWN'));
    expect(known.r.ok, known.r.ok ? '' : known.r.error.message).toBe(true);
    if (known.r.ok) expect(known.r.value.status).toBe(0);
  });
});
