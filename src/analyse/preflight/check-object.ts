/**
 * One object against what targets refuse or alter: structure (can it be sent, can a target parse
 * it), identifiers, the presentation contexts the target accepted (probe), values against their VR,
 * the modules every object needs, pixel data against the image pixel module, private data, character
 * set. The result names every cause found, with examples (tags, never values).
 */
import { stat } from 'node:fs/promises';
import { parseCharsetTerms, CHARSET_TERMS } from '../../dicom/charset.js';
import type { DicomIssue } from '../../dicom/errors.js';
import { keywordOf } from '../../dicom/keyword.js';
import { readInstanceInfo } from '../../dicom/part10.js';
import { isStorageSopClass, lookupSopClass } from '../../dicom/sop-class.js';
import {
  formatTag,
  isPrivateCreator,
  isPrivateTag,
  Tags,
  groupOf,
  elementOf,
  type Tag,
} from '../../dicom/tag.js';
import { checkValue } from '../../dicom/vr.js';
import { worstVerdict, type CauseId, type Profile, type Verdict } from './causes.js';
import { checkValues } from './check-values.js';
import { IDENTIFIER_TAGS, REQUIRED_MODULES } from './modules.js';
import { checkPixelData } from './pixels.js';
import type { Capabilities } from './probe.js';
import { readObject, type ObjectElement, type ObjectRead } from './read-object.js';

/** Examples kept per cause and object (the count is always complete). */
const MAX_EXAMPLES = 5;

export interface Finding {
  readonly cause: CauseId;
  /** Occurrences in the object. */
  readonly count: number;
  /** Where (element paths with keywords) and what (problem words): never values. */
  readonly examples: readonly string[];
}

/** Header values the longitudinal sample and the report use (no patient data). */
export interface ObjectFacts {
  readonly modality: string | null;
  readonly manufacturer: string | null;
  readonly model: string | null;
  readonly softwareVersions: string | null;
  readonly studyDate: string | null;
  readonly charset: string | null;
}

export interface ObjectCheck {
  readonly path: string;
  readonly sizeBytes: number;
  readonly sopInstanceUid: string | undefined;
  readonly sopClassUid: string | undefined;
  readonly studyUid: string | undefined;
  readonly seriesUid: string | undefined;
  readonly transferSyntaxUid: string | undefined;
  /** Undefined when the file could not be read. */
  readonly facts: ObjectFacts | undefined;
  readonly findings: readonly Finding[];
  /** The worst verdict of the findings under the profile. */
  readonly verdict: Verdict;
}

class FindingSet {
  private readonly m = new Map<CauseId, { count: number; examples: string[] }>();
  add(cause: CauseId, example?: string): void {
    let f = this.m.get(cause);
    if (!f) this.m.set(cause, (f = { count: 0, examples: [] }));
    f.count++;
    if (example !== undefined && f.examples.length < MAX_EXAMPLES && !f.examples.includes(example))
      f.examples.push(example);
  }
  has(cause: CauseId): boolean {
    return this.m.has(cause);
  }
  list(): Finding[] {
    return [...this.m].map(([cause, f]) => ({ cause, count: f.count, examples: f.examples }));
  }
}

const where = (e: ObjectElement): string => `${e.key} ${keywordOf(e.tag)}`;
const textAt = (o: ObjectRead, t: Tag): string | null => {
  const v = o.top.get(t)?.text?.trim();
  return v ? v : null;
};

export interface CheckOptions {
  readonly profile: Profile;
  /** What the target accepted (probe); without it, no probe causes are found. */
  readonly capabilities?: Capabilities;
}

/** Checks one file. Never throws for bad content: an unreadable file is a finding. */
export async function checkObject(path: string, opts: CheckOptions): Promise<ObjectCheck> {
  const f = new FindingSet();
  const sizeBytes = await stat(path).then(
    (s) => s.size,
    () => 0,
  );
  // What the transfer itself reads to send it (store-scu, spool): if this fails, nothing can send it.
  const info = await readInstanceInfo(path);
  const base = { path, sizeBytes };
  if (!info.ok) {
    f.add('unreadable', info.error.code);
    const d = info.error.detail ?? {};
    return {
      ...base,
      sopInstanceUid: typeof d.sopInstanceUid === 'string' ? d.sopInstanceUid : undefined,
      sopClassUid: undefined,
      studyUid: typeof d.studyInstanceUid === 'string' ? d.studyInstanceUid : undefined,
      seriesUid: undefined,
      transferSyntaxUid: undefined,
      facts: undefined,
      findings: f.list(),
      verdict: worstVerdict(['unreadable'], opts.profile),
    };
  }
  const i = info.value;
  const read = await readObject(path);
  const ident = {
    sopInstanceUid: i.sopInstanceUid,
    sopClassUid: i.sopClassUid,
    studyUid: i.studyInstanceUid,
    seriesUid: i.seriesInstanceUid,
    transferSyntaxUid: i.transferSyntaxUid,
  };
  if (!read.ok) {
    f.add('unreadable', read.error.code);
    return {
      ...base,
      ...ident,
      facts: undefined,
      findings: f.list(),
      verdict: worstVerdict(['unreadable'], opts.profile),
    };
  }
  const o = read.value;

  structure(f, o, [...i.issues, ...o.issues]);
  identifiers(f, o, i.sopClassUid, i.sopInstanceUid);
  if (!isStorageSopClass(i.sopClassUid)) f.add('sop-class-unknown', i.sopClassUid);
  values(f, o);
  modules(f, o, i.sopClassUid);
  const px = checkPixelData(o);
  if (px)
    f.add(
      px.problem === 'short' ? 'pixel-data-short' : 'pixel-data-long',
      `${px.found} ${px.unit}, ${px.expected} expected`,
    );
  privateData(f, o);
  charset(f, o);

  const findings = f.list();
  const check: ObjectCheck = {
    ...base,
    ...ident,
    facts: {
      modality: textAt(o, Tags.Modality.tag),
      manufacturer: textAt(o, Tags.Manufacturer.tag),
      model: textAt(o, Tags.ManufacturerModelName.tag),
      softwareVersions: textAt(o, Tags.SoftwareVersions.tag),
      studyDate: textAt(o, Tags.StudyDate.tag),
      charset: o.charset?.trim() || null,
    },
    findings,
    verdict: worstVerdict(
      findings.map((x) => x.cause),
      opts.profile,
    ),
  };
  return opts.capabilities ? withProbe(check, opts.capabilities, opts.profile) : check;
}

function structure(f: FindingSet, o: ObjectRead, issues: readonly DicomIssue[]): void {
  const seen = new Set<string>();
  for (const is of issues) {
    const k = `${is.code}@${is.offset ?? ''}`;
    if (seen.has(k)) continue;
    seen.add(k);
    if (is.code === 'unterminated-at-eof') f.add('unterminated', is.message);
    else if (is.code === 'not-a-sequence' || is.code === 'stray-delimiter')
      f.add('unparsable-sequence', is.message);
    else if (is.code === 'meta-in-data-set') f.add('meta-in-data-set', is.message);
  }
  for (const e of o.elements)
    if (e.path.length === 0 && groupOf(e.tag) === 0x0002) f.add('meta-in-data-set', where(e));
  if (o.error) {
    // The transfer can send it (its top level is sound), but a target parsing every sequence cannot.
    const blame = o.errorPath.find((t) => isPrivateTag(t));
    if (blame !== undefined) f.add('broken-private-data', `${formatTag(blame)} ${o.error.code}`);
    else f.add('unparsable-sequence', `${o.errorPath.map(formatTag).join('.')} ${o.error.code}`);
  }
}

function identifiers(f: FindingSet, o: ObjectRead, sopClassUid: string, sopInstanceUid: string): void {
  for (const t of IDENTIFIER_TAGS) {
    const e = o.top.get(t);
    if (!e || !e.text?.trim()) f.add('missing-identifier', `${formatTag(t)} ${keywordOf(t)}`);
    else if (o.explicitVr && e.vr === 'UN') f.add('identifier-as-un', where(e));
  }
  // The C-STORE command carries them: a DIMSE parser holds a UID in 64 bytes (PS3.5 9.1) and cannot
  // parse a longer one (DCMTK aborts the association); other UID defects are value findings.
  for (const [uid, t] of [
    [sopClassUid, Tags.SOPClassUID.tag],
    [sopInstanceUid, Tags.SOPInstanceUID.tag],
  ] as const) {
    if (checkValue('UI', uid) === 'too-long')
      f.add('command-uid-too-long', `${formatTag(t)} ${keywordOf(t)} ${uid.length} characters`);
  }
}

/** Adds what the target's negotiation says about the object's (SOP class, transfer syntax). */
export function withProbe(c: ObjectCheck, caps: Capabilities, profile: Profile): ObjectCheck {
  if (!c.facts || !c.sopClassUid || !c.transferSyntaxUid) return c;
  const v = caps.verdict(c.sopClassUid, c.transferSyntaxUid);
  if (v !== 'sop-class-refused' && v !== 'transfer-syntax-refused') return c;
  const example =
    v === 'sop-class-refused' ? (lookupSopClass(c.sopClassUid)?.name ?? c.sopClassUid) : c.transferSyntaxUid;
  const findings = [...c.findings, { cause: v, count: 1, examples: [example] }];
  return {
    ...c,
    findings,
    verdict: worstVerdict(
      findings.map((x) => x.cause),
      profile,
    ),
  };
}

function values(f: FindingSet, o: ObjectRead): void {
  for (const v of checkValues(o.elements)) {
    if (IDENTIFIER_TAGS.has(v.element.tag) && v.element.path.length === 0 && v.element.vr === 'UN') continue;
    const cause: CauseId =
      v.problem === 'too-long'
        ? 'value-too-long'
        : v.problem === 'bad-character'
          ? 'value-bad-character'
          : 'value-bad-format';
    f.add(cause, `${where(v.element)} ${v.vr} ${v.problem}`);
  }
}

function modules(f: FindingSet, o: ObjectRead, sopClassUid: string): void {
  const isImage = lookupSopClass(sopClassUid)?.category === 'image' || o.pixelData !== undefined;
  for (const m of REQUIRED_MODULES) {
    if (m.imagesOnly && !isImage) continue;
    for (const a of m.attributes) {
      if (IDENTIFIER_TAGS.has(a.tag)) continue; // missing-identifier
      const e = o.top.get(a.tag);
      const empty =
        !e || (e.content === 'value' && (e.length === 0 || (e.text !== undefined && e.text.trim() === '')));
      if (a.type === 1 && empty) f.add('missing-type1', `${m.name}: ${formatTag(a.tag)} ${a.keyword}`);
      else if (a.type === 2 && !e) f.add('missing-type2', `${m.name}: ${formatTag(a.tag)} ${a.keyword}`);
    }
  }
  if (!isImage) return;
  if (!o.pixelData) f.add('missing-type1', `Image Pixel: ${formatTag(Tags.PixelData.tag)} PixelData`);
  const spp = o.top.get(Tags.SamplesPerPixel.tag)?.numbers?.[0];
  if (spp !== undefined && Number(spp) > 1 && !o.top.has(Tags.PlanarConfiguration.tag)) {
    f.add('missing-type1', `Image Pixel: ${formatTag(Tags.PlanarConfiguration.tag)} PlanarConfiguration`);
  }
}

function privateData(f: FindingSet, o: ObjectRead): void {
  // Private creators present, per item (path) and group: "path|group|block".
  const creators = new Set<string>();
  const itemKey = (e: ObjectElement) => e.path.map((s) => `${s.tag}[${s.item}]`).join('.');
  for (const e of o.elements)
    if (isPrivateCreator(e.tag)) creators.add(`${itemKey(e)}|${groupOf(e.tag)}|${elementOf(e.tag)}`);
  for (const e of o.elements) {
    if (e.content === 'items' && e.vr === 'UN') f.add('private-sequence-as-un', where(e));
    else if (e.private && e.content === 'items' && e.length === undefined)
      f.add('private-sequence-undefined-length', where(e));
    if (e.private && !isPrivateCreator(e.tag) && elementOf(e.tag) >= 0x1000) {
      if (!creators.has(`${itemKey(e)}|${groupOf(e.tag)}|${elementOf(e.tag) >> 8}`))
        f.add('private-without-creator', where(e));
    }
    if (
      o.explicitVr &&
      !e.private &&
      e.vr === 'UN' &&
      e.dictionaryVr &&
      e.dictionaryVr !== 'UN' &&
      !(e.path.length === 0 && IDENTIFIER_TAGS.has(e.tag))
    ) {
      f.add('standard-as-un', where(e));
    }
  }
}

function charset(f: FindingSet, o: ObjectRead): void {
  if (o.charset !== undefined && o.charset.trim() !== '') {
    const { terms, nonstandard } = parseCharsetTerms(o.charset);
    if (nonstandard) f.add('charset-problem', 'nonstandard term in (0008,0005)');
    if (terms.some((t) => !(t in CHARSET_TERMS))) f.add('charset-problem', 'unknown term in (0008,0005)');
  }
  for (const e of o.elements) {
    if (
      e.charsetProblem &&
      e.charsetProblem !== 'nonstandard-term' &&
      e.charsetProblem !== 'unknown-charset'
    ) {
      f.add('charset-problem', `${where(e)} ${e.charsetProblem}`);
    }
  }
}
