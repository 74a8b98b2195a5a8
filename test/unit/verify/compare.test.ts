import { describe, expect, it } from 'vitest';
import type { Instance } from '../../../src/state/types.js';
import {
  comparePixels,
  instanceDetail,
  judgeInstance,
  type JudgeOptions,
} from '../../../src/verify/compare.js';
import type { PassThroughRecord } from '../../../src/verify/pass-through.js';

const EXPLICIT = '1.2.840.10008.1.2.1';
const BIG = '1.2.840.10008.1.2.2';
const JPEG = '1.2.840.10008.1.2.4.50';
const J2K = '1.2.840.10008.1.2.4.90';

const header = {
  SOPInstanceUID: '1.2.3.4.1',
  StudyInstanceUID: '1.2.3',
  SeriesInstanceUID: '1.2.3.4',
  SOPClassUID: '1.2.840.10008.5.1.4.1.1.2',
  PatientID: 'PID-7',
  PatientName: 'Doe^Jane',
  Rows: 512,
  PhotometricInterpretation: 'YBR_FULL_422',
  TransferSyntaxUID: JPEG,
  SpecificCharacterSet: 'ISO_IR 100',
};

function instance(over: Partial<Instance> = {}): Instance {
  return {
    sopInstanceUid: '1.2.3.4.1',
    seriesUid: '1.2.3.4',
    studyUid: '1.2.3',
    sopClassUid: header.SOPClassUID,
    instanceNumber: 1,
    transferSyntaxUid: JPEG,
    sizeBytes: 1000,
    attrs: null,
    firstSeenAt: null,
    lastSeenAt: null,
    firstRunId: null,
    lastRunId: null,
    vanishedAt: null,
    changedAt: null,
    receivedAt: 1,
    spoolPath: null,
    datasetSha256: 'aa',
    pixelDigest: 'p1',
    pixelDigestTs: JPEG,
    header,
    storedAt: 2,
    storeStatus: 0,
    verifiedAt: null,
    verifyOutcome: null,
    verifyDetail: null,
    ...over,
  };
}

const copy = (over: Partial<PassThroughRecord> = {}, h: Record<string, unknown> = {}): PassThroughRecord => ({
  header: { ...header, ...h } as PassThroughRecord['header'],
  pixelDigest: 'p1',
  pixelDigestTs: JPEG,
  datasetSha256: 'aa',
  sizeBytes: 1000,
  sopInstanceUid: header.SOPInstanceUID,
  sopClassUid: header.SOPClassUID,
  studyUid: '1.2.3',
  seriesUid: '1.2.3.4',
  transferSyntaxUid: JPEG,
  ...over,
});

const opts: JudgeOptions = {
  keywords: ['PatientID', 'PatientName', 'StudyInstanceUID', 'SeriesInstanceUID', 'SOPClassUID', 'Rows'],
  listingMode: 'query',
  duplicates: true,
  pixels: true,
};

describe('judgeInstance', () => {
  it('verified: listed once with equal answers; unsupported keys are listed as unanswered', () => {
    const v = judgeInstance(instance(), [{ ...header, Rows: '' }], undefined, opts);
    expect(v).toMatchObject({ outcome: 'verified', copies: 1, differences: [], unanswered: ['Rows'] });
    expect(v.retrieved).toBeUndefined();
  });

  it('missing: not listed, or listed but not retrievable', () => {
    expect(judgeInstance(instance(), [], undefined, opts).outcome).toBe('missing');
    expect(judgeInstance(instance(), [header], [], opts)).toMatchObject({
      outcome: 'missing',
      retrieved: false,
    });
  });

  it('attribute mismatch: identifying values are withheld, others shown', () => {
    const v = judgeInstance(instance(), [{ ...header, PatientID: 'OTHER', Rows: 256 }], undefined, opts);
    expect(v.outcome).toBe('attribute-mismatch');
    expect(v.differences).toEqual([
      { keyword: 'PatientID', seenIn: 'query', withheld: true },
      { keyword: 'Rows', seenIn: 'query', expected: 512, found: 256 },
    ]);
    expect(JSON.stringify(instanceDetail(v))).not.toContain('OTHER');
    expect(JSON.stringify(instanceDetail(v))).not.toContain('PID-7');
  });

  it('duplicate conflict: two copies of one SOP Instance UID (e.g. under another PatientID); off by plan: the best copy speaks', () => {
    const listing = [header, { ...header, PatientID: 'OTHER' }];
    expect(judgeInstance(instance(), listing, undefined, opts)).toMatchObject({
      outcome: 'duplicate-conflict',
      copies: 2,
    });
    expect(judgeInstance(instance(), listing, undefined, { ...opts, duplicates: false })).toMatchObject({
      outcome: 'verified',
      copies: 2,
    });
  });

  it('pixel mismatch on a retrieved copy; a re-encoded copy in another syntax is compared on the attributes only', () => {
    expect(
      judgeInstance(instance(), [header], [copy({ pixelDigest: 'p2', datasetSha256: 'bb' })], opts),
    ).toMatchObject({
      outcome: 'pixel-mismatch',
      pixel: { compared: true, equal: false, identicalDataSet: false },
    });
    // decompressed by the target: PhotometricInterpretation may change, the digests cannot be compared
    const v = judgeInstance(
      instance(),
      [header],
      [
        copy(
          { pixelDigest: 'p9', pixelDigestTs: EXPLICIT, transferSyntaxUid: EXPLICIT, datasetSha256: 'cc' },
          { PhotometricInterpretation: 'RGB', TransferSyntaxUID: EXPLICIT },
        ),
      ],
      opts,
    );
    expect(v).toMatchObject({
      outcome: 'verified',
      retrieved: true,
      pixel: { compared: false, expectedTs: JPEG, foundTs: EXPLICIT },
    });
    // but a changed header value in the retrieved copy is a mismatch
    const w = judgeInstance(instance(), [header], [copy({}, { Rows: 511 })], opts);
    expect(w).toMatchObject({
      outcome: 'attribute-mismatch',
      differences: [{ keyword: 'Rows', seenIn: 'retrieved', expected: 512, found: 511 }],
    });
  });

  it('comparePixels: native syntaxes compare with each other, two different encapsulated ones do not', () => {
    expect(comparePixels({ digest: 'a', ts: EXPLICIT }, { digest: 'a', ts: BIG })).toMatchObject({
      compared: true,
      equal: true,
    });
    expect(comparePixels({ digest: 'a', ts: EXPLICIT }, { digest: 'b', ts: BIG })).toMatchObject({
      compared: true,
      equal: false,
    });
    expect(comparePixels({ digest: 'a', ts: JPEG }, { digest: 'b', ts: J2K })).toMatchObject({
      compared: false,
    });
    expect(comparePixels({ digest: null, ts: null }, { digest: 'b', ts: EXPLICIT })).toMatchObject({
      compared: true,
      equal: false,
    });
    expect(comparePixels({ digest: null, ts: null }, { digest: null, ts: null })).toMatchObject({
      compared: true,
      equal: true,
    });
  });

  it('an instance without a record is checked for presence and UIDs only', () => {
    const v = judgeInstance(
      instance({ header: null, pixelDigest: null, pixelDigestTs: null }),
      [{ ...header, PatientID: 'X' }],
      [copy()],
      opts,
    );
    expect(v).toMatchObject({ outcome: 'verified', unrecorded: true });
    expect(v.pixel).toBeUndefined();
  });
});
