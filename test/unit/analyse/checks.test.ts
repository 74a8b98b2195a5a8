/**
 * The checks on hand-made evidence: each finding appears when its condition holds and not otherwise,
 * names what it touches by UID or pseudonym, and carries patient values only with logPhi.
 */
import { describe, expect, it } from 'vitest';
import { runChecks, type CheckContext, type Finding } from '../../../src/analyse/checks/index.js';
import { Evidence } from '../../../src/analyse/evidence.js';
import type { AnalysisHeader, AuditEvent, Instance, Json, Series, Study } from '../../../src/state/index.js';

const seen = {
  firstSeenAt: 1,
  lastSeenAt: 1,
  firstRunId: 1,
  lastRunId: 1,
  vanishedAt: null,
  changedAt: null,
};

function study(uid: string, p: Partial<Study> = {}): Study {
  return {
    studyUid: uid,
    patientId: 'P1',
    patientName: 'DOE^JOHN',
    patientBirthDate: '19600101',
    patientSex: 'M',
    accessionNumber: 'A1',
    studyDate: '20200101',
    studyTime: null,
    studyDescription: null,
    modalitiesInStudy: 'CT',
    institutionName: null,
    referringPhysician: null,
    numSeries: 1,
    numInstances: 1,
    attrs: { IssuerOfPatientID: 'HOSP' },
    ...seen,
    ...p,
  };
}

function series(uid: string, studyUid: string, p: Partial<Series> = {}): Series {
  return {
    seriesUid: uid,
    studyUid,
    modality: 'CT',
    seriesNumber: 1,
    seriesDescription: null,
    bodyPart: null,
    manufacturer: 'SIEMENS',
    model: 'Skyra',
    stationName: 'MR1',
    softwareVersions: 'E11',
    numInstances: 1,
    attrs: null,
    ...seen,
    ...p,
  };
}

function instance(uid: string, seriesUid: string, studyUid: string, p: Partial<Instance> = {}): Instance {
  return {
    sopInstanceUid: uid,
    seriesUid,
    studyUid,
    sopClassUid: '1.2.840.10008.5.1.4.1.1.2',
    instanceNumber: 1,
    transferSyntaxUid: '1.2.840.10008.1.2.1',
    sizeBytes: 10,
    attrs: null,
    ...seen,
    receivedAt: null,
    spoolPath: null,
    datasetSha256: null,
    pixelDigest: null,
    pixelDigestTs: null,
    header: null,
    storedAt: null,
    storeStatus: null,
    verifiedAt: null,
    verifyOutcome: null,
    verifyDetail: null,
    ...p,
  };
}

let copyId = 0;
function copy(
  sop: string,
  seriesUid: string,
  studyUid: string,
  digest: string,
  header: { [k: string]: Json } = {},
  problems: Json = null,
): AnalysisHeader {
  return {
    id: ++copyId,
    sopInstanceUid: sop,
    contentDigest: digest,
    studyUid,
    seriesUid,
    origin: 'sample',
    datasetSha256: `sha-${digest}`,
    transferSyntaxUid: '1.2.840.10008.1.2.1',
    header,
    problems,
    firstSeenAt: 1,
    lastSeenAt: 1,
    timesSeen: 1,
  };
}

let eventId = 0;
const event = (
  kind: string,
  studyUid: string | null,
  detail: Json = {},
  sopInstanceUid: string | null = null,
): AuditEvent => ({
  id: ++eventId,
  jobId: null,
  studyUid,
  sopInstanceUid,
  kind,
  detail,
  at: 1,
});

/** A consistent study: one series, one instance, all counts right. */
function add(ev: Evidence, uid: string, p: Partial<Study> = {}, s: Partial<Series> = {}): void {
  ev.addStudy(study(uid, p));
  ev.addSeries(series(`${uid}.1`, uid, s));
  ev.addInstance(instance(`${uid}.1.1`, `${uid}.1`, uid));
}

const CTX: CheckContext = { secret: 'test-secret', today: '20260102', oldest: '19700101', logPhi: false };
const codes = (fs: readonly Finding[]) => [...new Set(fs.map((f) => f.code))].sort();
const of = (fs: readonly Finding[], code: string) => fs.filter((f) => f.code === code);

describe('checks', () => {
  it('a clean source has no finding', () => {
    const ev = new Evidence();
    add(ev, '1.1');
    add(ev, '1.2', { patientId: 'P2', patientName: 'ROE^RICHARD', patientBirthDate: '19700101' });
    expect(runChecks(ev, CTX)).toEqual([]);
  });

  it('names equal after normalising case, spaces and ^ padding are one name', () => {
    const ev = new Evidence();
    add(ev, '1.1', { patientName: 'Doe^John' });
    add(ev, '1.2', { patientName: 'DOE ^ JOHN^^^' });
    expect(codes(runChecks(ev, CTX))).toEqual([]);
  });

  it('one PatientID with different names, birth dates, sexes: one finding each, studies listed, pseudonym subject', () => {
    const ev = new Evidence();
    add(ev, '1.1');
    add(ev, '1.2', { patientName: 'DOE^JON', patientBirthDate: '', patientSex: 'F' });
    add(ev, '1.3', { patientId: 'OTHER', patientName: 'X^Y', patientBirthDate: '19500101' });
    const fs = runChecks(ev, CTX);
    expect(codes(fs)).toEqual([
      'PATIENT_BIRTHDATE_CONFLICT',
      'PATIENT_NAME_CONFLICT',
      'PATIENT_SEX_CONFLICT',
    ]);
    for (const f of fs) {
      expect(f.studyUids).toEqual(['1.1', '1.2']);
      expect(f.subject).toMatch(/^pid#[0-9a-f]{12}$/);
    }
    expect(of(fs, 'PATIENT_BIRTHDATE_CONFLICT')[0]!.detail).toMatchObject({
      distinctValues: 2,
      includesEmpty: true,
    });
    // A spelling variant (a word in common) is one person: no PATIENT_ID_SHARED.
    expect(of(fs, 'PATIENT_ID_SHARED')).toEqual([]);
  });

  it('a placeholder ID shared by unrelated people', () => {
    const ev = new Evidence();
    add(ev, '1.1', { patientId: '123456', patientName: 'JOHN DOE', patientBirthDate: '19000101' });
    add(ev, '1.2', { patientId: '123456', patientName: 'Anonymous', patientBirthDate: '20060101' });
    add(ev, '1.3', { patientId: '123456', patientName: 'Dog^AVeryGood', patientBirthDate: '20140422' });
    const shared = of(runChecks(ev, CTX), 'PATIENT_ID_SHARED');
    expect(shared).toHaveLength(1);
    expect(shared[0]!.detail).toEqual({ people: 3, placeholderLike: true });
    expect(shared[0]!.studyUids).toEqual(['1.1', '1.2', '1.3']);
  });

  it('the same name and birth date under two IDs is a likely missed merge (not for placeholder names such as DOE^JOHN)', () => {
    const ev = new Evidence();
    add(ev, '1.1', { patientId: 'A1', patientName: 'SMITH^ANNA' });
    add(ev, '1.2', { patientId: 'B7', patientName: 'smith^anna' });
    add(ev, '1.5', { patientId: 'D1', patientName: 'DOE^JOHN', patientBirthDate: '19000101' });
    add(ev, '1.6', { patientId: 'D2', patientName: 'DOE^JOHN', patientBirthDate: '19000101' });
    add(ev, '1.3', { patientId: 'C1', patientName: 'ANONYMOUS', patientBirthDate: '20000101' });
    add(ev, '1.4', { patientId: 'C2', patientName: 'ANONYMOUS', patientBirthDate: '20000101' });
    const merges = of(runChecks(ev, CTX), 'PATIENT_LIKELY_MISSED_MERGE');
    expect(merges).toHaveLength(1);
    expect(merges[0]!.studyUids).toEqual(['1.1', '1.2']);
    expect(merges[0]!.subject).toMatch(/^person#/);
  });

  it('missing PatientID, missing issuer, missing accession, study dates', () => {
    const ev = new Evidence();
    add(ev, '1.1', { patientId: null });
    add(ev, '1.2', { attrs: { IssuerOfPatientID: null }, accessionNumber: null });
    add(ev, '1.3', { studyDate: null });
    add(ev, '1.4', { studyDate: '20990101' });
    add(ev, '1.5', { studyDate: '19000101' });
    add(ev, '1.6', { studyDate: '20230230' });
    const fs = runChecks(ev, CTX);
    const by = (code: string) => of(fs, code).map((f) => f.subject);
    expect(by('PATIENT_ID_MISSING')).toEqual(['1.1']);
    expect(by('ISSUER_MISSING')).toEqual(['1.2']);
    expect(by('ACCESSION_MISSING')).toEqual(['1.2']);
    expect(by('STUDY_DATE_MISSING')).toEqual(['1.3']);
    expect(by('STUDY_DATE_FUTURE')).toEqual(['1.4']);
    expect(by('STUDY_DATE_TOO_OLD')).toEqual(['1.5']);
    expect(by('STUDY_DATE_INVALID')).toEqual(['1.6']);
  });

  it('one study under two patients: from the inventory event and from sampled headers', () => {
    const ev = new Evidence();
    add(ev, '1.1');
    add(ev, '1.2');
    ev.addSeries(series('1.2.2', '1.2'));
    ev.addCopy(copy('1.2.2.1', '1.2.2', '1.2', 'd1', { PatientID: 'P9', PatientName: 'ZED^ZOE' }));
    ev.addEvent(event('inventory.study-in-several-patients', '1.1', { patients: 2 }));
    const fs = of(runChecks(ev, CTX), 'STUDY_MULTI_PATIENT');
    expect(fs.map((f) => f.subject)).toEqual(['1.1', '1.2']);
    expect(fs[1]!.detail).toMatchObject({ patients: 2 });
  });

  it('one study under two patients: an empty PatientID beside a PatientID counts; an issuer-only split does not', () => {
    const ev = new Evidence();
    // 1.1: the inventory kept the answer with the ID, a header shows an instance without it.
    add(ev, '1.1');
    ev.addEvent(event('inventory.study-in-several-patients', '1.1', { patients: 2 }));
    ev.addCopy(copy('1.1.1.2', '1.1.1', '1.1', 'e1', { PatientID: null, PatientName: 'DOE^JOHN' }));
    // 1.2: the inventory split P1 with and without its issuer; the header of the one series shows both.
    add(ev, '1.2');
    ev.addEvent(event('inventory.study-in-several-patients', '1.2', { patients: 2 }));
    ev.addCopy(copy('1.2.1.1', '1.2.1', '1.2', 'e2', { PatientID: 'P1', IssuerOfPatientID: null }));
    // 1.3: the inventory's word, with a header of every series read that saw only one of the patients.
    add(ev, '1.3');
    ev.addEvent(event('inventory.study-in-several-patients', '1.3', { patients: 2 }));
    ev.addCopy(copy('1.3.1.1', '1.3.1', '1.3', 'e3', { PatientID: 'P1', IssuerOfPatientID: 'HOSP' }));
    const fs = runChecks(ev, CTX);
    const multi = of(fs, 'STUDY_MULTI_PATIENT');
    const detail = (f: Finding) => f.detail as { patients?: number; withoutPatientId?: boolean };
    expect(multi.map((f) => [f.subject, detail(f).patients, detail(f).withoutPatientId ?? false])).toEqual([
      ['1.1', 2, true],
      ['1.3', 2, false],
    ]);
    expect(of(fs, 'PATIENT_ID_MISSING')).toEqual([]);
  });

  it('series in two studies, several SeriesNumbers (compared as numbers), several modalities', () => {
    const ev = new Evidence();
    add(ev, '1.1');
    add(ev, '1.2');
    // The inventory lists an instance of series 1.1.1 under study 1.2.
    ev.addInstance(instance('1.1.1.9', '1.1.1', '1.2'));
    ev.addCopy(copy('1.2.1.1', '1.2.1', '1.2', 'a', { SeriesNumber: '01', Modality: 'CT' }));
    ev.addCopy(copy('1.2.1.2', '1.2.1', '1.2', 'b', { SeriesNumber: '2', Modality: 'SR' }));
    const fs = runChecks(ev, CTX);
    expect(of(fs, 'SERIES_MULTI_STUDY').map((f) => [f.subject, f.studyUids])).toEqual([
      ['1.1.1', ['1.1', '1.2']],
    ]);
    expect(of(fs, 'SERIES_NUMBER_INCONSISTENT').map((f) => [f.subject, f.detail])).toEqual([
      ['1.2.1', { seriesNumbers: ['1', '2'] }],
    ]);
    expect(of(fs, 'SERIES_MODALITY_INCONSISTENT').map((f) => [f.subject, f.detail])).toEqual([
      ['1.2.1', { modalities: ['CT', 'SR'] }],
    ]);
  });

  it('one SOP Instance UID: other content is a conflict, an unreadable copy is not content', () => {
    const ev = new Evidence();
    add(ev, '1.1');
    ev.addCopy(copy('1.1.1.1', '1.1.1', '1.1', 'same'));
    ev.addCopy(copy('1.1.1.1', '1.1.1', '1.1', 'other'));
    ev.addCopy(copy('1.1.1.2', '1.1.1', '1.1', 'x'));
    ev.addCopy(copy('1.1.1.2', '1.1.1', '1.1', 'unreadable:truncated', {}, { unreadable: 'truncated' }));
    const fs = runChecks(ev, CTX);
    expect(of(fs, 'SOP_CONTENT_CONFLICT').map((f) => f.subject)).toEqual(['1.1.1.1']);
    expect(of(fs, 'HEADER_UNREADABLE').map((f) => [f.subject, f.detail])).toEqual([
      ['1.1.1.2', { code: 'truncated' }],
    ]);
  });

  it('counts that disagree, and studies without instances', () => {
    const ev = new Evidence();
    add(ev, '1.1', { numInstances: 3 });
    add(ev, '1.2', { numSeries: 2 });
    ev.addStudy(study('1.3', { numSeries: 0, numInstances: 0 }));
    const fs = runChecks(ev, CTX);
    expect(of(fs, 'COUNT_MISMATCH').map((f) => [f.subject, f.detail])).toEqual([
      ['1.1', { mismatches: [{ level: 'study', what: 'instances', reported: 3, found: 1 }] }],
      ['1.2', { mismatches: [{ level: 'study', what: 'series', reported: 2, found: 1 }] }],
    ]);
    expect(of(fs, 'STUDY_EMPTY').map((f) => f.subject)).toEqual(['1.3']);
  });

  it('UIDs breaking the rules, from the inventory and from sampled headers (once each)', () => {
    const ev = new Evidence();
    add(ev, '1.01');
    ev.addCopy(
      copy(
        '1.01.1.1',
        '1.01.1',
        '1.01',
        'd',
        {},
        { uids: [{ uid: '1.01', keyword: 'StudyInstanceUID', problem: 'leading-zero', nested: false }] },
      ),
    );
    const fs = of(runChecks(ev, CTX), 'UID_INVALID');
    expect(fs.map((f) => [f.subject, (f.detail as { keyword: string }).keyword])).toEqual([
      ['1.01', 'StudyInstanceUID'],
      ['1.01.1', 'SeriesInstanceUID'],
      ['1.01.1.1', 'SOPInstanceUID'],
    ]);
  });

  it('character set problems by series, from sampled headers and from headers the migration recorded', () => {
    const ev = new Evidence();
    add(ev, '1.1');
    add(ev, '1.2');
    ev.addCopy(
      copy(
        '1.1.1.1',
        '1.1.1',
        '1.1',
        'd',
        {},
        { charset: { missing: ['PatientName'], misspelt: ['ISO-IR 100'] } },
      ),
    );
    ev.addInstance(
      instance('1.2.1.1', '1.2.1', '1.2', {
        receivedAt: 5,
        header: {
          StudyInstanceUID: '1.2',
          SeriesInstanceUID: '1.2.1',
          SpecificCharacterSet: 'ISO_IR 192',
          PatientName: null,
          _undecodable: ['PatientName'],
        },
      }),
    );
    const fs = runChecks(ev, CTX);
    expect(fs.filter((f) => f.code.startsWith('CHARSET')).map((f) => [f.code, f.subject, f.detail])).toEqual([
      ['CHARSET_MISSING', '1.1.1', { instances: 1, keywords: ['PatientName'] }],
      ['CHARSET_UNDECODABLE', '1.2.1', { instances: 1, keywords: ['PatientName'] }],
      ['CHARSET_MISSPELT', '1.1.1', { instances: 1, terms: ['ISO-IR 100'] }],
    ]);
    // An undecodable name is unknown, not a different name.
    expect(of(fs, 'PATIENT_NAME_CONFLICT')).toEqual([]);
  });

  it('conflicts the transfer recorded, and unreadable files of a folder source', () => {
    const ev = new Evidence();
    add(ev, '1.1');
    ev.addEvent(
      event(
        'instance.uid-conflict',
        '1.1',
        { cause: 'same SOP Instance UID, different content', first: { studyUid: '1.1' } },
        '1.1.1.1',
      ),
    );
    ev.addEvent(event('inventory.unreadable-file', null, { path: 'a/b.dcm', code: 'truncated' }, '9.9'));
    const fs = runChecks(ev, CTX);
    expect(of(fs, 'SOP_TRANSFER_CONFLICT').map((f) => [f.subject, f.detail])).toEqual([
      ['1.1.1.1', { causes: ['same SOP Instance UID, different content'] }],
    ]);
    expect(of(fs, 'FILE_UNREADABLE').map((f) => [f.subject, f.studyUids])).toEqual([['9.9', []]]);
  });

  it('patient values appear in findings only with logPhi', () => {
    const ev = new Evidence();
    add(ev, '1.1', {
      patientId: 'SECRETID77',
      patientName: 'VERYPRIVATE^NAME',
      patientBirthDate: '19111111',
    });
    add(ev, '1.2', {
      patientId: 'SECRETID77',
      patientName: 'OTHERPRIVATE^PERSON',
      patientBirthDate: '19222222',
    });
    const hidden = JSON.stringify(runChecks(ev, CTX));
    for (const v of ['SECRETID77', 'VERYPRIVATE', 'OTHERPRIVATE', '19111111', '19222222'])
      expect(hidden).not.toContain(v);
    const shown = JSON.stringify(runChecks(ev, { ...CTX, logPhi: true }));
    for (const v of ['SECRETID77', 'VERYPRIVATE', 'OTHERPRIVATE', '19111111']) expect(shown).toContain(v);
  });
});
