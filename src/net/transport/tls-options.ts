/** TLS settings a site expects: its own CA, client certificates, host name checks (PS3.15 B.1). */
export interface TlsSettings {
  /** PEM file contents (not paths). */
  ca?: Buffer | string;
  cert?: Buffer | string;
  key?: Buffer | string;
  /** Requestor: the name to verify in the server certificate (default: the host). */
  servername?: string;
  /** Acceptor: require and verify a client certificate (default true when `ca` is given). */
  requireClientCertificate?: boolean;
  /** Never set in production: accept any certificate. */
  insecureSkipVerify?: boolean;
  minVersion?: 'TLSv1.2' | 'TLSv1.3';
}
