import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SmallDataset } from '../../../src/dicom/small-dataset.js';
import { str } from '../../../src/dicom/small-dataset.js';
import type { DimseChannel } from '../../../src/net/dimse/channel.js';
import { cFind, cFindAll } from '../../../src/net/services/find-scu.js';
import { buildIdentifier } from '../../../src/net/services/identifier.js';
import { QR, type QueryLevel, UNCOMPRESSED_LE } from '../../../src/net/services/sop-classes.js';
import type { ManifestRow } from '../../harness/corpus.js';
import { hasCorpus } from '../../harness/corpus.js';
import { type CorpusArchive, channelTo, distinct, servedRows, startCorpusArchive } from './fixtures.js';

const FIND_CONTEXTS = [
  { abstractSyntax: QR.study.find, transferSyntaxes: UNCOMPRESSED_LE },
  { abstractSyntax: QR.patient.find, transferSyntaxes: ['1.2.840.10008.1.2'] }, // implicit VR identifiers too
];

const TAG = {
  PatientID: 0x00100020,
  PatientName: 0x00100010,
  StudyInstanceUID: 0x0020000d,
  SeriesInstanceUID: 0x0020000e,
  SOPInstanceUID: 0x00080018,
  SOPClassUID: 0x00080016,
  StudyDate: 0x00080020,
  Modality: 0x00080060,
  ModalitiesInStudy: 0x00080061,
  NumberOfStudyRelatedInstances: 0x00201208,
  NumberOfSeriesRelatedInstances: 0x00201209,
  NumberOfPatientRelatedStudies: 0x00201200,
  SpecificCharacterSet: 0x00080005,
  QueryRetrieveLevel: 0x00080052,
  StudyDescription: 0x00081030,
};

describe.skipIf(!hasCorpus())('archive C-FIND over the corpus', () => {
  let a: CorpusArchive;
  let ch: DimseChannel;
  let served: ManifestRow[];

  beforeAll(async () => {
    a = await startCorpusArchive();
    ch = await channelTo(a.archive, FIND_CONTEXTS);
    served = servedRows(a.archive);
  });
  afterAll(async () => {
    if (ch && !ch.ended) await ch.assoc.release();
    await a?.stop();
  });

  const find = async (
    level: QueryLevel,
    keys: Record<string, string>,
    model: 'study' | 'patient' = 'study',
  ) => {
    const r = await cFindAll(ch, buildIdentifier(level, keys), { model });
    if (!r.ok) throw new Error(`${r.error.kind}: ${r.error.message}`);
    return r.value;
  };
  const uids = (ids: SmallDataset[], tag: number) => ids.map((d) => str(d, tag)).sort();

  it('STUDY level, universal: one match per study of the corpus, with computed keys', async () => {
    const r = await find('STUDY', {
      StudyInstanceUID: '',
      ModalitiesInStudy: '',
      NumberOfStudyRelatedInstances: '',
      PatientID: '',
    });
    expect(r.status).toBe(0x0000);
    expect(r.complete).toBe(true);
    expect(r.identifiers.length).toBe(distinct(served.map((x) => x.studyInstanceUid)));
    expect(uids(r.identifiers, TAG.StudyInstanceUID)).toEqual(
      [...new Set(served.map((x) => x.studyInstanceUid))].sort(),
    );
    for (const id of r.identifiers) {
      const rows = served.filter((x) => x.studyInstanceUid === str(id, TAG.StudyInstanceUID));
      expect(str(id, TAG.QueryRetrieveLevel)).toBe('STUDY');
      expect(Number(str(id, TAG.NumberOfStudyRelatedInstances))).toBe(
        distinct(rows.map((x) => x.sopInstanceUid)),
      );
      expect(str(id, TAG.ModalitiesInStudy).split('\\').filter(Boolean).sort()).toEqual(
        [...new Set(rows.map((x) => x.modality).filter(Boolean))].sort(),
      );
    }
  });

  it('StudyDate range, open range and single date match the manifest counts', async () => {
    const count = (pred: (d: string) => boolean) =>
      distinct(served.filter((x) => pred(x.studyDate)).map((x) => x.studyInstanceUid));
    // Study-level attributes come from one instance per study; the corpus has no study with two dates.
    const r1 = await find('STUDY', { StudyDate: '20100101-20151231', StudyInstanceUID: '' });
    expect(r1.identifiers.length).toBe(count((d) => d >= '20100101' && d <= '20151231'));
    expect(r1.identifiers.length).toBeGreaterThan(0);
    const r2 = await find('STUDY', { StudyDate: '20180101-', StudyInstanceUID: '' });
    expect(r2.identifiers.length).toBe(count((d) => d !== '' && d >= '20180101'));
    const r3 = await find('STUDY', { StudyDate: '-19991231', StudyInstanceUID: '' });
    expect(r3.identifiers.length).toBe(count((d) => d !== '' && d <= '19991231'));
    const someDate = served.find((x) => x.studyDate !== '')!.studyDate;
    const r4 = await find('STUDY', { StudyDate: someDate, StudyInstanceUID: '' });
    expect(r4.identifiers.length).toBe(count((d) => d === someDate));
    for (const id of r4.identifiers) expect(str(id, TAG.StudyDate)).toBe(someDate);
  });

  it('wildcards on PatientID and case-insensitive PatientName', async () => {
    const r = await find('STUDY', { PatientID: 'ANON*', StudyInstanceUID: '' });
    const expected = distinct(
      served.filter((x) => x.patientId.startsWith('ANON')).map((x) => x.studyInstanceUid),
    );
    expect(r.identifiers.length).toBe(expected);
    const row = served.find((x) => /^[A-Za-z]+\^[A-Za-z]+$/.test(x.patientName))!;
    const q = `${row.patientName.split('^')[0]!.toLowerCase()}^*`;
    const byName = await find('STUDY', { PatientName: q, StudyInstanceUID: '' });
    const expectedByName = served.filter((x) => x.patientName.toLowerCase().startsWith(q.slice(0, -1)));
    expect(byName.identifiers.length).toBe(distinct(expectedByName.map((x) => x.studyInstanceUid)));
    expect(uids(byName.identifiers, TAG.StudyInstanceUID)).toContain(row.studyInstanceUid);
  });

  it('ModalitiesInStudy and a list of Study Instance UIDs', async () => {
    const mr = await find('STUDY', { ModalitiesInStudy: 'MR', StudyInstanceUID: '' });
    expect(mr.identifiers.length).toBe(
      distinct(served.filter((x) => x.modality === 'MR').map((x) => x.studyInstanceUid)),
    );
    const some = [...new Set(served.map((x) => x.studyInstanceUid))].slice(3, 8);
    const list = await find('STUDY', { StudyInstanceUID: some.join('\\') });
    expect(uids(list.identifiers, TAG.StudyInstanceUID)).toEqual([...some].sort());
  });

  it('SERIES and IMAGE levels under one study; SOPClassUID returned at IMAGE level', async () => {
    const study = [...new Set(served.map((x) => x.studyInstanceUid))]
      .map((u) => served.filter((x) => x.studyInstanceUid === u))
      .sort(
        (p, q) => distinct(q.map((x) => x.seriesInstanceUid)) - distinct(p.map((x) => x.seriesInstanceUid)),
      )[0]!;
    const studyUid = study[0]!.studyInstanceUid;
    const series = await find('SERIES', {
      StudyInstanceUID: studyUid,
      SeriesInstanceUID: '',
      Modality: '',
      NumberOfSeriesRelatedInstances: '',
    });
    expect(uids(series.identifiers, TAG.SeriesInstanceUID)).toEqual(
      [...new Set(study.map((x) => x.seriesInstanceUid))].sort(),
    );
    for (const s of series.identifiers) {
      const rows = study.filter((x) => x.seriesInstanceUid === str(s, TAG.SeriesInstanceUID));
      expect(Number(str(s, TAG.NumberOfSeriesRelatedInstances))).toBe(rows.length);
      expect(str(s, TAG.StudyInstanceUID)).toBe(studyUid);
    }
    const seriesUid = str(series.identifiers[0]!, TAG.SeriesInstanceUID);
    const images = await find('IMAGE', {
      StudyInstanceUID: studyUid,
      SeriesInstanceUID: seriesUid,
      SOPInstanceUID: '',
      SOPClassUID: '',
    });
    const rows = study.filter((x) => x.seriesInstanceUid === seriesUid);
    expect(uids(images.identifiers, TAG.SOPInstanceUID)).toEqual(rows.map((x) => x.sopInstanceUid).sort());
    for (const i of images.identifiers) expect(str(i, TAG.SOPClassUID)).toMatch(/^[0-9.]+$/);
    // Binary VRs: indexed values come back as numbers; a key the archive does not index is zero-length, never 0.
    const mrRow = served.find(
      (x) => x.sopClass === 'MR Image Storage' && x.transferSyntax === 'Explicit VR Little Endian',
    )!;
    // (buildIdentifier would write '' as 0 in a binary VR: zero-length values are set by hand.)
    const pxId = buildIdentifier('IMAGE', {
      StudyInstanceUID: mrRow.studyInstanceUid,
      SeriesInstanceUID: mrRow.seriesInstanceUid,
      SOPInstanceUID: mrRow.sopInstanceUid,
    });
    for (const t of [0x00280010, 0x00280011, 0x00280101]) pxId.set(t, { vr: 'US', value: null });
    const pxR = await cFindAll(ch, pxId);
    if (!pxR.ok) throw new Error(pxR.error.message);
    const px = pxR.value;
    const rowsEl = px.identifiers[0]!.get(0x00280010)!;
    expect(rowsEl.vr).toBe('US');
    expect(typeof rowsEl.value === 'number' && rowsEl.value > 0).toBe(true);
    const bitsStored = px.identifiers[0]!.get(0x00280101)!;
    expect(bitsStored.vr).toBe('US');
    expect(Array.isArray(bitsStored.value) && bitsStored.value.length === 0).toBe(true); // zero-length on the wire
    const byRows = await find('IMAGE', {
      StudyInstanceUID: mrRow.studyInstanceUid,
      SeriesInstanceUID: mrRow.seriesInstanceUid,
      SOPInstanceUID: '',
      Rows: String(rowsEl.value),
    });
    expect(uids(byRows.identifiers, TAG.SOPInstanceUID)).toContain(mrRow.sopInstanceUid);
    const one = await find('IMAGE', {
      StudyInstanceUID: studyUid,
      SeriesInstanceUID: seriesUid,
      SOPInstanceUID: rows[0]!.sopInstanceUid,
    });
    expect(uids(one.identifiers, TAG.SOPInstanceUID)).toEqual([rows[0]!.sopInstanceUid]);
  });

  it('patient root: PATIENT, then STUDY under a PatientID', async () => {
    const patients = await find('PATIENT', { PatientID: '', NumberOfPatientRelatedStudies: '' }, 'patient');
    expect(patients.identifiers.length).toBe(distinct(served.map((x) => x.patientId)));
    const busiest = patients.identifiers
      .filter((p) => str(p, TAG.PatientID) !== '') // an empty PatientID cannot be asked for as a unique key
      .sort(
        (p, q) =>
          Number(str(q, TAG.NumberOfPatientRelatedStudies)) -
          Number(str(p, TAG.NumberOfPatientRelatedStudies)),
      )[0]!;
    const pid = str(busiest, TAG.PatientID);
    const expected = [
      ...new Set(served.filter((x) => x.patientId === pid).map((x) => x.studyInstanceUid)),
    ].sort();
    expect(Number(str(busiest, TAG.NumberOfPatientRelatedStudies))).toBe(expected.length);
    const studies = await find('STUDY', { PatientID: pid, StudyInstanceUID: '' }, 'patient');
    expect(uids(studies.identifiers, TAG.StudyInstanceUID)).toEqual(expected);
    expect(expected.length).toBeGreaterThan(1);
  });

  it('names in other character sets come back in UTF-8 with (0008,0005) ISO_IR 192', async () => {
    const row = served.find((x) => x.specificCharacterSet === 'ISO_IR 144')!;
    const r = await find('STUDY', { StudyInstanceUID: row.studyInstanceUid, PatientName: '' });
    expect(str(r.identifiers[0]!, TAG.PatientName)).toBe(row.patientName);
    expect(str(r.identifiers[0]!, TAG.SpecificCharacterSet)).toBe('ISO_IR 192');
    // and a query value in UTF-8 matches it
    const id = buildIdentifier('STUDY', {
      StudyInstanceUID: '',
      PatientName: `${row.patientName.slice(0, 3)}*`,
    });
    id.set(TAG.SpecificCharacterSet, { vr: 'CS', value: 'ISO_IR 192' });
    const q = await cFindAll(ch, id);
    expect(q.ok && q.value.identifiers.map((d) => str(d, TAG.StudyInstanceUID))).toContain(
      row.studyInstanceUid,
    );
  });

  it('an unsupported key comes back empty with FF01 pending status', async () => {
    const id = buildIdentifier('STUDY', {
      StudyInstanceUID: served[0]!.studyInstanceUid,
      OtherPatientIDs: '',
    });
    const q = cFind(ch, id);
    const ids: SmallDataset[] = [];
    for await (const m of q.matches) ids.push(m);
    const done = await q.done;
    expect(done.ok && done.value.status).toBe(0);
    expect(ids.length).toBe(1);
    expect(ids[0]!.has(0x00101000)).toBe(true);
    expect(str(ids[0]!, 0x00101000)).toBe('');
    // The SCU does not expose pending statuses: FF01 itself is checked with findscu in the interop test.
  });

  it('level checks: keys below the level, missing unique keys above it, a level outside the model', async () => {
    const bad = async (
      level: QueryLevel,
      keys: Record<string, string>,
      model: 'study' | 'patient' = 'study',
    ) => {
      const r = await cFindAll(ch, buildIdentifier(level, keys), { model });
      if (!r.ok) throw new Error(r.error.message);
      return r.value;
    };
    const below = await bad('STUDY', { StudyInstanceUID: '', SeriesInstanceUID: '' });
    expect(below.status).toBe(0xa900);
    expect(below.identifiers).toEqual([]);
    expect(below.errorComment).toMatch(/SeriesInstanceUID is below the STUDY level/);
    const noStudy = await bad('SERIES', { SeriesInstanceUID: '' });
    expect(noStudy.status).toBe(0xa900);
    expect(noStudy.errorComment).toMatch(/StudyInstanceUID/);
    const wildStudy = await bad('SERIES', { StudyInstanceUID: '1.2*', SeriesInstanceUID: '' });
    expect(wildStudy.status).toBe(0xa900);
    expect((await bad('PATIENT', { PatientID: '' })).status).toBe(0xa900);
    expect((await bad('STUDY', { StudyInstanceUID: '' }, 'patient')).status).toBe(0xa900); // no PatientID
  });
});

describe.skipIf(!hasCorpus())('archive C-FIND, relational option', () => {
  it('relational: SERIES and IMAGE queries without the unique keys above them search the whole archive', async () => {
    const a = await startCorpusArchive({ relational: true });
    try {
      const ch = await channelTo(a.archive, FIND_CONTEXTS);
      const served = servedRows(a.archive);
      const r = await cFindAll(ch, buildIdentifier('SERIES', { Modality: 'CT', SeriesInstanceUID: '' }));
      // A series whose instances carry several modalities has its first instance's (Orthanc does the same): left out.
      const mixed = new Set(
        served
          .filter((x) =>
            served.some((y) => y.seriesInstanceUid === x.seriesInstanceUid && y.modality !== x.modality),
          )
          .map((x) => x.seriesInstanceUid),
      );
      expect(mixed.size).toBeGreaterThan(0);
      const expected = [...new Set(served.filter((x) => x.modality === 'CT').map((x) => x.seriesInstanceUid))]
        .filter((u) => !mixed.has(u))
        .sort();
      expect(r.ok && r.value.status).toBe(0);
      const got = r.ok ? r.value.identifiers.map((d) => str(d, TAG.SeriesInstanceUID)) : [];
      expect(got.filter((u) => !mixed.has(u)).sort()).toEqual(expected);
      const row = served[10]!;
      const i = await cFindAll(
        ch,
        buildIdentifier('IMAGE', { SOPInstanceUID: row.sopInstanceUid, StudyInstanceUID: '' }),
      );
      expect(
        i.ok && i.value.identifiers.map((d) => [str(d, TAG.SOPInstanceUID), str(d, TAG.StudyInstanceUID)]),
      ).toEqual([[row.sopInstanceUid, row.studyInstanceUid]]);
      await ch.assoc.release();
    } finally {
      await a.stop();
    }
  });
});

describe.skipIf(!hasCorpus())('archive C-FIND limits and cancel', () => {
  it('findLimit N: exactly N matches, then FE00 (or B001)', async () => {
    for (const [status, expected] of [
      ['cancel', 0xfe00],
      ['warning', 0xb001],
    ] as const) {
      const a = await startCorpusArchive({ findLimit: 7, findLimitStatus: status });
      try {
        const ch = await channelTo(a.archive, FIND_CONTEXTS);
        const r = await cFindAll(ch, buildIdentifier('STUDY', { StudyInstanceUID: '' }));
        expect(r.ok && r.value.status).toBe(expected);
        expect(r.ok && r.value.identifiers.length).toBe(7);
        expect(r.ok && r.value.complete).toBe(false);
        expect(r.ok && r.value.cancelledByUs).toBe(false);
        // At or under the limit: complete.
        const uidList = servedRows(a.archive)
          .map((x) => x.studyInstanceUid)
          .filter((u, i, all) => all.indexOf(u) === i)
          .slice(0, 7);
        const under = await cFindAll(ch, buildIdentifier('STUDY', { StudyInstanceUID: uidList.join('\\') }));
        expect(under.ok && [under.value.status, under.value.identifiers.length]).toEqual([0, 7]);
        await ch.assoc.release();
      } finally {
        await a.stop();
      }
    }
  });

  it('C-CANCEL ends the answer with FE00', async () => {
    const a = await startCorpusArchive();
    try {
      const ch = await channelTo(a.archive, FIND_CONTEXTS);
      const q2 = cFind(
        ch,
        buildIdentifier('STUDY', { StudyInstanceUID: '', PatientName: '', StudyDescription: '' }),
      );
      q2.cancel(); // sent right behind the request
      let got = 0;
      for await (const m of q2.matches) {
        expect(m.get(TAG.StudyInstanceUID)).toBeDefined();
        got++;
      }
      const done = await q2.done;
      expect(done.ok && done.value.status).toBe(0xfe00);
      expect(done.ok && done.value.cancelledByUs).toBe(true);
      expect(got).toBeLessThan(distinct(servedRows(a.archive).map((x) => x.studyInstanceUid)));
      await ch.assoc.release();
    } finally {
      await a.stop();
    }
  });
});
