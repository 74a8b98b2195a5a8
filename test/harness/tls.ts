import { writeFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { join } from 'node:path';
import { runTool } from './process.js';
import { makeTempDir, removeTempDir } from './tmp.js';

/**
 * Throwaway PKI for DICOM TLS tests, made with the openssl command line (RSA 2048, SHA-256, PEM, valid 7 days):
 * - ca: the trusted test CA;
 * - server, client: leaf certificates signed by ca, valid for `hosts` (both carry serverAuth and clientAuth,
 *   so either can be used by an Orthanc that is SCP and SCU at once);
 * - untrustedCa and untrusted: a second CA nobody trusts, and a leaf it signed for `hosts`;
 * - wrongHost: signed by ca, but for a host name that is not ours.
 * Keys are unencrypted (DCMTK: no password prompt).
 */

export interface KeyPair {
  key: string;
  cert: string;
}

export interface Certificates {
  dir: string;
  ca: KeyPair;
  server: KeyPair;
  client: KeyPair;
  untrustedCa: KeyPair;
  untrusted: KeyPair;
  wrongHost: KeyPair;
  /** The host name wrongHost was made for. */
  wrongHostName: string;
  cleanup(): void;
}

export interface MakeCertificatesOptions {
  hosts?: readonly string[];
  /** Where to write; default a new temp dir (removed by cleanup()). */
  dir?: string;
}

async function openssl(dir: string, args: string[]): Promise<void> {
  const result = await runTool('openssl', args, { cwd: dir, timeoutMs: 60_000 });
  if (result.code !== 0)
    throw new Error(`openssl ${args.join(' ')} failed (${String(result.code)}):\n${result.stderr}`);
}

async function makeCa(dir: string, name: string, commonName: string): Promise<KeyPair> {
  const pair = { key: join(dir, `${name}.key`), cert: join(dir, `${name}.crt`) };
  await openssl(dir, [
    'req',
    '-x509',
    '-new',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-sha256',
    '-days',
    '7',
    '-keyout',
    pair.key,
    '-out',
    pair.cert,
    '-subj',
    `/CN=${commonName}`,
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign',
  ]);
  return pair;
}

let serial = 1;

async function makeLeaf(dir: string, name: string, ca: KeyPair, hosts: readonly string[]): Promise<KeyPair> {
  const pair = { key: join(dir, `${name}.key`), cert: join(dir, `${name}.crt`) };
  const csr = join(dir, `${name}.csr`);
  const ext = join(dir, `${name}.ext`);
  const san = hosts.map((h) => (isIP(h) ? `IP:${h}` : `DNS:${h}`)).join(',');
  writeFileSync(
    ext,
    [
      'basicConstraints=critical,CA:FALSE',
      'keyUsage=critical,digitalSignature,keyEncipherment',
      'extendedKeyUsage=serverAuth,clientAuth',
      `subjectAltName=${san}`,
      '',
    ].join('\n'),
  );
  await openssl(dir, [
    'req',
    '-new',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    pair.key,
    '-out',
    csr,
    '-subj',
    `/CN=${hosts[0] ?? name}`,
  ]);
  await openssl(dir, [
    'x509',
    '-req',
    '-in',
    csr,
    '-CA',
    ca.cert,
    '-CAkey',
    ca.key,
    '-set_serial',
    String(Date.now() * 100 + serial++),
    '-days',
    '7',
    '-sha256',
    '-extfile',
    ext,
    '-out',
    pair.cert,
  ]);
  return pair;
}

export async function makeCertificates(options: MakeCertificatesOptions = {}): Promise<Certificates> {
  const hosts = options.hosts ?? ['localhost', '127.0.0.1'];
  if (hosts.length === 0) throw new Error('makeCertificates: at least one host');
  const ownDir = options.dir === undefined;
  const dir = options.dir ?? makeTempDir('tls');
  const wrongHostName = 'wrong-host.invalid';
  try {
    const [ca, untrustedCa] = await Promise.all([
      makeCa(dir, 'ca', 'pacshift test CA'),
      makeCa(dir, 'untrusted-ca', 'pacshift untrusted CA'),
    ]);
    const [server, client, untrusted, wrongHost] = await Promise.all([
      makeLeaf(dir, 'server', ca, hosts),
      makeLeaf(dir, 'client', ca, ['pacshift-client', ...hosts]),
      makeLeaf(dir, 'untrusted', untrustedCa, hosts),
      makeLeaf(dir, 'wrong-host', ca, [wrongHostName]),
    ]);
    return {
      dir,
      ca,
      server,
      client,
      untrustedCa,
      untrusted,
      wrongHost,
      wrongHostName,
      cleanup: () => {
        if (ownDir) removeTempDir(dir);
      },
    };
  } catch (error) {
    if (ownDir) removeTempDir(dir);
    throw error;
  }
}
