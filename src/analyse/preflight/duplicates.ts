/**
 * One SOP Instance UID on several checked objects whose content differs (element values or pixels,
 * compared with diffCopies): a target keeps the first copy that arrives and answers Success to the
 * others, so every copy but one is stored altered. Copies that differ only in encoding are fine.
 */
import { worstVerdict, type Profile } from './causes.js';
import type { Finding, ObjectCheck } from './check-object.js';
import { diffCopies } from './copy-diff.js';

export async function markDuplicates(
  checks: readonly ObjectCheck[],
  profile: Profile,
): Promise<ObjectCheck[]> {
  const bySop = new Map<string, number[]>();
  checks.forEach((c, i) => {
    if (!c.facts || !c.sopInstanceUid) return; // unreadable: never sent
    bySop.set(c.sopInstanceUid, [...(bySop.get(c.sopInstanceUid) ?? []), i]);
  });
  const out = [...checks];
  for (const [uid, idx] of bySop) {
    if (idx.length < 2) continue;
    // Each copy against each other one: any copy that differs from another is at risk.
    const differs = new Set<number>();
    for (let a = 0; a < idx.length; a++)
      for (let b = a + 1; b < idx.length; b++) {
        const d = await diffCopies(checks[idx[a]!]!.path, checks[idx[b]!]!.path);
        if (!d.ok || d.value.altered) {
          differs.add(idx[a]!);
          differs.add(idx[b]!);
        }
      }
    for (const i of differs) {
      const c = out[i]!;
      const finding: Finding = {
        cause: 'duplicate-uid',
        count: idx.length - 1,
        examples: [`${uid}: ${idx.length} objects`],
      };
      const findings = [...c.findings, finding];
      out[i] = {
        ...c,
        findings,
        verdict: worstVerdict(
          findings.map((f) => f.cause),
          profile,
        ),
      };
    }
  }
  return out;
}
