/**
 * Pre-flight results, sized: per cause and per predicted verdict, how many objects were checked and
 * how many studies, instances and bytes of the source they stand for (a sampled object stands for its
 * series). Text output names causes, UIDs and counts only.
 */
import { sopClassLabel } from '../../dicom/sop-class.js';
import { lookupTransferSyntax } from '../../dicom/transfer-syntax.js';
import {
  CAUSES,
  CAUSE_IDS,
  verdictOf,
  type CauseId,
  type Profile,
  type Remedy,
  type Verdict,
} from './causes.js';
import type { ObjectCheck } from './check-object.js';
import { CONTEXT_RESULTS, type ProbedContext } from './probe.js';

/** What one checked object stands for in the source. */
export interface Representation {
  readonly studyUid: string | undefined;
  readonly instances: number;
  readonly bytes: number;
  /** Bytes are the checked object's size times the instances (the inventory had no sizes). */
  readonly bytesEstimated: boolean;
}

export interface CheckedObject {
  readonly check: ObjectCheck;
  readonly represents: Representation;
}

export interface Size {
  readonly studies: number;
  readonly instances: number;
  readonly bytes: number;
}

export interface CauseTotals {
  readonly cause: CauseId;
  readonly what: string;
  readonly basis: 'probe' | 'source' | 'content';
  /** Under the report's profile. */
  readonly verdict: Verdict;
  readonly strict: Verdict;
  readonly lenient: Verdict;
  readonly remedy: Remedy;
  readonly why: string;
  /** Objects checked that show the cause. */
  readonly objects: number;
  readonly checked: Size;
  /** What they stand for in the source. */
  readonly source: Size & { readonly bytesEstimated: boolean };
  readonly examples: readonly string[];
}

export interface VerdictTotals {
  readonly objects: number;
  readonly checked: Size;
  readonly source: Size & { readonly bytesEstimated: boolean };
}

export interface PreflightReport {
  readonly profile: Profile;
  /** files: a folder of files given directly; all / one-per-series: from the inventory. */
  readonly sampling: 'files' | 'all' | 'one-per-series';
  readonly target: {
    readonly probed: boolean;
    readonly associations: number;
    readonly combinations: number;
    readonly refused: readonly {
      sopClassUid: string;
      transferSyntaxUid: string;
      result: number | undefined;
      reason: string;
    }[];
    readonly failures: readonly string[];
  };
  readonly checked: Size & { readonly objects: number };
  /** Files given that are not DICOM at all (left out of every count). */
  readonly notDicom: number;
  readonly source: Size & { readonly bytesEstimated: boolean };
  /** Distinct objects by their worst verdict under the profile. */
  readonly predicted: Readonly<Record<Verdict, VerdictTotals>>;
  readonly causes: readonly CauseTotals[];
  readonly fetch?: {
    readonly requested: number;
    readonly missing: number;
    readonly problems: readonly string[];
  };
  readonly objects: readonly ObjectCheck[];
  readonly durationMs: number;
}

class Acc {
  objects = 0;
  readonly studies = new Set<string>();
  readonly sourceStudies = new Set<string>();
  instances = 0;
  bytes = 0;
  sourceInstances = 0;
  sourceBytes = 0;
  estimated = false;
  add(o: CheckedObject): void {
    this.objects++;
    const study = o.check.studyUid ?? o.represents.studyUid;
    if (study) {
      this.studies.add(study);
      this.sourceStudies.add(study);
    }
    this.instances++;
    this.bytes += o.check.sizeBytes;
    this.sourceInstances += o.represents.instances;
    this.sourceBytes += o.represents.bytes;
    this.estimated ||= o.represents.bytesEstimated;
  }
  checked(): Size {
    return { studies: this.studies.size, instances: this.instances, bytes: this.bytes };
  }
  source(): Size & { bytesEstimated: boolean } {
    return {
      studies: this.sourceStudies.size,
      instances: this.sourceInstances,
      bytes: this.sourceBytes,
      bytesEstimated: this.estimated,
    };
  }
}

export function buildReport(
  objects: readonly CheckedObject[],
  o: {
    profile: Profile;
    sampling: PreflightReport['sampling'];
    probed: readonly ProbedContext[] | undefined;
    associations: number;
    probeFailures: readonly string[];
    notDicom?: number;
    fetch?: PreflightReport['fetch'];
    durationMs: number;
  },
): PreflightReport {
  const all = new Acc();
  const byVerdict: Record<Verdict, Acc> = { refuse: new Acc(), alter: new Acc(), accept: new Acc() };
  const byCause = new Map<CauseId, { acc: Acc; examples: Set<string> }>();
  for (const x of objects) {
    all.add(x);
    byVerdict[x.check.verdict].add(x);
    for (const f of x.check.findings) {
      let c = byCause.get(f.cause);
      if (!c) byCause.set(f.cause, (c = { acc: new Acc(), examples: new Set() }));
      c.acc.add(x);
      for (const e of f.examples) if (c.examples.size < 10) c.examples.add(e);
    }
  }
  const causes: CauseTotals[] = CAUSE_IDS.filter((id) => byCause.has(id)).map((id) => {
    const c = byCause.get(id)!;
    const info = CAUSES[id];
    return {
      cause: id,
      what: info.what,
      basis: info.basis,
      verdict: verdictOf(id, o.profile),
      strict: info.strict,
      lenient: info.lenient,
      remedy: info.remedy,
      why: info.why,
      objects: c.acc.objects,
      checked: c.acc.checked(),
      source: c.acc.source(),
      examples: [...c.examples],
    };
  });
  const verdictTotals = (a: Acc): VerdictTotals => ({
    objects: a.objects,
    checked: a.checked(),
    source: a.source(),
  });
  return {
    profile: o.profile,
    sampling: o.sampling,
    target: {
      probed: o.probed !== undefined,
      associations: o.associations,
      combinations: o.probed?.length ?? 0,
      refused: (o.probed ?? [])
        .filter((c) => !c.accepted && c.result !== undefined)
        .map((c) => ({
          sopClassUid: c.sopClassUid,
          transferSyntaxUid: c.transferSyntaxUid,
          result: c.result,
          reason: CONTEXT_RESULTS[c.result!] ?? 'unknown',
        })),
      failures: o.probeFailures,
    },
    checked: { objects: all.objects, ...all.checked() },
    notDicom: o.notDicom ?? 0,
    source: all.source(),
    predicted: {
      refuse: verdictTotals(byVerdict.refuse),
      alter: verdictTotals(byVerdict.alter),
      accept: verdictTotals(byVerdict.accept),
    },
    causes,
    ...(o.fetch ? { fetch: o.fetch } : {}),
    objects: objects.map((x) => x.check),
    durationMs: o.durationMs,
  };
}

const mb = (n: number): string => `${(n / (1024 * 1024)).toFixed(1)} MiB`;
const size = (s: Size & { bytesEstimated?: boolean }): string =>
  `${s.studies} studies, ${s.instances} instances, ${s.bytesEstimated ? '~' : ''}${mb(s.bytes)}`;

/** The report as text for a terminal. */
export function formatReport(r: PreflightReport): string {
  const lines: string[] = [];
  const sampled = r.sampling === 'one-per-series';
  lines.push(
    `pre-flight (${r.profile} target profile): ${r.checked.objects} objects checked (${mb(r.checked.bytes)})` +
      (sampled ? `, one per series, standing for ${size(r.source)}` : '') +
      (r.notDicom ? `; ${r.notDicom} files that are not DICOM left out` : ''),
  );
  if (r.fetch)
    lines.push(
      `  fetched from the source: ${r.fetch.requested - r.fetch.missing}/${r.fetch.requested}${r.fetch.problems.length ? ` (${r.fetch.problems.length} problems)` : ''}`,
    );
  if (r.target.probed) {
    lines.push(
      `target: ${r.target.combinations} (SOP class, transfer syntax) combinations negotiated on ${r.target.associations} association(s); ${r.target.refused.length} refused`,
    );
    for (const x of r.target.refused)
      lines.push(
        `  refused: ${sopClassLabel(x.sopClassUid)} in ${lookupTransferSyntax(x.transferSyntaxUid)?.name ?? x.transferSyntaxUid} (${x.reason})`,
      );
    for (const f of r.target.failures) lines.push(`  probe failed: ${f}`);
  } else
    lines.push('target: not probed (no DIMSE target): transfer syntaxes and SOP classes are not checked');
  for (const v of ['refuse', 'alter'] as const) {
    const t = r.predicted[v];
    lines.push(
      `predicted to ${v === 'refuse' ? 'be refused' : 'be altered'}: ${t.objects} checked objects — ${sampled ? `source: ${size(t.source)}` : size(t.checked)}`,
    );
  }
  lines.push('by cause (an object may show several):');
  for (const c of r.causes) {
    lines.push(
      `  ${c.cause.padEnd(34)} ${c.verdict.padEnd(6)} ${String(c.objects).padStart(5)} objects  ${sampled ? `source: ${size(c.source)}` : size(c.checked)}  → ${c.remedy}`,
    );
    if (c.verdict !== c.strict) lines.push(`      (a strict target would ${c.strict}: ${c.why})`);
  }
  return lines.join('\n');
}
