/**
 * What the target accepts, asked the only way that is certain: by negotiating. One presentation
 * context per (SOP class, transfer syntax) found in the source, at most 127 per association plus
 * Verification (so that an association whose every probe context is refused still opens and tells
 * why), as many associations as needed; then one control per SOP class refused in every syntax.
 * Nothing is sent: each association is released at once.
 */
import { MAX_PRESENTATION_CONTEXTS, requestAssociation } from '../../net/association/request.js';
import type { ContextProposal } from '../../net/association/types.js';
import type { NetFailure } from '../../net/errors.js';
import type { Peer } from '../../net/peer.js';
import { VERIFICATION } from '../../net/services/sop-classes.js';

const EXPLICIT_LE = '1.2.840.10008.1.2.1';
const IMPLICIT_LE = '1.2.840.10008.1.2';

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

  /**
   * `classesAccepted`: SOP classes the target accepted in some transfer syntax, the uncompressed
   * control contexts included (a class proposed only in refused syntaxes is not thereby refused).
   */
  constructor(
    readonly contexts: readonly ProbedContext[],
    readonly associations: number,
    classesAccepted: Iterable<string> = [],
  ) {
    for (const c of contexts) {
      this.byKey.set(keyOf(c), c);
      if (c.accepted) this.acceptedClasses.add(c.sopClassUid);
    }
    for (const c of classesAccepted) this.acceptedClasses.add(c);
  }

  verdict(sopClassUid: string, transferSyntaxUid: string): ProbeVerdict {
    const c = this.byKey.get(keyOf({ sopClassUid, transferSyntaxUid }));
    if (!c || c.result === undefined) return 'unknown';
    if (c.accepted) return 'accepted';
    return this.acceptedClasses.has(sopClassUid) ? 'transfer-syntax-refused' : 'sop-class-refused';
  }

  /** Transfer syntaxes the target accepted for a SOP class (where a transcode could go). */
  acceptedSyntaxes(sopClassUid: string): string[] {
    return this.contexts
      .filter((c) => c.accepted && c.sopClassUid === sopClassUid)
      .map((c) => c.transferSyntaxUid);
  }

  get failures(): NetFailure[] {
    return [...new Set(this.contexts.filter((c) => c.failure).map((c) => c.failure!))];
  }
}

const keyOf = (c: Combination): string => `${c.sopClassUid}|${c.transferSyntaxUid}`;

/** Contexts of one association at a time: answers per proposal, or the failure of the association. */
async function negotiate(
  peer: Peer,
  proposals: readonly ContextProposal[],
): Promise<
  { ok: true; results: { accepted: boolean; result: number }[] } | { ok: false; failure: NetFailure }
> {
  const r = await requestAssociation({
    host: peer.host,
    port: peer.port,
    callingAeTitle: peer.callingAeTitle,
    calledAeTitle: peer.aeTitle,
    contexts: [...proposals, { abstractSyntax: VERIFICATION, transferSyntaxes: [IMPLICIT_LE] }],
    tls: peer.tls,
    timeouts: peer.timeouts,
    maxPduLength: peer.maxPduLength,
  });
  if (!r.ok) {
    // Every context refused, Verification included: still an answer about each (no reason known).
    if (r.error.kind === 'no-presentation-context')
      return { ok: true, results: proposals.map(() => ({ accepted: false, result: 2 })) };
    return { ok: false, failure: r.error };
  }
  const contexts = r.value.info.contexts;
  const results = proposals.map((_, k) => ({ accepted: contexts[k]!.accepted, result: contexts[k]!.result }));
  await r.value.release();
  return { ok: true, results };
}

/**
 * Negotiates every combination with the target (each once), `perAssociation` contexts at a time.
 * A SOP class refused in every syntax it was proposed in is then proposed once more in the
 * uncompressed syntaxes (a control): accepted there, its refusals are about the syntaxes; refused
 * there too, about the class (some targets give reason 3 for both).
 */
export async function probeTarget(
  peer: Peer,
  combinations: Iterable<Combination>,
  opts: { perAssociation?: number } = {},
): Promise<Capabilities> {
  const unique = new Map<string, Combination>();
  for (const c of combinations) if (c.sopClassUid && c.transferSyntaxUid) unique.set(keyOf(c), c);
  const all = [...unique.values()];
  const per = Math.max(
    1,
    Math.min(opts.perAssociation ?? MAX_PRESENTATION_CONTEXTS - 1, MAX_PRESENTATION_CONTEXTS - 1),
  );
  const out: ProbedContext[] = [];
  let associations = 0;
  for (let i = 0; i < all.length; i += per) {
    const chunk = all.slice(i, i + per);
    const r = await negotiate(
      peer,
      chunk.map((c) => ({ abstractSyntax: c.sopClassUid, transferSyntaxes: [c.transferSyntaxUid] })),
    );
    associations++;
    chunk.forEach((c, k) =>
      out.push(
        r.ok
          ? { ...c, accepted: r.results[k]!.accepted, result: r.results[k]!.result }
          : { ...c, accepted: false, result: undefined, failure: r.failure },
      ),
    );
  }
  const answered = new Set(out.filter((c) => c.result !== undefined).map((c) => c.sopClassUid));
  const accepted = new Set(out.filter((c) => c.accepted).map((c) => c.sopClassUid));
  const controls = [...answered].filter((c) => !accepted.has(c));
  const classesAccepted: string[] = [];
  for (let i = 0; i < controls.length; i += per) {
    const chunk = controls.slice(i, i + per);
    const r = await negotiate(
      peer,
      chunk.map((c) => ({ abstractSyntax: c, transferSyntaxes: [EXPLICIT_LE, IMPLICIT_LE] })),
    );
    associations++;
    if (r.ok) chunk.forEach((c, k) => r.results[k]!.accepted && classesAccepted.push(c));
  }
  return new Capabilities(out, associations, classesAccepted);
}
