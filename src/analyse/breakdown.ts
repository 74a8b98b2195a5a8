/**
 * Quality over time and by device: for every finding code, the studies it touches by year (StudyDate)
 * and by device (vendor / model / software / station of the study's series, or of the finding's own
 * series), against how many studies each year and each device has. A study with series from two
 * devices counts for both.
 */
import type { AnalysisSeverity } from '../state/analysis-types.js';
import { FINDING_CODES, type FindingCode } from './codes.js';
import { deviceKey, NO_DEVICE, type Device } from './device.js';
import type { Evidence } from './evidence.js';
import type { Finding } from './checks/index.js';
import { judgeStudyDate } from './study-date.js';

export interface BreakdownRow {
  /** A year ("2019", "undated") or a device key. */
  readonly key: string;
  readonly device?: Device;
  /** Studies in the inventory with this year / device. */
  readonly studies: number;
  /** Studies touched by at least one finding of each severity (a study counts once, under its worst). */
  readonly bySeverity: Readonly<Record<AnalysisSeverity, number>>;
  /** Studies touched, by code. */
  readonly byCode: Readonly<Partial<Record<FindingCode, number>>>;
}

export interface Breakdown {
  readonly byYear: readonly BreakdownRow[];
  readonly byDevice: readonly BreakdownRow[];
  /** Year and device keys of each study a finding touches (for the per-finding CSV). */
  readonly studies: Readonly<Record<string, { readonly year: string; readonly devices: readonly string[] }>>;
}

const RANK: Record<AnalysisSeverity, number> = { error: 0, warning: 1, info: 2 };

export function breakdown(ev: Evidence, findings: readonly Finding[], today: string): Breakdown {
  const yearOf = new Map<string, string>();
  const devicesOf = new Map<string, Map<string, Device>>();
  for (const s of ev.studies.values()) {
    yearOf.set(s.studyUid, s.row ? judgeStudyDate(s.row.studyDate, today, '00010101').year : 'undated');
    const devices = new Map<string, Device>();
    for (const seriesUid of s.series) {
      const d = ev.deviceOfSeries(seriesUid);
      if (d) devices.set(deviceKey(d), d);
    }
    if (devices.size === 0) devices.set(deviceKey(NO_DEVICE), NO_DEVICE);
    devicesOf.set(s.studyUid, devices);
  }

  type Acc = {
    studies: Set<string>;
    worst: Map<string, AnalysisSeverity>;
    byCode: Map<FindingCode, Set<string>>;
    device?: Device;
  };
  const acc = (m: Map<string, Acc>, key: string, device?: Device): Acc => {
    let a = m.get(key);
    if (!a) m.set(key, (a = { studies: new Set(), worst: new Map(), byCode: new Map(), device }));
    return a;
  };
  const years = new Map<string, Acc>();
  const devices = new Map<string, Acc>();
  for (const [uid, y] of yearOf) acc(years, y).studies.add(uid);
  for (const [uid, ds] of devicesOf) for (const [k, d] of ds) acc(devices, k, d).studies.add(uid);

  const touch = (a: Acc, f: Finding, study: string) => {
    const set = a.byCode.get(f.code) ?? new Set<string>();
    set.add(study);
    a.byCode.set(f.code, set);
    const prev = a.worst.get(study);
    const sev = FINDING_CODES[f.code].severity;
    if (!prev || RANK[sev] < RANK[prev]) a.worst.set(study, sev);
  };
  for (const f of findings)
    for (const study of f.studyUids) {
      touch(acc(years, yearOf.get(study) ?? 'undated'), f, study);
      const own = f.seriesUid ? ev.deviceOfSeries(f.seriesUid) : undefined;
      const ds = own
        ? new Map([[deviceKey(own), own]])
        : (devicesOf.get(study) ?? new Map([[deviceKey(NO_DEVICE), NO_DEVICE]]));
      for (const [k, d] of ds) touch(acc(devices, k, d), f, study);
    }

  const rows = (m: Map<string, Acc>): BreakdownRow[] =>
    [...m].map(([key, a]) => {
      const bySeverity: Record<AnalysisSeverity, number> = { error: 0, warning: 0, info: 0 };
      for (const s of a.worst.values()) bySeverity[s]++;
      const byCode: Partial<Record<FindingCode, number>> = {};
      for (const [code, set] of a.byCode) byCode[code] = set.size;
      return { key, ...(a.device ? { device: a.device } : {}), studies: a.studies.size, bySeverity, byCode };
    });
  const byYear = rows(years).sort((a, b) =>
    a.key === 'undated' ? 1 : b.key === 'undated' ? -1 : a.key.localeCompare(b.key),
  );
  const byDevice = rows(devices).sort(
    (a, b) =>
      b.bySeverity.error + b.bySeverity.warning - (a.bySeverity.error + a.bySeverity.warning) ||
      b.studies - a.studies ||
      a.key.localeCompare(b.key),
  );
  const studies: Record<string, { year: string; devices: string[] }> = {};
  for (const f of findings)
    for (const uid of f.studyUids)
      studies[uid] ??= {
        year: yearOf.get(uid) ?? 'undated',
        devices: [...(devicesOf.get(uid)?.keys() ?? [])].sort(),
      };
  return { byYear, byDevice, studies };
}
