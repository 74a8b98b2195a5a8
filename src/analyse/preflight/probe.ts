/**
 * What the target accepts, asked the only way that is certain: by negotiating. One presentation
 * context per (SOP class, transfer syntax) found in the source, at most 127 per association plus
 * Verification (so that an association whose every probe context is refused still opens and tells
 * why), as many associations as needed. Nothing is sent: each association is released at once.
 */
import { MAX_PRESENTATION_CONTEXTS, requestAssociation } from '../../net/association/request.js';
import type { ContextProposal } from '../../net/association/types.js';
import type { NetFailure } from '../../net/errors.js';
import type { Peer } from '../../net/peer.js';
import { VERIFICATION } from '../../net/services/sop-classes.js';

export interface Combination {
  readonly sopClassUid: string;
  readonly transferSyntaxUid: string;
}

/** PS3.8 Table 9-18: presentation context results. */
export const CONTEXT_RESULTS: Readonly<Record<number, string>> = {
  0: 'acceptance',
  1: 'user-rejection',
  2: 'no-reason (provider rejection)',
  3: 'abstract-syntax-not-supported (provider rejection)',
  4: 'transfer-syntaxes-not-supported (provider rejection)',
};

export interface ProbedContext extends Combination {
  readonly accepted: boolean;
  /** PS3.8 result code; undefined when the association failed (see `failure`). */
  readonly result: number | undefined;
  /** The association carrying this context could not be opened: nothing is known. */
  readonly failure?: NetFailure;
}

export type ProbeVerdict = 'accepted' | 'transfer-syntax-refused' | 'sop-class-refused' | 'unknown';

/** The probe's answers, queryable per combination. */
export class Capabilities {
  private readonly byKey = new Map<string, ProbedContext>();
  private readonly acceptedClasses = new Set<string>();
  private readonly probedClasses = new Set<string>();

  constructor(readonly contexts: readonly ProbedContext[], readonly associations: number) {
    for (const c of contexts) {
      this.byKey.set(keyOf(c), c);
      if (c.result !== undefined) this.probedClasses.add(c.sopClassUid);
      if (c.accepted) this.acceptedClasses.add(c.sopClassUid);
    }
  }

  verdict(sopClassUid: string, transferSyntaxUid: string): ProbeVerdict {
    const c = this.byKey.get(keyOf({ sopClassUid, transferSyntaxUid }));
    if (!c || c.result === undefined) return 'unknown';
    if (c.accepted) return 'accepted';
    return this.probedClasses.has(sopClassUid) && !this.acceptedClasses.has(sopClassUid)
      ? 'sop-class-refused'
      : 'transfer-syntax-refused';
  }

  /** Transfer syntaxes the target accepted for a SOP class (where a transcode could go). */
  acceptedSyntaxes(sopClassUid: string): string[] {
    return this.contexts.filter((c) => c.accepted && c.sopClassUid === sopClassUid).map((c) => c.transferSyntaxUid);
  }

  get failures(): NetFailure[] {
    return [...new Set(this.contexts.filter((c) => c.failure).map((c) => c.failure!))];
  }
}

const keyOf = (c: Combination): string => `${c.sopClassUid}|${c.transferSyntaxUid}`;

/** Negotiates every combination with the target (each once), `perAssociation` contexts at a time. */
export async function probeTarget(
  peer: Peer,
  combinations: Iterable<Combination>,
  opts: { perAssociation?: number } = {},
): Promise<Capabilities> {
  const unique = new Map<string, Combination>();
  for (const c of combinations) if (c.sopClassUid && c.transferSyntaxUid) unique.set(keyOf(c), c);
  const all = [...unique.values()];
  const per = Math.max(1, Math.min(opts.perAssociation ?? MAX_PRESENTATION_CONTEXTS - 1, MAX_PRESENTATION_CONTEXTS - 1));
  const out: ProbedContext[] = [];
  let associations = 0;
  for (let i = 0; i < all.length; i += per) {
    const chunk = all.slice(i, i + per);
    const proposals: ContextProposal[] = [
      ...chunk.map((c) => ({ abstractSyntax: c.sopClassUid, transferSyntaxes: [c.transferSyntaxUid] })),
      { abstractSyntax: VERIFICATION, transferSyntaxes: ['1.2.840.10008.1.2'] },
    ];
    const r = await requestAssociation({
      host: peer.host,
      port: peer.port,
      callingAeTitle: peer.callingAeTitle,
      calledAeTitle: peer.aeTitle,
      contexts: proposals,
      tls: peer.tls,
      timeouts: peer.timeouts,
      maxPduLength: peer.maxPduLength,
    });
    associations++;
    if (!r.ok) {
      // Every context refused, Verification included, is still an answer about each of them.
      const everyRefused = r.error.kind === 'no-presentation-context';
      for (const c of chunk) out.push(everyRefused ? { ...c, accepted: false, result: 3 } : { ...c, accepted: false, result: undefined, failure: r.error });
      continue;
    }
    const assoc = r.value;
    const contexts = assoc.info.contexts;
    chunk.forEach((c, k) => {
      const ctx = contexts[k]!;
      out.push({ ...c, accepted: ctx.accepted, result: ctx.result });
    });
    await assoc.release();
  }
  return new Capabilities(out, associations);
}
