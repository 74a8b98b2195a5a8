/**
 * What the analysis knows about the source, gathered from the state database: the inventory (studies,
 * series, instances as the source's C-FIND or folder index reported them), the headers recorded while
 * data passed through the migration (instances.header), the copies the analysis read itself
 * (analysis_headers), and the audit events of the inventory and the transfer. Instances are folded in
 * as they are paged through (counts and observations), so millions of rows are never held at once.
 */
import type { AnalysisHeader } from '../state/analysis-types.js';
import type { AuditEvent, Instance, Json, Series, Study } from '../state/types.js';
import { deviceOf, type Device } from './device.js';
import { normaliseDate, normaliseId, normaliseName, normaliseSex } from './normalise.js';
import type { ScanProblems } from './scan.js';
import type { UidProblem } from './uid.js';
import { checkUid } from './uid.js';

export type Source = 'inventory' | 'sample' | 'transfer';

/** Patient data as one source reported it for one study. undefined: not known (not reported, undecodable). */
export interface PatientFacts {
  readonly patientId: string | undefined;
  readonly issuer: string | undefined;
  readonly name: string | undefined;
  readonly birthDate: string | undefined;
  readonly sex: string | undefined;
}

export interface Observation extends PatientFacts {
  readonly studyUid: string;
  readonly sources: Set<Source>;
}

export interface StudyFacts {
  readonly studyUid: string;
  /** The inventory row, when the inventory listed the study. */
  row?: Study;
  /** Series UIDs seen in the study (rows, instances, headers). */
  readonly series: Set<string>;
  /** Inventoried instance rows. */
  instanceRows: number;
}

export interface SeriesFacts {
  readonly seriesUid: string;
  row?: Series;
  /** Study UIDs the series was seen under, and by which source. */
  readonly studies: Map<string, Set<Source>>;
  readonly numbers: Set<string>;
  readonly modalities: Set<string>;
  instanceRows: number;
  /** The device as the sampled headers give it (when the row has none). */
  headerDevice?: Device;
}

export interface CopyFacts {
  readonly sopInstanceUid: string;
  readonly studyUid: string | null;
  readonly seriesUid: string | null;
  readonly contentDigest: string;
  readonly datasetSha256: string | null;
  readonly origin: string;
  readonly problems: CopyProblems;
}

export interface CopyProblems extends Partial<ScanProblems> {
  /** The data set could not be read to its end (a DicomFileError code). */
  readonly unreadable?: string;
}

export interface UidFinding {
  readonly uid: string;
  readonly keyword: string;
  readonly problem: UidProblem;
  readonly studyUid: string | null;
  readonly seriesUid: string | null;
  readonly sopInstanceUid: string | null;
  readonly nested: boolean;
}

/** Header values as recordPassThrough stores them: text, number, or null (absent or undecodable). */
type Header = { readonly [keyword: string]: Json };

/** An IS value compared as a number ("01" = "1"); anything else as written, trimmed. */
export const integerString = (v: string): string =>
  /^\s*[+-]?\d+\s*$/.test(v) ? String(Number(v)) : v.trim();

const text = (h: Header, k: string): string | undefined => {
  const undecodable = h._undecodable;
  if (Array.isArray(undecodable) && undecodable.includes(k)) return undefined;
  if (!(k in h)) return undefined;
  const v = h[k];
  if (v === null) return '';
  if (typeof v === 'string') return v;
  if (typeof v === 'number') return String(v);
  if (Array.isArray(v)) return v.map(String).join('\\');
  return undefined;
};

export class Evidence {
  readonly studies = new Map<string, StudyFacts>();
  readonly series = new Map<string, SeriesFacts>();
  /** Study → normalised identity key → observation. */
  readonly observations = new Map<string, Map<string, Observation>>();
  /** SOP Instance UID → copies the analysis read. */
  readonly copies = new Map<string, CopyFacts[]>();
  /** Series with at least one header read (by the analysis or recorded by the migration). */
  readonly seriesWithHeaders = new Set<string>();
  readonly uidProblems: UidFinding[] = [];
  readonly events: AuditEvent[] = [];
  /** Charset problems of the copies, by series. */
  readonly charsetBySeries = new Map<
    string,
    { studyUid: string | null; instances: Set<string>; issues: Map<string, Set<string>> }
  >();
  /** Inventoried instance rows (not vanished). */
  instanceRows = 0;

  study(uid: string): StudyFacts {
    let s = this.studies.get(uid);
    if (!s) this.studies.set(uid, (s = { studyUid: uid, series: new Set(), instanceRows: 0 }));
    return s;
  }

  seriesFacts(uid: string): SeriesFacts {
    let s = this.series.get(uid);
    if (!s)
      this.series.set(
        uid,
        (s = {
          seriesUid: uid,
          studies: new Map(),
          numbers: new Set(),
          modalities: new Set(),
          instanceRows: 0,
        }),
      );
    return s;
  }

  private seriesInStudy(seriesUid: string, studyUid: string, source: Source): SeriesFacts {
    const se = this.seriesFacts(seriesUid);
    const set = se.studies.get(studyUid) ?? new Set<Source>();
    set.add(source);
    se.studies.set(studyUid, set);
    this.study(studyUid).series.add(seriesUid);
    return se;
  }

  observe(studyUid: string, facts: PatientFacts, source: Source): void {
    const n = {
      patientId: facts.patientId === undefined ? undefined : normaliseId(facts.patientId),
      issuer: facts.issuer === undefined ? undefined : normaliseId(facts.issuer),
      name: facts.name === undefined ? undefined : normaliseName(facts.name),
      birthDate: facts.birthDate === undefined ? undefined : normaliseDate(facts.birthDate),
      sex: facts.sex === undefined ? undefined : normaliseSex(facts.sex),
    };
    const key = JSON.stringify([n.patientId, n.issuer, n.name, n.birthDate, n.sex]);
    let m = this.observations.get(studyUid);
    if (!m) this.observations.set(studyUid, (m = new Map()));
    const o = m.get(key);
    if (o) o.sources.add(source);
    else m.set(key, { ...n, studyUid, sources: new Set([source]) });
  }

  private checkUids(
    values: readonly [string, string][],
    at: { studyUid: string | null; seriesUid: string | null; sopInstanceUid: string | null },
  ): void {
    for (const [keyword, uid] of values) {
      const problem = checkUid(uid);
      if (problem && problem !== 'empty')
        this.uidProblems.push({ uid, keyword, problem, ...at, nested: false });
    }
  }

  addStudy(row: Study): void {
    if (row.vanishedAt !== null) return;
    this.study(row.studyUid).row = row;
    const attrs = row.attrs ?? {};
    this.observe(
      row.studyUid,
      {
        patientId: row.patientId ?? '',
        issuer:
          'IssuerOfPatientID' in attrs
            ? typeof attrs.IssuerOfPatientID === 'string'
              ? attrs.IssuerOfPatientID
              : ''
            : undefined,
        name: row.patientName ?? '',
        birthDate: row.patientBirthDate ?? '',
        sex: row.patientSex ?? '',
      },
      'inventory',
    );
    this.checkUids([['StudyInstanceUID', row.studyUid]], {
      studyUid: row.studyUid,
      seriesUid: null,
      sopInstanceUid: null,
    });
  }

  addSeries(row: Series): void {
    if (row.vanishedAt !== null) return;
    const se = this.seriesInStudy(row.seriesUid, row.studyUid, 'inventory');
    se.row = row;
    if (row.seriesNumber !== null) se.numbers.add(integerString(String(row.seriesNumber)));
    if (row.modality) se.modalities.add(row.modality.trim());
    this.checkUids([['SeriesInstanceUID', row.seriesUid]], {
      studyUid: row.studyUid,
      seriesUid: row.seriesUid,
      sopInstanceUid: null,
    });
  }

  addInstance(row: Instance): void {
    if (row.vanishedAt !== null) return;
    if (this.copyPaths.has(row.sopInstanceUid) && typeof row.attrs?.path === 'string')
      this.copyPaths.set(row.sopInstanceUid, { path: row.attrs.path, seriesUid: row.seriesUid });
    if (this.unreadableFiles.has(row.sopInstanceUid) && row.firstSeenAt !== null)
      this.readableCopies.set(row.sopInstanceUid, {
        path: typeof row.attrs?.path === 'string' ? row.attrs.path : null,
        studyUid: row.studyUid,
      });
    const inventoried = row.firstSeenAt !== null;
    if (inventoried) {
      this.instanceRows++;
      this.study(row.studyUid).instanceRows++;
      this.seriesInStudy(row.seriesUid, row.studyUid, 'inventory').instanceRows++;
      this.checkUids([['SOPInstanceUID', row.sopInstanceUid]], {
        studyUid: row.studyUid,
        seriesUid: row.seriesUid,
        sopInstanceUid: row.sopInstanceUid,
      });
    }
    // Recorded while the data passed through the migration.
    const h = row.receivedAt !== null ? row.header : null;
    if (!h) return;
    const studyUid = text(h, 'StudyInstanceUID') || row.studyUid;
    const seriesUid = text(h, 'SeriesInstanceUID') || row.seriesUid;
    const se = this.seriesInStudy(seriesUid, studyUid, 'transfer');
    this.seriesWithHeaders.add(seriesUid);
    const modality = text(h, 'Modality');
    if (modality) se.modalities.add(modality.trim());
    this.observe(
      studyUid,
      {
        patientId: text(h, 'PatientID'),
        issuer: text(h, 'IssuerOfPatientID'),
        name: text(h, 'PatientName'),
        birthDate: text(h, 'PatientBirthDate'),
        sex: text(h, 'PatientSex'),
      },
      'transfer',
    );
    const undecodable = Array.isArray(h._undecodable) ? h._undecodable.map(String) : [];
    if (undecodable.length > 0) {
      const issue = text(h, 'SpecificCharacterSet') ? 'undecodable' : 'missing';
      this.addCharset(seriesUid, studyUid, row.sopInstanceUid, issue, undecodable);
    }
  }

  private addCharset(
    seriesUid: string,
    studyUid: string | null,
    sop: string,
    issue: string,
    what: readonly string[],
  ): void {
    let c = this.charsetBySeries.get(seriesUid);
    if (!c) this.charsetBySeries.set(seriesUid, (c = { studyUid, instances: new Set(), issues: new Map() }));
    c.instances.add(sop);
    const set = c.issues.get(issue) ?? new Set<string>();
    for (const w of what) set.add(w);
    c.issues.set(issue, set);
  }

  addCopy(h: AnalysisHeader): void {
    const problems = (h.problems ?? {}) as CopyProblems;
    const copy: CopyFacts = {
      sopInstanceUid: h.sopInstanceUid,
      studyUid: h.studyUid,
      seriesUid: h.seriesUid,
      contentDigest: h.contentDigest,
      datasetSha256: h.datasetSha256 ?? null,
      origin: h.origin,
      problems,
    };
    const list = this.copies.get(h.sopInstanceUid) ?? [];
    list.push(copy);
    this.copies.set(h.sopInstanceUid, list);
    const hd = h.header;
    if (h.studyUid && h.seriesUid) {
      if (!h.contentDigest.startsWith('unreadable:')) this.seriesWithHeaders.add(h.seriesUid);
      const se = this.seriesInStudy(h.seriesUid, h.studyUid, 'sample');
      const num = text(hd, 'SeriesNumber');
      if (num) se.numbers.add(integerString(num));
      const modality = text(hd, 'Modality');
      if (modality) se.modalities.add(modality.trim());
      const manufacturer = text(hd, 'Manufacturer');
      if (!se.headerDevice && manufacturer)
        se.headerDevice = deviceOf({
          manufacturer,
          model: text(hd, 'ManufacturerModelName'),
          software: text(hd, 'SoftwareVersions'),
          station: text(hd, 'StationName'),
        });
    }
    if (h.studyUid)
      this.observe(
        h.studyUid,
        {
          patientId: text(hd, 'PatientID'),
          issuer: text(hd, 'IssuerOfPatientID'),
          name: text(hd, 'PatientName'),
          birthDate: text(hd, 'PatientBirthDate'),
          sex: text(hd, 'PatientSex'),
        },
        'sample',
      );
    for (const u of problems.uids ?? [])
      this.uidProblems.push({
        uid: u.uid,
        keyword: u.keyword,
        problem: u.problem,
        studyUid: h.studyUid,
        seriesUid: h.seriesUid,
        sopInstanceUid: h.sopInstanceUid,
        nested: u.nested,
      });
    for (const [issue, what] of Object.entries(problems.charset ?? {}))
      if (what && what.length > 0)
        this.addCharset(h.seriesUid ?? '', h.studyUid, h.sopInstanceUid, issue, what);
  }

  /** Folder sources: where the first copy of a SOP Instance UID another file also holds was found. */
  private readonly copyPaths = new Map<string, { path: string; seriesUid: string } | undefined>();

  /** Folder sources: SOP Instance UID → files holding it that could not be read (named by data set or meta). */
  readonly unreadableFiles = new Map<string, string[]>();
  /** The inventoried (readable) copy of a SOP Instance UID some unreadable file also holds. */
  readonly readableCopies = new Map<string, { path: string | null; studyUid: string }>();

  addEvent(e: AuditEvent): void {
    this.events.push(e);
    if (e.kind === 'inventory.unreadable-file' && e.sopInstanceUid) {
      const d = e.detail && typeof e.detail === 'object' && !Array.isArray(e.detail) ? e.detail : {};
      const list = this.unreadableFiles.get(e.sopInstanceUid) ?? [];
      list.push(typeof d.path === 'string' ? d.path : '');
      this.unreadableFiles.set(e.sopInstanceUid, list);
    }
    if (
      e.kind === 'inventory.duplicate-instance' &&
      e.sopInstanceUid &&
      !this.copyPaths.has(e.sopInstanceUid)
    )
      this.copyPaths.set(e.sopInstanceUid, undefined);
  }

  firstCopyPath(sopInstanceUid: string): { path: string; seriesUid: string } | undefined {
    return this.copyPaths.get(sopInstanceUid);
  }

  /** The device of a series: the source's series-level values, else the sampled header's. */
  deviceOfSeries(seriesUid: string): Device | undefined {
    const se = this.series.get(seriesUid);
    if (!se) return undefined;
    const r = se.row;
    if (r && (r.manufacturer || r.model || r.stationName || r.softwareVersions))
      return deviceOf({
        manufacturer: r.manufacturer,
        model: r.model,
        software: r.softwareVersions,
        station: r.stationName,
      });
    return se.headerDevice;
  }
}
