/**
 * Storage presentation contexts we propose when we take the SCP role (C-GET): the acceptor picks ONE
 * transfer syntax per context, and a source that does not transcode (Orthanc on C-GET, most archives)
 * can then send only the instances stored in that syntax. So: one context per (SOP class, transfer
 * syntax). A class with an instance whose syntax is not known gets one context per syntax of
 * `fallback` (each a context of its own; one context listing them all fails both ways: the source picks
 * one, and DCMTK-based peers, Orthanc among them, do not even answer an A-ASSOCIATE-RQ with more than
 * 50 syntaxes in a context, measured with Orthanc 1.10). PS3.8 allows 128 contexts per association, one
 * of which carries the C-GET itself: contexts beyond are split into groups, one association each, a
 * class's contexts always in one group.
 */

export interface StorageProposal {
  readonly sopClassUid: string;
  readonly transferSyntaxes: string[];
}

/** What is known of an instance to retrieve. */
export interface StorageItem {
  readonly sopClassUid?: string | null;
  readonly transferSyntaxUid?: string | null;
}

/** PS3.8 9.3.2.2: at most 128 presentation contexts; one is the C-GET's own. */
export const MAX_STORAGE_CONTEXTS = 127;

/** One context per (SOP class, transfer syntax), classes and syntaxes in first-seen order. */
export function storageContexts(
  items: Iterable<StorageItem>,
  fallback: readonly string[],
): StorageProposal[] {
  const byClass = new Map<string, Set<string>>();
  for (const i of items) {
    if (!i.sopClassUid) continue;
    const set = byClass.get(i.sopClassUid) ?? new Set<string>();
    byClass.set(i.sopClassUid, set);
    if (i.transferSyntaxUid) set.add(i.transferSyntaxUid);
    else for (const t of fallback) set.add(t);
  }
  const out: StorageProposal[] = [];
  for (const [cls, set] of byClass)
    for (const ts of set) out.push({ sopClassUid: cls, transferSyntaxes: [ts] });
  return out;
}

export interface StorageGroup {
  readonly sopClasses: string[];
  readonly contexts: StorageProposal[];
}

/**
 * storageContexts split into groups of at most `max` contexts (one association each), a class's
 * contexts never split (a class with more than `max` keeps its first `max`).
 */
export function storageContextGroups(
  items: Iterable<StorageItem>,
  fallback: readonly string[],
  max = MAX_STORAGE_CONTEXTS,
): StorageGroup[] {
  const byClass = new Map<string, StorageProposal[]>();
  for (const c of storageContexts(items, fallback))
    byClass.set(c.sopClassUid, [...(byClass.get(c.sopClassUid) ?? []), c]);
  const groups: { sopClasses: string[]; contexts: StorageProposal[] }[] = [];
  for (const [cls, own] of byClass) {
    const mine = own.slice(0, max);
    const last = groups[groups.length - 1];
    if (last && last.contexts.length + mine.length <= max) {
      last.sopClasses.push(cls);
      last.contexts.push(...mine);
    } else groups.push({ sopClasses: [cls], contexts: [...mine] });
  }
  return groups;
}
