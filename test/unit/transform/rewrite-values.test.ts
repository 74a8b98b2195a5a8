/**
 * What the rewriter writes and what it refuses, on real corpus files: non-ASCII values encoded in the
 * instance's Specific Character Set (and refused when the set cannot hold them), VR checks, UIDs, File Meta,
 * non-text VRs; nothing written on a refusal; edits that change nothing leave the file identical.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import dcmjs from 'dcmjs';
import { afterAll, describe, expect, it } from 'vitest';
import { decodeText } from '../../../src/dicom/charset.js';
import { readInstanceInfo } from '../../../src/dicom/part10.js';
import { Tags } from '../../../src/dicom/tag.js';
import { withDataSet } from '../../../src/dicom/dataset.js';
import { ok } from '../../../src/util/result.js';
import { rewriteInstance, type ElementEdit } from '../../../src/transform/rewrite.js';
import { encodeValue } from '../../../src/transform/encode-value.js';
import { hasCorpus, manifest, type ManifestRow } from '../../harness/corpus.js';

const sha = (p: string) => createHash('sha256').update(readFileSync(p)).digest('hex');

/** Raw value bytes of a top-level element (pacshift's walker), or undefined when absent. */
async function topValue(path: string, tag: number): Promise<{ bytes: Buffer; charset?: string } | undefined> {
  const r = await withDataSet(path, async (ds) => {
    const w = ds.walker({ descendDefinedLength: false, emitNested: false });
    let charset: string | undefined;
    for await (const el of w) {
      if (el.depth !== 0 || el.kind !== 'element') continue;
      if (el.tag === Tags.SpecificCharacterSet.tag)
        charset = (await w.readValue(el)).toString('latin1').replace(/[\0 ]+$/, '');
      if (el.tag === tag) return ok({ bytes: Buffer.from(await w.readValue(el)), charset });
    }
    return ok(undefined);
  });
  if (!r.ok) throw new Error(r.error.message);
  return r.value;
}

/** The first readable, uncompressed corpus file whose (0008,0005) is `charset` ('' = absent). */
async function fileWithCharset(charset: string, readableByDcmjs = false): Promise<ManifestRow> {
  for (const row of manifest()) {
    if (row.specificCharacterSet !== charset || !/^(Explicit|Implicit) VR Little/.test(row.transferSyntax))
      continue;
    if (readableByDcmjs) {
      try {
        dcmjsName(row.absPath);
      } catch {
        continue;
      }
    }
    if ((await readInstanceInfo(row.absPath)).ok) return row;
  }
  throw new Error(`corpus: no readable file with Specific Character Set "${charset}"`);
}

function dcmjsName(path: string): string | undefined {
  const b = readFileSync(path);
  const dcm = (
    dcmjs as unknown as {
      data: { DicomMessage: { readFile(b: ArrayBuffer): { dict: Record<string, { Value?: unknown[] }> } } };
    }
  ).data.DicomMessage.readFile(b.buffer.slice(b.byteOffset, b.byteOffset + b.length) as ArrayBuffer);
  const v = dcm.dict['00100010']?.Value?.[0] as { Alphabetic?: string } | undefined;
  return v?.Alphabetic;
}

describe.skipIf(!hasCorpus())('rewriteInstance: character sets', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pacshift-rewrite-values-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const cases: [charset: string, name: string, bytes: (s: string) => Buffer][] = [
    ['ISO_IR 100', 'Müller^Jörg^Émile', (s) => Buffer.from(s, 'latin1')],
    ['ISO_IR 192', 'Straße^Zoë^日本', (s) => Buffer.from(s, 'utf8')],
    [
      'ISO_IR 144',
      'Люкс^Иван',
      (s) => Buffer.from([...s].map((c) => (c === '^' ? 0x5e : c.charCodeAt(0) - 0x0410 + 0xb0))),
    ],
  ];
  for (const [charset, name, expectedBytes] of cases) {
    it(`writes PatientName in ${charset} and reads it back as the same Unicode`, async () => {
      const row = await fileWithCharset(charset, true);
      const out = join(dir, `${charset.replace(/\W/g, '_')}.dcm`);
      const r = await rewriteInstance(row.absPath, out, [{ tag: Tags.PatientName.tag, value: name }]);
      if (!r.ok) throw new Error(r.error.message);
      expect(r.value.changes).toEqual([
        expect.objectContaining({ tag: Tags.PatientName.tag, keyword: 'PatientName', vr: 'PN', after: name }),
      ]);
      const v = (await topValue(out, Tags.PatientName.tag))!;
      expect(v.charset).toBe(charset);
      const enc = expectedBytes(name);
      expect(v.bytes.equals(enc.length % 2 ? Buffer.concat([enc, Buffer.from(' ')]) : enc)).toBe(true);
      expect(decodeText(v.bytes, v.charset, true).text?.replace(/ +$/, '')).toBe(name);
      // dcmjs reads top-level text with the declared set (its sequence-item bug does not apply here).
      expect(dcmjsName(out)).toBe(name);
    });
  }

  it('refuses a non-ASCII value in a file without (0008,0005) (default repertoire): not-encodable, nothing written', async () => {
    const row = await fileWithCharset('');
    const out = join(dir, 'ascii-only.dcm');
    const r = await rewriteInstance(row.absPath, out, [{ tag: Tags.PatientName.tag, value: 'Müller^Jörg' }]);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.error).toMatchObject({ kind: 'not-encodable', tag: Tags.PatientName.tag });
    expect(r.error.message).toContain('PatientName');
    expect(r.error.message).not.toContain('Müller');
    expect(existsSync(out)).toBe(false);
    // The same value in ASCII goes through.
    const ascii = await rewriteInstance(row.absPath, out, [
      { tag: Tags.PatientName.tag, value: 'Mueller^Joerg' },
    ]);
    expect(ascii.ok).toBe(true);
  });

  it('refuses characters the declared single-byte set lacks (Greek in Latin-1), never substituting', async () => {
    const row = await fileWithCharset('ISO_IR 100');
    const out = join(dir, 'greek.dcm');
    const r = await rewriteInstance(row.absPath, out, [{ tag: Tags.PatientName.tag, value: 'Αθηνά^Μαρία' }]);
    expect(r.ok ? undefined : r.error.kind).toBe('not-encodable');
    expect(existsSync(out)).toBe(false);
  });

  it('encodeValue: default-repertoire VRs take ASCII only; ISO 2022 G1 extensions written with escapes, G0 ones (JIS X 0208) and GB18030 refused', () => {
    expect(encodeValue('ÄB', 'CS', 'ISO_IR 100')).toMatchObject({ ok: false, problem: 'not-representable' });
    const ko = encodeValue('김^철수', 'PN', '\\ISO 2022 IR 149');
    // ESC $ ) C before each run of KS X 1001 in the 8-bit (EUC) form, again after the ^ delimiter.
    expect(ko.ok && ko.bytes.toString('hex')).toBe('1b242943b1e85e1b242943c3b6bcf6');
    expect(encodeValue('山田', 'PN', 'ISO 2022 IR 13\\ISO 2022 IR 87')).toMatchObject({
      ok: false,
      problem: 'unsupported-charset',
    });
    expect(encodeValue('中文', 'LO', 'GB18030')).toMatchObject({ ok: false, problem: 'unsupported-charset' });
    expect(encodeValue('ASCII^ONLY', 'PN', 'GB18030')).toMatchObject({ ok: true });
    const jp = encodeValue('ｼﾞｮﾝ', 'PN', 'ISO_IR 13');
    expect(jp.ok && [...jp.bytes]).toEqual([0xbc, 0xde, 0xae, 0xdd]);
  });
});

describe.skipIf(!hasCorpus())('rewriteInstance: refusals', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pacshift-rewrite-refuse-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const refusals: [what: string, edit: ElementEdit, kind: string][] = [
    ['a DA value with dashes', { tag: Tags.PatientBirthDate.tag, value: '2020-01-01' }, 'value-invalid'],
    [
      'a PN component group over 64 characters',
      { tag: Tags.PatientName.tag, value: 'A'.repeat(65) },
      'value-invalid',
    ],
    ['an SH over 16 characters', { tag: Tags.AccessionNumber.tag, value: 'A'.repeat(17) }, 'value-invalid'],
    ['a CS with lower case', { tag: Tags.PatientSex.tag, value: 'f' }, 'value-invalid'],
    ['a control character in an LO', { tag: Tags.InstitutionName.tag, value: 'A\u0001B' }, 'value-invalid'],
    ['a UID element', { tag: Tags.StudyInstanceUID.tag, value: '1.2.3' }, 'uid-element'],
    ['a File Meta element', { tag: Tags.TransferSyntaxUID.tag, value: '1.2.840.10008.1.2' }, 'not-top-level'],
    ['a File Meta text element', { tag: Tags.SourceApplicationEntityTitle.tag, value: 'X' }, 'not-top-level'],
    ['a binary number (Rows, US)', { tag: Tags.Rows.tag, value: '512' }, 'vr-not-text'],
    ['a sequence', { tag: Tags.ReferencedImageSequence.tag, value: 'x' }, 'vr-not-text'],
    ['Specific Character Set', { tag: Tags.SpecificCharacterSet.tag, value: 'ISO_IR 192' }, 'value-invalid'],
  ];

  for (const [what, edit, kind] of refusals) {
    it(`refuses ${what}: ${kind}, nothing written`, async () => {
      const row = await fileWithCharset('ISO_IR 100');
      const out = join(dir, `refused-${edit.tag.toString(16)}.dcm`);
      const r = await rewriteInstance(row.absPath, out, [{ tag: Tags.PatientID.tag, value: 'OK-ID' }, edit]);
      expect(r.ok).toBe(false);
      if (r.ok) return;
      expect(r.error.kind).toBe(kind);
      expect(r.error.tag).toBe(edit.tag);
      if (edit.value && edit.value.length > 2) expect(r.error.message).not.toContain(edit.value);
      expect(existsSync(out)).toBe(false);
      expect((await import('node:fs')).readdirSync(dir).filter((f) => f.includes('rewrite-tmp'))).toEqual([]);
    });
  }

  it('not-part10 and unreadable files: typed errors, nothing written', async () => {
    const noMeta = manifest().find((r) => r.transferSyntax.startsWith('(no file meta'))!;
    const out = join(dir, 'x.dcm');
    const a = await rewriteInstance(noMeta.absPath, out, [{ tag: Tags.PatientID.tag, value: 'X' }]);
    expect(a.ok ? undefined : a.error.kind).toBe('not-part10');
    const missing = await rewriteInstance(join(dir, 'does-not-exist.dcm'), out, [
      { tag: Tags.PatientID.tag, value: 'X' },
    ]);
    expect(missing.ok ? undefined : missing.error.kind).toBe('io');
    expect(existsSync(out)).toBe(false);
    // A folder that does not exist: the temp file cannot be made; an io error, nothing left behind.
    const row = await fileWithCharset('ISO_IR 100');
    const nowhere = join(dir, 'no-such-folder', 'x.dcm');
    const io = await rewriteInstance(row.absPath, nowhere, [{ tag: Tags.PatientID.tag, value: 'X' }]);
    expect(io.ok ? undefined : io.error.kind).toBe('io');
    expect(existsSync(nowhere)).toBe(false);
    // Item and command groups are not data set elements.
    const item = await rewriteInstance(row.absPath, out, [{ tag: 0xfffee000, value: 'X' }]);
    expect(item.ok ? undefined : item.error.kind).toBe('not-top-level');
  });
});

describe.skipIf(!hasCorpus())('rewriteInstance: edits that change nothing', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pacshift-rewrite-noop-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('same value (padding included), emptying an absent element, no edits: identical copy, no changes', async () => {
    const row = await fileWithCharset('ISO_IR 100');
    const current = (await topValue(row.absPath, Tags.PatientID.tag))!;
    const id = current.bytes.toString('latin1').replace(/ +$/, '');
    // OtherPatientIDs, Occupation, PatientComments: the first this file lacks.
    let absent: number | undefined;
    for (const t of [0x00101000, 0x00102180, 0x00104000])
      if (absent === undefined && (await topValue(row.absPath, t)) === undefined) absent = t;
    expect(absent).toBeDefined();
    for (const edits of [
      [{ tag: Tags.PatientID.tag, value: id }],
      [{ tag: absent!, value: null }],
      [],
    ] as ElementEdit[][]) {
      const out = join(dir, 'same.dcm');
      const r = await rewriteInstance(row.absPath, out, edits);
      if (!r.ok) throw new Error(r.error.message);
      expect(r.value.changes).toEqual([]);
      expect(sha(out)).toBe(sha(row.absPath));
      rmSync(out);
    }
  });

  it('rewrites in place (outPath = inPath) through the temp file', async () => {
    const row = await fileWithCharset('ISO_IR 100');
    const copy = join(dir, 'inplace.dcm');
    (await import('node:fs')).copyFileSync(row.absPath, copy);
    const r = await rewriteInstance(copy, copy, [{ tag: Tags.PatientID.tag, value: 'IN-PLACE-1' }]);
    if (!r.ok) throw new Error(r.error.message);
    expect((await topValue(copy, Tags.PatientID.tag))!.bytes.toString('latin1')).toBe('IN-PLACE-1');
    expect(r.value.changes[0]).toMatchObject({ before: row.patientId, after: 'IN-PLACE-1', inserted: false });
  });
});

describe.skipIf(!hasCorpus())('rewriteInstance: encodings real writers made', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pacshift-rewrite-writers-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('writing each non-ASCII PatientName of the corpus back as its decoded text reproduces the bytes, or is refused as not-encodable', async () => {
    const rows: string[][] = [];
    let identical = 0;
    for (const row of manifest()) {
      if (!(await readInstanceInfo(row.absPath)).ok) continue;
      const v = await topValue(row.absPath, Tags.PatientName.tag);
      if (!v || v.bytes.every((b) => b < 0x80 && b !== 0x1b)) continue;
      const decoded = decodeText(v.bytes, v.charset, true);
      if (decoded.text === undefined) {
        rows.push([row.path, v.charset ?? '', `undecodable (${decoded.problem})`]);
        continue;
      }
      const out = join(dir, 'same.dcm');
      const r = await rewriteInstance(row.absPath, out, [
        { tag: Tags.PatientName.tag, value: decoded.text.replace(/ +$/, '') },
      ]);
      if (r.ok) {
        // The same text encodes to the bytes the original writer chose: nothing changes.
        expect(r.value.changes, row.path).toEqual([]);
        expect(sha(out)).toBe(sha(row.absPath));
        identical++;
        rows.push([row.path, v.charset ?? '', 'identical']);
        rmSync(out);
      } else {
        // Only sets pacshift does not write outside ASCII: GB18030/GBK, JIS X 0208/0212 (G0 code extensions).
        expect(r.error.kind).toBe('not-encodable');
        expect(v.charset).toMatch(/GB18030|GBK|IR 87|IR 159/);
        rows.push([row.path, v.charset ?? '', `refused: ${r.error.message.replace(/^.*: /, '')}`]);
      }
    }
    console.log(`non-ASCII PatientName written back:\n${rows.map((r) => `  ${r.join(' | ')}`).join('\n')}`);
    // Single-byte sets, UTF-8, and the ISO 2022 G1 extensions (Korean, GB 2312) are among those reproduced.
    const reproduced = (charset: string) => rows.some((r) => r[1] === charset && r[2] === 'identical');
    for (const cs of [
      'ISO_IR 100',
      'ISO_IR 192',
      'ISO_IR 144',
      'ISO_IR 126',
      '\\ISO 2022 IR 149',
      '\\ISO 2022 IR 58',
    ])
      expect(reproduced(cs), cs).toBe(true);
    expect(identical).toBeGreaterThan(0);
  });
});
