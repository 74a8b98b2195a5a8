/** Acceptor-side negotiation of presentation contexts and roles (PS3.8 9.3.3.2, PS3.7 D.3.3.4). */
import type { AssociateRq, PresentationContextAc, RoleSelection } from '../ul/pdu.js';
import type { PresentationContext } from './types.js';

export interface AcceptPolicy {
  /**
   * Transfer syntaxes accepted for an abstract syntax, in no particular order, or undefined when the
   * abstract syntax is not supported. The requestor's order of preference decides among them.
   */
  transferSyntaxesFor(abstractSyntax: string): ReadonlySet<string> | 'any' | undefined;
  /** Whether we grant the requestor the SCP role for this SOP class (C-GET storage sub-operations). */
  allowRequestorScp?(abstractSyntax: string): boolean;
}

export interface Negotiated {
  ac: PresentationContextAc[];
  contexts: PresentationContext[];
  roles: RoleSelection[];
}

export function negotiate(rq: AssociateRq, policy: AcceptPolicy): Negotiated {
  const ac: PresentationContextAc[] = [];
  const contexts: PresentationContext[] = [];
  const proposedRoles = new Map(rq.userInformation.roleSelections.map((r) => [r.sopClassUid, r]));
  const roles: RoleSelection[] = [];
  const answeredRoles = new Set<string>();
  for (const pc of rq.presentationContexts) {
    const accepted = policy.transferSyntaxesFor(pc.abstractSyntax);
    let result = 3;
    let ts = '';
    if (accepted) {
      const pick = pc.transferSyntaxes.find((t) => accepted === 'any' || accepted.has(t));
      if (pick) {
        result = 0;
        ts = pick;
      } else result = 4;
    }
    const proposed = proposedRoles.get(pc.abstractSyntax);
    let requestorIsScu = true;
    let requestorIsScp = false;
    if (proposed && result === 0) {
      const grantScp = proposed.scpRole && (policy.allowRequestorScp?.(pc.abstractSyntax) ?? false);
      requestorIsScu = proposed.scuRole;
      requestorIsScp = grantScp;
      if (!answeredRoles.has(pc.abstractSyntax)) {
        answeredRoles.add(pc.abstractSyntax);
        roles.push({ sopClassUid: pc.abstractSyntax, scuRole: proposed.scuRole, scpRole: grantScp });
      }
    }
    ac.push({ id: pc.id, result, transferSyntax: ts });
    contexts.push({
      id: pc.id,
      abstractSyntax: pc.abstractSyntax,
      transferSyntax: ts,
      result,
      accepted: result === 0,
      requestorIsScu,
      requestorIsScp,
    });
  }
  return { ac, contexts, roles };
}
