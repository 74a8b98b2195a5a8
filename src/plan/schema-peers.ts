/**
 * Plan sections `local`, `source` and `target`: who we are on the network and the two archives.
 * Every option is documented where it is defined (what, default, example, why).
 */
import * as z from 'zod';
import { opt, withRule } from './doc.js';
import {
  aeTitle,
  bool,
  duration,
  filePath,
  host,
  intIn,
  oneOf,
  port,
  uid,
  type PlanContext,
} from './primitives.js';

/**
 * An optional section: absent or empty (`local:` with everything commented out, which YAML reads as null)
 * means "all defaults".
 */
export function section<T extends z.ZodType>(obj: T) {
  return z.preprocess((v) => v ?? undefined, obj.prefault({} as z.input<T>));
}

// ---------------------------------------------------------------------------------------------------
// TLS and timeouts (shared by source and target)

/** TLS for an association we open (DICOM TLS, PS3.15 Annex B; usually port 2762). */
export const clientTlsSchema = (ctx: PlanContext) =>
  z
    .strictObject({
      /** CA bundle (PEM) that signs the peer's certificate. */
      ca: opt(filePath(ctx).optional(), {
        what: "PEM file with the certificate authority (or the peer's own certificate) to trust.",
        default: "Node's built-in public CA list",
        example: 'tls/hospital-ca.pem',
        why: 'Hospital PACS certificates are usually signed by an internal CA that no public list contains.',
      }),
      /** Client certificate (PEM) for mutual TLS. */
      cert: opt(filePath(ctx).optional(), {
        what: 'PEM file with our client certificate, for archives that require mutual TLS. Requires key.',
        example: 'tls/pacshift.crt',
        why: 'Many archives authenticate DICOM TLS peers by certificate instead of (or besides) AE title.',
      }),
      /** Client private key (PEM). */
      key: opt(filePath(ctx).optional(), {
        what: 'PEM file with the private key of cert.',
        example: 'tls/pacshift.key',
        why: 'Kept in its own file so it can have stricter permissions than the plan.',
      }),
      /** Name expected in the peer's certificate. */
      servername: opt(z.string().min(1).max(253).optional(), {
        what: "Host name to expect in the peer's certificate (SNI and verification).",
        default: 'the host option',
        example: 'pacs.hospital.local',
        rule: 'a host name',
        why: 'PACS are often reached by IP address while their certificate names a host; verification is never switched off.',
      }),
    })
    .refine((t) => (t.cert === undefined) === (t.key === undefined), {
      message:
        'cert and key must be given together (both PEM files), e.g. cert: tls/pacshift.crt and key: tls/pacshift.key',
    });

const timeoutsSchema = (peer: string) =>
  section(
    z.strictObject({
      /** TCP (and TLS) connection set-up. */
      connect: opt(duration({ min: 100, example: '10s' }).prefault('10s'), {
        what: `Time allowed to open the TCP/TLS connection to the ${peer}.`,
        why: 'A wrong host or a firewall that drops packets otherwise hangs until the operating system gives up (minutes).',
      }),
      /** ARTIM: association request/release and idle PDU wait (PS3.8 9.1.5). */
      artim: opt(duration({ min: 100, example: '30s' }).prefault('30s'), {
        what: 'ARTIM timer: how long to wait for the association to be accepted or released (PS3.8 9.1.5).',
        why: 'A peer that never answers A-ASSOCIATE-RQ must not hold one of our association slots forever.',
      }),
      /** Wait for a DIMSE response (or the next pending response). */
      dimse: opt(duration({ min: 1000, example: '5m' }).prefault('5m'), {
        what: 'How long to wait for a DIMSE response, or for the next pending (FF00) response of a C-FIND, C-MOVE or C-GET.',
        why: 'Some archives send no pending responses while they move a large study; too short aborts good moves, too long hides a stalled one. The outcome of a timed-out request is treated as unknown and reconciled.',
      }),
    }),
  );

// ---------------------------------------------------------------------------------------------------
// local

/** One peer allowed to open associations to our SCP. */
const allowEntrySchema = withRule(
  z.preprocess(
    (v) => (typeof v === 'string' ? { aeTitle: v } : v),
    z.strictObject({
      aeTitle: opt(aeTitle(), {
        what: 'Calling AE title of the peer.',
        example: 'OLDPACS',
        why: 'C-MOVE sub-operations arrive on a new association opened by the source, under its own AE title.',
      }),
      host: opt(host().optional(), {
        what: 'Only accept this AE title from this host or IP address.',
        default: 'any host',
        example: '10.20.30.40',
        why: 'AE titles are not secrets; pinning the address stops another device from storing into the migration.',
      }),
    }),
  ),
  'an AE title, or a mapping with aeTitle and (optionally) host',
  { aeTitle: 'OLDPACS', host: '10.20.30.40' },
);

/** Section `local`: our own Application Entity. */
export const localSchema = (ctx: PlanContext) =>
  z.strictObject({
    /** Our AE title. */
    aeTitle: opt(aeTitle().prefault('PACSHIFT'), {
      what: 'Our AE title: the calling AE title of our associations and the called AE title of our listener.',
      why: 'The source must know this title (with our host and port) as a C-MOVE destination; register it there before the first run.',
    }),
    /** Listen address. */
    host: opt(host().prefault('0.0.0.0'), {
      what: 'Address our listener (Storage SCP and storage-commitment SCU) binds to.',
      example: '10.20.30.5',
      why: 'Bind to the migration network interface only when the server also faces other networks.',
    }),
    /** Listen port. */
    port: opt(port().prefault(11112), {
      what: 'TCP port of our listener: where the source sends C-MOVE sub-operations and the target storage-commitment reports.',
      example: 11112,
      why: '11112 is the registered DICOM port and needs no root privileges (104 does).',
    }),
    /** Peers our listener serves. */
    allow: opt(z.array(allowEntrySchema).optional(), {
      rule: 'a list of AE titles or { aeTitle, host } mappings',
      what: 'Calling AE titles (optionally pinned to a host) our listener accepts; everyone else is rejected. A plain string is an AE title from any host. Whoever is accepted, only instances of a retrieve pacshift is waiting for are stored (the SOP Instance UIDs it asked for, or the Move Originator Message ID of its C-MOVE); any other is refused (0124) and logged.',
      default: "the source's calledAe from source.host and the target's calledAe from target.host",
      example: [{ aeTitle: 'OLDPACS', host: '10.20.30.40' }, 'NEWPACS'],
      why: 'Only the archives in this plan have any business sending us images, from where they are; AE titles are no secret, so the host is pinned by default. A source that sends from another address (a cluster, NAT) needs its entry here. A rejection is logged with the calling AE title and address so a missing entry is easy to spot.',
    }),
    /** Concurrent incoming associations. */
    maxAssociations: opt(intIn(1, 256, 16).prefault(16), {
      what: 'How many incoming associations our listener accepts at once.',
      why: 'Bounds memory and spool writes if a peer opens more associations than expected; excess requests are rejected (transient, the peer retries).',
    }),
    /** TLS for our listener. */
    tls: opt(
      z
        .strictObject({
          cert: opt(filePath(ctx), {
            what: 'PEM file with our server certificate.',
            example: 'tls/pacshift.crt',
            why: 'Peers that store to us over DICOM TLS verify it.',
          }),
          key: opt(filePath(ctx), {
            what: 'PEM file with the private key of cert.',
            example: 'tls/pacshift.key',
            why: 'Kept in its own file so it can have stricter permissions than the plan.',
          }),
          ca: opt(filePath(ctx).optional(), {
            what: 'PEM file with the CA that signs client certificates; with requireClientCert, only those peers are served.',
            example: 'tls/hospital-ca.pem',
            why: 'Mutual TLS is the only strong peer authentication DICOM has.',
          }),
          requireClientCert: opt(bool().prefault(false), {
            what: 'Reject peers that present no certificate signed by ca.',
            why: 'Off by default because few archives are configured with a client certificate.',
          }),
        })
        .optional(),
      {
        what: 'Serve our listener over TLS instead of plain TCP.',
        default: 'plain TCP',
        example: { cert: 'tls/pacshift.crt', key: 'tls/pacshift.key' },
        why: 'Use when the source sends C-MOVE sub-operations over DICOM TLS.',
      },
    ),
  });

// ---------------------------------------------------------------------------------------------------
// Shared DIMSE peer options

const dimsePeerShape = (ctx: PlanContext, role: 'source' | 'target') => ({
  /** Archive host. */
  host: opt(host(), {
    what: `Host name or IP address of the ${role} archive.`,
    example: role === 'source' ? 'pacs-old.hospital.local' : 'pacs-new.hospital.local',
    why: 'Where associations are opened.',
  }),
  /** Archive port. */
  port: opt(port(), {
    what: `DICOM port of the ${role} archive.`,
    example: 104,
    why: 'Usually 104 (DICOM), 11112, or 2762 for DICOM TLS; there is no safe default.',
  }),
  /** The archive's AE title. */
  calledAe: opt(aeTitle(), {
    what: `AE title of the ${role} archive (the called AE title of our associations).`,
    example: role === 'source' ? 'OLDPACS' : 'NEWPACS',
    why: 'Archives reject associations addressed to another title (A-ASSOCIATE-RJ, called AE title not recognised).',
  }),
  /** Our calling AE title towards this archive. */
  callingAe: opt(aeTitle().optional(), {
    what: `Calling AE title used towards the ${role}, if it knows us under another title than local.aeTitle.`,
    default: 'local.aeTitle',
    example: 'PACSHIFT_Q',
    why: 'Some archives grant query/retrieve rights per calling AE title; an existing registration can then be reused.',
  }),
  /** Query model for C-FIND (and C-MOVE/C-GET at the source). */
  queryModel: opt(oneOf(['study-root', 'patient-root']).prefault('study-root'), {
    what: `Query/Retrieve information model used for C-FIND${role === 'source' ? ', C-MOVE and C-GET' : ' (verification)'}.`,
    why: 'Study Root is supported almost everywhere and needs no patient level; use patient-root only for archives that lack Study Root.',
  }),
  /** Associations the archive allows us. */
  maxAssociations: opt(intIn(1, 64, role === 'source' ? 2 : 4).prefault(role === 'source' ? 2 : 4), {
    what: `Most associations pacshift may have open to the ${role} at once (all purposes together).`,
    why:
      role === 'source'
        ? 'The source is still in clinical use: keep its load small; raise it at night with transfer.windows.'
        : 'Archives cap associations per peer (licence or configuration); going over is rejected, not queued.',
  }),
  /** Timeouts. */
  timeouts: opt(timeoutsSchema(role), {
    what: `Network timeouts towards the ${role}.`,
    why: 'Every wait is bounded: a silent peer becomes a retried, reported failure instead of a stuck migration.',
  }),
  /** TLS. */
  tls: opt(clientTlsSchema(ctx).optional(), {
    what: `Use DICOM TLS towards the ${role}. An empty mapping ({}) means TLS with the public CA list.`,
    default: 'plain TCP',
    example: { ca: 'tls/hospital-ca.pem' },
    why: 'Required when the archive is reached across networks the hospital does not control.',
  }),
});

// ---------------------------------------------------------------------------------------------------
// source

/** Source archive reached over DIMSE (C-FIND, C-MOVE or C-GET). */
export const dimseSourceSchema = (ctx: PlanContext) =>
  opt(
    z.strictObject({
      type: z.literal('dimse'),
      ...dimsePeerShape(ctx, 'source'),
      /** C-MOVE or C-GET. */
      retrieve: opt(oneOf(['c-move', 'c-get']).prefault('c-move'), {
        what: 'How instances are retrieved: c-move (the source opens an association to our listener) or c-get (instances come back on our own association).',
        why: 'C-MOVE works with nearly every archive; C-GET needs no inbound firewall rule or destination registration but many archives lack it or negotiate roles poorly.',
      }),
      /** C-MOVE destination AE title. */
      moveDestination: opt(aeTitle().optional(), {
        what: 'Move Destination AE title sent in C-MOVE requests (only with retrieve: c-move).',
        default: 'local.aeTitle',
        example: 'PACSHIFT',
        why: 'The source looks this title up in its own table to find our host and port; set it when that entry has another name.',
      }),
      /** The source's C-FIND result cap. */
      findLimit: opt(intIn(1, 1_000_000, 1000).optional(), {
        what: 'Most results the source returns for one C-FIND. A query answered with exactly this many results is treated as incomplete and split (by date range, then by lower levels).',
        default: 'unset: only a Cancel (FE00) or B001 status marks an answer incomplete',
        example: 1000,
        why: 'Many archives silently stop at 500–1000 matches; without this, studies beyond the cap would never enter the inventory.',
      }),
    }),
    {
      what: 'Read from a DICOM archive over the network: C-FIND for the inventory, C-MOVE or C-GET to retrieve.',
      variantTitle: 'A DICOM archive over the network',
    },
  );

/** Source that is a folder of DICOM Part 10 files. */
export const folderSourceSchema = (ctx: PlanContext) =>
  opt(
    z.strictObject({
      type: z.literal('folder'),
      path: opt(filePath(ctx, 'import'), {
        what: 'Folder read recursively for DICOM Part 10 files (any name; DICOMDIR files are skipped).',
        example: '/mnt/old-archive',
        why: 'Migrating from an export, a cache or a decommissioned archive whose disks are still readable.',
      }),
    }),
    {
      what: 'Read DICOM files from a folder (e.g. an export or a mounted archive volume).',
      variantTitle: 'Or, replacing the source above: a folder of DICOM files',
      example: { type: 'folder', path: '/mnt/old-archive' },
    },
  );

/** Section `source`: where the studies come from. Discriminated by `type` (dicomweb can be added). */
export const sourceSchema = (ctx: PlanContext) =>
  z.discriminatedUnion('type', [dimseSourceSchema(ctx), folderSourceSchema(ctx)]);

// ---------------------------------------------------------------------------------------------------
// target

/** Target archive reached over DIMSE (C-STORE, C-FIND for verification, storage commitment). */
export const dimseTargetSchema = (ctx: PlanContext) =>
  opt(
    z.strictObject({
      type: z.literal('dimse'),
      ...dimsePeerShape(ctx, 'target'),
      /** Storage commitment. */
      storageCommitment: opt(bool().prefault(false), {
        what: 'Ask the target for storage commitment (N-ACTION) after storing; reports may arrive on a new association to our listener.',
        why: 'A commitment only says the target holds an instance with that UID and SOP class: useful, not sufficient (verify still compares content). Off by default because many archives do not support it.',
      }),
      /** Transfer syntaxes to propose. */
      preferredTransferSyntaxes: opt(z.array(uid()).prefault([]), {
        rule: 'a list of transfer syntax UIDs, e.g. [1.2.840.10008.1.2.4.70, 1.2.840.10008.1.2.1]',
        what: "Transfer syntax UIDs proposed for every storage context, in order of preference, after the instance's own syntax.",
        default: "[] (the instance's own syntax, then Explicit and Implicit VR Little Endian)",
        example: ['1.2.840.10008.1.2.4.70', '1.2.840.10008.1.2.1'],
        why: 'Instances are sent as stored whenever the target accepts it; this list decides the fallback when it does not (a transcode is recorded and verified).',
      }),
    }),
    {
      what: 'Store into a DICOM archive over the network with C-STORE; verify with C-FIND.',
      variantTitle: 'A DICOM archive over the network',
    },
  );

/** Target that is a folder (files written as received). */
export const folderTargetSchema = (ctx: PlanContext) =>
  opt(
    z.strictObject({
      type: z.literal('folder'),
      path: opt(filePath(ctx, 'export'), {
        what: 'Folder the instances are written to, one Part 10 file per instance, byte for byte as received.',
        example: '/mnt/new-archive-import',
        why: 'For archives that import from disk, or to rehearse a migration without touching the new PACS.',
      }),
    }),
    {
      what: 'Write the instances to a folder.',
      variantTitle: 'Or, replacing the target above: a folder',
      example: { type: 'folder', path: '/mnt/new-archive-import' },
    },
  );

/** The name of an environment variable holding a secret (kept out of the plan file). */
const envName = (example: string) =>
  withRule(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/), 'an environment variable name', example);

/** Credentials for a DICOMweb archive. */
const httpAuthSchema = z.discriminatedUnion('type', [
  z.strictObject({
    type: z.literal('basic'),
    username: opt(withRule(z.string().min(1).max(256), 'a user name of 1–256 characters', 'pacshift'), {
      what: 'User name for HTTP basic authentication.',
      example: 'pacshift',
      why: 'Most archives and reverse proxies protect STOW-RS with a service account.',
    }),
    passwordEnv: opt(envName('PACSHIFT_TARGET_PASSWORD'), {
      what: 'Name of the environment variable that holds the password (the password itself is never written in the plan).',
      example: 'PACSHIFT_TARGET_PASSWORD',
      why: 'Plans are copied, mailed and committed; a secret in them leaks with them.',
    }),
  }),
  z.strictObject({
    type: z.literal('bearer'),
    tokenEnv: opt(envName('PACSHIFT_TARGET_TOKEN'), {
      what: 'Name of the environment variable that holds the bearer token (OAuth 2 access token) sent as Authorization: Bearer.',
      example: 'PACSHIFT_TARGET_TOKEN',
      why: 'Cloud archives (Google, Azure, AWS HealthImaging) take OAuth tokens; they expire, so they come from the environment, not the plan.',
    }),
  }),
]);

/** Target archive reached over DICOMweb (STOW-RS to store, QIDO-RS and WADO-RS to verify). */
export const dicomwebTargetSchema = (ctx: PlanContext) =>
  opt(
    z.strictObject({
      type: z.literal('dicomweb'),
      url: opt(
        withRule(
          z
            .string()
            .url()
            .regex(/^https?:\/\//i)
            .transform((u) => u.replace(/\/+$/, '')),
          'an http:// or https:// URL, the DICOMweb root (without /studies)',
          'https://vna.hospital.local/dicom-web',
        ),
        {
          what: 'DICOMweb root of the target: STOW-RS posts to <url>/studies, QIDO-RS and WADO-RS read from <url>/studies/….',
          example: 'https://vna.hospital.local/dicom-web',
          why: 'Cloud archives and VNAs often speak only DICOMweb; the root differs per product (Orthanc: /dicom-web, dcm4chee: /dcm4chee-arc/aets/DCM4CHEE/rs).',
        },
      ),
      auth: opt(httpAuthSchema.optional(), {
        what: 'How pacshift authenticates: HTTP basic (username and a password from the environment) or a bearer token from the environment.',
        default: 'no authentication',
        example: { type: 'basic', username: 'pacshift', passwordEnv: 'PACSHIFT_TARGET_PASSWORD' },
        rule: 'a mapping with type basic (username, passwordEnv) or bearer (tokenEnv)',
        why: 'Archives reachable over HTTP almost always require credentials; a refusal (401/403) stops the run and says so.',
      }),
      allowPlainHttpCredentials: opt(bool().prefault(false), {
        what: 'Send the credentials of auth (or of the URL) over a plain http:// URL.',
        default: 'false: credentials need an https:// URL; the plan is refused otherwise',
        example: true,
        why: 'Over http:// the password (Basic) or token (Bearer) crosses the network readable by anyone on the way. Only for a link protected otherwise (loopback, a VPN, a TLS-terminating proxy on this machine).',
      }),
      ca: opt(filePath(ctx).optional(), {
        what: 'PEM file with the certificate authority to trust for an https URL.',
        default: "Node's built-in public CA list",
        example: 'tls/hospital-ca.pem',
        why: 'Hospital VNAs are usually signed by an internal CA; verification is never switched off.',
      }),
      maxRequests: opt(intIn(1, 64, 4).prefault(4), {
        what: 'Most STOW-RS requests pacshift has in flight at once.',
        why: 'One request is a stream of many instances; a few in parallel keep the archive busy (measured on Orthanc, STOW-RS is its slowest ingest path) without overloading it.',
      }),
      batchInstances: opt(intIn(1, 1000, 50).prefault(50), {
        what: 'Most instances sent in one STOW-RS request (a request also closes before 256 MiB).',
        why: 'Fewer, larger requests cost less per instance; smaller ones lose less work when a request fails (failed requests are retried, an object the archive refuses is isolated by sending it alone).',
      }),
      timeout: opt(duration({ min: 1000, example: '5m' }).prefault('5m'), {
        what: 'Longest silence allowed while waiting for (or reading) an HTTP answer.',
        why: 'Archives index a large request before they answer; too short retries requests that were going to succeed (re-sending is idempotent), too long hides a stalled archive.',
      }),
    }),
    {
      what: 'Store into a DICOMweb archive with STOW-RS; verify with QIDO-RS and WADO-RS.',
      variantTitle: 'Or, replacing the target above: a DICOMweb archive',
      example: { type: 'dicomweb', url: 'https://vna.hospital.local/dicom-web' },
    },
  );

/** Section `target`: where the studies go. Discriminated by `type`. */
export const targetSchema = (ctx: PlanContext) =>
  z.discriminatedUnion('type', [dimseTargetSchema(ctx), folderTargetSchema(ctx), dicomwebTargetSchema(ctx)]);
