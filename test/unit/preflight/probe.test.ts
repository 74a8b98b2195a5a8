/**
 * probeTarget against the built-in archive configured to take only uncompressed syntaxes: every
 * (SOP class, transfer syntax) is negotiated once, at most 127 per association, and the answers are
 * read per context (accepted, syntax refused, class refused); an unreachable target is a failure.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startArchive, type Archive } from '../../../src/archive/archive.js';
import { Capabilities, probeTarget, type Combination } from '../../../src/analyse/preflight/index.js';
import { STORAGE_SOP_CLASSES } from '../../../src/dicom/sop-class.js';
import type { Peer } from '../../../src/net/peer.js';
import { freePort } from '../../harness/ports.js';
import { makeTempDir, removeTempDir } from '../../harness/tmp.js';

const EXPLICIT = '1.2.840.10008.1.2.1';
const JPEG = '1.2.840.10008.1.2.4.50';
const MPPS = '1.2.840.10008.3.1.2.3.3';

describe('probeTarget', () => {
  let dir: string;
  let archive: Archive;
  let peer: Peer;
  beforeAll(async () => {
    dir = makeTempDir('preflight-probe');
    archive = await startArchive({
      dir,
      port: 0,
      host: '127.0.0.1',
      aeTitle: 'TARGET',
      acceptTransferSyntaxes: [EXPLICIT, '1.2.840.10008.1.2'],
    });
    peer = { host: '127.0.0.1', port: archive.port, aeTitle: 'TARGET', callingAeTitle: 'PACSHIFT' };
  });
  afterAll(async () => {
    await archive.close();
    removeTempDir(dir);
  });

  const classes = STORAGE_SOP_CLASSES.filter((c) => !c.retired)
    .slice(0, 75)
    .map((c) => c.uid);
  const combos: Combination[] = [
    ...classes.flatMap((c) => [
      { sopClassUid: c, transferSyntaxUid: EXPLICIT },
      { sopClassUid: c, transferSyntaxUid: JPEG },
    ]),
    { sopClassUid: MPPS, transferSyntaxUid: EXPLICIT },
  ];

  it('negotiates 151 combinations on 2 associations (and 1 control for the class refused in every syntax), reads each answer', async () => {
    expect(classes).toHaveLength(75);
    const caps = await probeTarget(peer, [...combos, ...combos.slice(0, 10)]); // repeats are negotiated once
    expect(caps.associations).toBe(3);
    expect(caps.contexts).toHaveLength(151);
    for (const c of classes) {
      expect(caps.verdict(c, EXPLICIT)).toBe('accepted');
      expect(caps.verdict(c, JPEG)).toBe('transfer-syntax-refused');
      expect(caps.acceptedSyntaxes(c)).toEqual([EXPLICIT]);
    }
    expect(caps.verdict(MPPS, EXPLICIT)).toBe('sop-class-refused');
    expect(caps.contexts.find((c) => c.sopClassUid === MPPS)!.result).toBe(3);
    expect(caps.contexts.find((c) => c.transferSyntaxUid === JPEG)!.result).toBe(4);
    expect(caps.verdict('1.2.3.4', EXPLICIT)).toBe('unknown'); // never asked
    expect(caps.failures).toEqual([]);
  });

  it('a class proposed only in a refused syntax is refused for its syntax when a control in explicit VR little endian is accepted', async () => {
    const caps = await probeTarget(peer, [
      { sopClassUid: classes[0]!, transferSyntaxUid: JPEG },
      { sopClassUid: MPPS, transferSyntaxUid: JPEG },
    ]);
    expect(caps.associations).toBe(2);
    expect(caps.verdict(classes[0]!, JPEG)).toBe('transfer-syntax-refused');
    expect(caps.verdict(MPPS, JPEG)).toBe('sop-class-refused');
  });

  it('splits as asked (10 contexts per association)', async () => {
    const caps = await probeTarget(peer, combos.slice(0, 25), { perAssociation: 10 });
    expect(caps.associations).toBe(3);
    expect(caps.contexts.filter((c) => c.accepted)).toHaveLength(13);
  });

  it('an unreachable target is a failure per context, and nothing is claimed about them', async () => {
    const port = await freePort();
    const caps: Capabilities = await probeTarget(
      { ...peer, port, timeouts: { connectMs: 2000 } },
      combos.slice(0, 3),
    );
    expect(caps.failures.map((f) => f.kind)).toEqual(['connect-failed']);
    expect(caps.contexts.every((c) => c.result === undefined && !c.accepted)).toBe(true);
    expect(caps.verdict(classes[0]!, EXPLICIT)).toBe('unknown');
  });
});
