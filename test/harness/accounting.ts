/**
 * End-to-end accounting: for every instance the source holds, is it verified at the target, or
 * reported with a cause (quarantine, an instance outcome, its study failed in the ledger)? And is the
 * state database free of contradictions (one job per study, counts that add up, every instance
 * marked stored present at the target exactly once, nothing orphaned in the spool)?
 *
 * What the target holds is given by the caller from the target's own means (Orthanc's REST API, the
 * files in a built-in archive's folder), never from pacshift.
 */
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { readInstanceInfo } from '../../src/dicom/part10.js';
import type { Instance, LedgerRow, Store } from '../../src/state/index.js';
import type { Orthanc } from './orthanc.js';

/** SOP Instance UID → number of copies the target holds. */
export type Holdings = Map<string, number>;

interface OrthancInstance {
  ID: string;
  MainDicomTags: { SOPInstanceUID?: string };
}

/** What an Orthanc holds, from its REST API (GET /instances?expand): SOP Instance UID → copies. */
export async function orthancHoldings(o: Orthanc): Promise<Holdings> {
  const out: Holdings = new Map();
  const page = 1000;
  for (let since = 0; ; since += page) {
    const list = await o.rest.get<OrthancInstance[]>(`/instances?expand&since=${since}&limit=${page}`);
    for (const i of list) {
      const uid = i.MainDicomTags.SOPInstanceUID ?? `orthanc:${i.ID}`;
      out.set(uid, (out.get(uid) ?? 0) + 1);
    }
    if (list.length < page) return out;
  }
}

/** Copies of one SOP Instance UID in an Orthanc, asked one by one (POST /tools/find, Level Instance). */
export async function orthancCopies(o: Orthanc, sopInstanceUid: string): Promise<number> {
  const ids = await o.rest.post<string[]>('/tools/find', {
    Level: 'Instance',
    Query: { SOPInstanceUID: sopInstanceUid },
  });
  return ids.length;
}

/** What a folder holds (the built-in archive's files, read from disk): SOP Instance UID → files. */
export async function folderHoldings(dir: string): Promise<Holdings> {
  const out: Holdings = new Map();
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (!e.isFile() || e.name.startsWith('.')) continue;
    const r = await readInstanceInfo(join(e.parentPath, e.name));
    if (r.ok) out.set(r.value.sopInstanceUid, (out.get(r.value.sopInstanceUid) ?? 0) + 1);
  }
  return out;
}

export async function allLedger(store: Store): Promise<LedgerRow[]> {
  const rows: LedgerRow[] = [];
  for (;;) {
    const page = await store.ledger({ after: rows.at(-1)?.studyUid, limit: 1000 });
    rows.push(...page);
    if (page.length < 1000) return rows;
  }
}

export interface Accounted {
  sopInstanceUid: string;
  /** Where the cause is recorded. */
  where: 'quarantine' | 'outcome' | 'verify' | 'ledger';
  cause: string;
  status: number | string | null;
  /** Copies at the target. */
  atTarget: number;
}

export interface Accounting {
  source: number;
  /** Verified by pacshift and present at the target exactly once. */
  verified: string[];
  /** Not verified, with a recorded cause. */
  withCause: Accounted[];
  /** Neither verified nor reported: silently missing. */
  unaccounted: { sopInstanceUid: string; atTarget: number; inState: boolean }[];
  /** Verified by pacshift, yet the target does not hold exactly one copy. */
  verifiedButWrong: { sopInstanceUid: string; atTarget: number }[];
}

/** Accounts for every SOP Instance UID the source holds against the state database and the target's holdings. */
export async function accountFor(
  store: Store,
  sourceUids: Iterable<string>,
  target: Holdings,
): Promise<Accounting> {
  const quarantine = new Map((await store.listQuarantine()).map((q) => [q.sopInstanceUid, q]));
  const outcomes = new Map<string, { cause: string | null; status: number | null; category: string }>();
  for (const o of await store.listInstanceOutcomes()) outcomes.set(o.sopInstanceUid, o);
  const ledger = new Map((await allLedger(store)).map((r) => [r.studyUid, r]));
  const acc: Accounting = { source: 0, verified: [], withCause: [], unaccounted: [], verifiedButWrong: [] };
  for (const uid of sourceUids) {
    acc.source++;
    const atTarget = target.get(uid) ?? 0;
    const inst: Instance | undefined = await store.getInstance(uid);
    if (inst?.verifyOutcome === 'verified') {
      if (atTarget === 1) acc.verified.push(uid);
      else acc.verifiedButWrong.push({ sopInstanceUid: uid, atTarget });
      continue;
    }
    const q = quarantine.get(uid);
    const o = outcomes.get(uid);
    const row = inst ? ledger.get(inst.studyUid) : undefined;
    if (q?.cause)
      acc.withCause.push({
        sopInstanceUid: uid,
        where: 'quarantine',
        cause: q.cause,
        status: q.status,
        atTarget,
      });
    else if (o?.cause)
      acc.withCause.push({
        sopInstanceUid: uid,
        where: 'outcome',
        cause: `${o.category}: ${o.cause}`,
        status: o.status,
        atTarget,
      });
    else if (inst?.verifyOutcome && row?.status === 'failed' && row.error)
      acc.withCause.push({
        sopInstanceUid: uid,
        where: 'verify',
        cause: `${inst.verifyOutcome}: ${row.error}`,
        status: row.errorCode,
        atTarget,
      });
    else if (row && (row.status === 'failed' || row.status === 'excluded') && (row.error || row.ruleId))
      acc.withCause.push({
        sopInstanceUid: uid,
        where: 'ledger',
        cause: row.error ?? `excluded by ${row.ruleId}`,
        status: row.errorCode,
        atTarget,
      });
    else acc.unaccounted.push({ sopInstanceUid: uid, atTarget, inState: inst !== undefined });
  }
  return acc;
}

/**
 * Contradictions in the state after a migration ended (no process running): listed in words, empty
 * when there are none.
 */
export async function stateContradictions(
  store: Store,
  target: Holdings,
  spool: { incoming: string; quarantine: string },
  opts: { finished: boolean },
): Promise<string[]> {
  const problems: string[] = [];
  const jobs = await store.listJobs({ limit: 10_000_000 });
  const byStudy = new Map<string, number>();
  for (const j of jobs) byStudy.set(j.studyUid, (byStudy.get(j.studyUid) ?? 0) + 1);
  for (const [s, n] of byStudy) if (n > 1) problems.push(`study ${s} has ${n} jobs`);
  const counts = await store.countJobsByState();
  const total = Object.values(counts).reduce((a, b) => a + b, 0);
  if (total !== jobs.length)
    problems.push(`countJobsByState adds up to ${total}, listJobs has ${jobs.length}`);
  for (const j of jobs) {
    if (j.leaseOwner !== null && opts.finished)
      problems.push(`job ${j.id} still leased by ${j.leaseOwner} in ${j.state}`);
    if (opts.finished && !['verified', 'failed', 'dead', 'excluded'].includes(j.state))
      problems.push(`job ${j.id} (study ${j.studyUid}) left in ${j.state}`);
  }
  const ledger = await allLedger(store);
  const summary = await store.ledgerSummary();
  if (summary.total !== ledger.length)
    problems.push(`ledger summary total ${summary.total}, ledger has ${ledger.length} rows`);
  const quarantined = new Set((await store.listQuarantine()).map((q) => q.sopInstanceUid));
  const spooled = new Set<string>();
  for (const row of ledger) {
    const inst = await store.listInstances(row.studyUid, 'all');
    const received = inst.filter((i) => i.receivedAt !== null);
    const stored = inst.filter((i) => i.storedAt !== null);
    const verified = inst.filter((i) => i.verifyOutcome === 'verified');
    if (
      row.instancesReceived !== received.length ||
      row.instancesStored !== stored.length ||
      row.instancesVerified !== verified.length
    )
      problems.push(
        `study ${row.studyUid}: ledger counts ${row.instancesReceived}/${row.instancesStored}/${row.instancesVerified} vs instances ${received.length}/${stored.length}/${verified.length}`,
      );
    for (const i of stored) {
      if (i.receivedAt === null) problems.push(`instance ${i.sopInstanceUid} stored but never received`);
      const n = target.get(i.sopInstanceUid) ?? 0;
      if (n !== 1) problems.push(`instance ${i.sopInstanceUid} marked stored, ${n} copies at the target`);
      if (quarantined.has(i.sopInstanceUid))
        problems.push(`instance ${i.sopInstanceUid} both stored and quarantined`);
    }
    for (const i of verified)
      if (i.storedAt === null) problems.push(`instance ${i.sopInstanceUid} verified but not stored`);
    if (row.jobState === 'verified' && verified.length + quarantined.size === 0 && inst.length > 0)
      problems.push(`study ${row.studyUid} verified with no verified instance`);
    if (row.jobState === 'verified') {
      const open = inst.filter(
        (i) => i.verifyOutcome !== 'verified' && !quarantined.has(i.sopInstanceUid) && i.vanishedAt === null,
      );
      if (open.length > 0)
        problems.push(
          `study ${row.studyUid} verified but ${open.length} instance(s) are neither verified nor quarantined`,
        );
    }
    for (const i of inst)
      if (i.storedAt === null && i.receivedAt !== null && i.spoolPath) spooled.add(i.spoolPath);
  }
  // The spool: no half-written files, nothing there whose instance is stored, quarantine files all recorded.
  const incoming = await readdir(spool.incoming).catch(() => [] as string[]);
  for (const f of incoming) {
    const p = join(spool.incoming, f);
    if (f.startsWith('.')) {
      problems.push(`spool: temporary file ${f} left behind`);
      continue;
    }
    const r = await readInstanceInfo(p);
    if (!r.ok) {
      problems.push(`spool: unreadable file ${f}`);
      continue;
    }
    const i = await store.getInstance(r.value.sopInstanceUid);
    if (i?.storedAt !== null && i?.storedAt !== undefined)
      problems.push(`spool: ${f} holds ${r.value.sopInstanceUid}, stored already (orphan)`);
    else if (opts.finished && !i)
      problems.push(`spool: ${f} holds ${r.value.sopInstanceUid}, unknown to the state (orphan)`);
  }
  const qfiles = await readdir(spool.quarantine).catch(() => [] as string[]);
  for (const f of qfiles) {
    const r = await readInstanceInfo(join(spool.quarantine, f));
    if (!r.ok || !quarantined.has(r.value.sopInstanceUid))
      problems.push(`spool: quarantine file ${f} has no quarantine entry`);
  }
  return problems;
}
