/**
 * Which storage SOP classes a peer accepts, asked by negotiation (one context per class, explicit
 * and implicit VR little endian, at most 127 per association): the peer's own answer, for tests that
 * predict what a migration will be refused.
 */
import { requestAssociation } from '../../src/net/association/request.js';

export async function acceptedSopClasses(
  peer: { host: string; port: number; aeTitle: string },
  sopClasses: Iterable<string>,
): Promise<Set<string>> {
  const all = [...new Set(sopClasses)];
  const accepted = new Set<string>();
  for (let i = 0; i < all.length; i += 127) {
    const part = all.slice(i, i + 127);
    const r = await requestAssociation({
      host: peer.host,
      port: peer.port,
      callingAeTitle: 'PROBE',
      calledAeTitle: peer.aeTitle,
      contexts: part.map((c) => ({
        abstractSyntax: c,
        transferSyntaxes: ['1.2.840.10008.1.2.1', '1.2.840.10008.1.2'],
      })),
    });
    if (!r.ok) throw new Error(`probe of ${peer.aeTitle}: ${r.error.kind}: ${r.error.message}`);
    for (const c of r.value.info.contexts) if (c.accepted) accepted.add(c.abstractSyntax);
    await r.value.release();
  }
  return accepted;
}
