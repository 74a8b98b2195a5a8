/**
 * Why a target would refuse or alter an object, as a table: each cause, what it means, what a strict
 * (validating) archive and a lenient (DCMTK-based: Orthanc 1.10, dcmqrscp) archive do with it, and
 * the remedy a plan rule can apply. Causes found by negotiating with the target itself (`probe`) are
 * certain whatever the profile; the others are predictions from the object's content.
 *
 * The lenient column was measured against Orthanc 1.10.1 with the shared corpus
 * (test/interop/preflight-orthanc.test.ts): Orthanc parses with DCMTK and indexes the UIDs, and
 * stores anything else it can parse, invalid values included.
 */

/** What a target does with an object showing a cause. */
export type Verdict = 'refuse' | 'alter' | 'accept';
/** What a rule can do about it before the bulk move. */
export type Remedy = 'fix' | 'transcode' | 'accept' | 'leftover';
export type Profile = 'strict' | 'lenient';
export const PROFILES: readonly Profile[] = ['strict', 'lenient'];

export interface CauseInfo {
  readonly what: string;
  /** From negotiating with the target (certain), from the source's answer, or from the object's content (predicted). */
  readonly basis: 'probe' | 'source' | 'content';
  readonly strict: Verdict;
  readonly lenient: Verdict;
  readonly remedy: Remedy;
  /** Why the lenient verdict is what it is (the false-alarm explanation, when strict and lenient differ). */
  readonly why: string;
}

const c = (
  what: string,
  basis: CauseInfo['basis'],
  strict: Verdict,
  lenient: Verdict,
  remedy: Remedy,
  why: string,
): CauseInfo => ({ what, basis, strict, lenient, remedy, why });

export const CAUSES = {
  'transfer-syntax-refused': c(
    'the target accepted no presentation context for this SOP class in this transfer syntax',
    'probe',
    'refuse',
    'refuse',
    'transcode',
    'negotiated with the target: the object cannot be sent as it is',
  ),
  'sop-class-refused': c(
    'the target accepted this SOP class in no transfer syntax',
    'probe',
    'refuse',
    'refuse',
    'leftover',
    'negotiated with the target: it does not store this kind of object',
  ),
  'not-retrievable': c(
    'the source did not deliver the object to pacshift when asked for it (its C-MOVE/C-GET status, or our receiver refusing it: a UID a File Meta cannot hold)',
    'source',
    'refuse',
    'refuse',
    'leftover',
    'what cannot be retrieved cannot be migrated by retrieve, whatever the target',
  ),
  unreadable: c(
    'the object cannot be read as a DICOM Part 10 file (no File Meta, truncated, broken structure, lying transfer syntax…): it cannot be sent as it is',
    'content',
    'refuse',
    'refuse',
    'fix',
    'nothing can send it: it never reaches any target',
  ),
  'missing-identifier': c(
    'Study, Series or SOP Instance UID or SOP Class UID is absent or empty',
    'content',
    'refuse',
    'refuse',
    'fix',
    'every archive indexes objects by these UIDs (Orthanc answers A700)',
  ),
  'identifier-as-un': c(
    'an identifying UID is written with VR UN (explicit VR): a dictionary-driven parser does not read it as a UID',
    'content',
    'refuse',
    'refuse',
    'fix',
    'DCMTK keeps explicit UN as bytes: Orthanc finds no UIDs and answers C000',
  ),
  'command-uid-too-long': c(
    'the SOP Class or SOP Instance UID (which goes into the C-STORE command) is longer than 64 characters',
    'content',
    'refuse',
    'refuse',
    'fix',
    'DCMTK cannot parse the command and aborts the association',
  ),
  unterminated: c(
    'an undefined-length sequence or the encapsulated pixel data is not closed when the data set ends',
    'content',
    'refuse',
    'refuse',
    'fix',
    'a streaming parser waits for the delimiter that never comes: the store gets no answer',
  ),
  'unparsable-sequence': c(
    'an attribute the dictionary defines as a sequence holds no items (implicit VR), or delimiters stand where none is open',
    'content',
    'refuse',
    'refuse',
    'fix',
    'a dictionary-driven parser (DCMTK) fails on it: the store gets no answer',
  ),
  'broken-private-data': c(
    'a private element or sequence breaks the structure of the data set',
    'content',
    'refuse',
    'refuse',
    'fix',
    'the data set cannot be parsed past it',
  ),
  'sop-class-unknown': c(
    'the SOP class is not a standard storage SOP class (private, retired or invented)',
    'content',
    'refuse',
    'accept',
    'leftover',
    'a lenient target that negotiated the class stores it as it is',
  ),
  'value-too-long': c(
    'a value is longer than its VR allows (e.g. CS > 16, LO > 64 characters)',
    'content',
    'refuse',
    'accept',
    'fix',
    'lenient targets store over-long values as they are',
  ),
  'value-bad-character': c(
    'a value holds characters its VR forbids (lower case in CS, letters in DA, control characters in LO…)',
    'content',
    'refuse',
    'accept',
    'fix',
    'lenient targets store such values as they are',
  ),
  'value-bad-format': c(
    'a value does not have the form its VR requires (DA not YYYYMMDD, DS not a number, UI not a UID…)',
    'content',
    'refuse',
    'accept',
    'fix',
    'lenient targets store such values as they are',
  ),
  'missing-type1': c(
    'a Type 1 attribute of a module every such object needs (study, series, SOP common, image pixel) is absent or empty',
    'content',
    'refuse',
    'accept',
    'fix',
    'lenient targets index only the UIDs',
  ),
  'missing-type2': c(
    'a Type 2 attribute (patient, study, series) is absent (it may be empty, but must be there)',
    'content',
    'alter',
    'accept',
    'accept',
    'strict targets add it empty (a coercion); lenient ones store the object as it is',
  ),
  'pixel-data-short': c(
    'Pixel Data holds fewer bytes than Rows × Columns × Frames × Samples × Bits Allocated need (or fewer fragments than frames)',
    'content',
    'refuse',
    'accept',
    'leftover',
    'lenient targets do not check pixel data against the image pixel module',
  ),
  'pixel-data-long': c(
    'Pixel Data holds more bytes than the image pixel module describes',
    'content',
    'alter',
    'accept',
    'accept',
    'lenient targets store the extra bytes as they are',
  ),
  'private-sequence-undefined-length': c(
    'a private sequence of undefined length',
    'content',
    'alter',
    'accept',
    'accept',
    'DCMTK parses it (it knows the delimiters) and stores it; strict targets may drop unknown private data',
  ),
  'private-sequence-as-un': c(
    'a sequence written with VR UN (undefined length, implicit VR inside)',
    'content',
    'refuse',
    'accept',
    'accept',
    'DCMTK reads UN of undefined length as a sequence (PS3.5 6.2.2) and stores it',
  ),
  'private-without-creator': c(
    'a private element whose block has no Private Creator',
    'content',
    'alter',
    'accept',
    'accept',
    'lenient targets keep orphan private elements; strict ones drop them',
  ),
  'standard-as-un': c(
    'standard attributes (other than the UIDs) written with VR UN in explicit VR',
    'content',
    'alter',
    'accept',
    'accept',
    'stored as UN bytes: the values survive, but the target neither indexes nor validates them',
  ),
  'charset-problem': c(
    'the Specific Character Set is unknown or misspelt, or a text value is not valid in it (or non-ASCII without one)',
    'content',
    'refuse',
    'accept',
    'fix',
    'Orthanc falls back to ASCII in its index (searches and displays degrade) but stores the bytes unchanged',
  ),
  'meta-in-data-set': c(
    'File Meta elements (group 0002) inside the data set',
    'content',
    'alter',
    'alter',
    'accept',
    'DCMTK drops group 0002 from a received data set (measured on Orthanc 1.10.1)',
  ),
  'duplicate-uid': c(
    'another object checked carries the same SOP Instance UID with different content',
    'content',
    'alter',
    'alter',
    'fix',
    'the target keeps the copy that arrives first and answers Success to the other (Orthanc OverwriteInstances: false, dcm4chee)',
  ),
} as const satisfies Record<string, CauseInfo>;

export type CauseId = keyof typeof CAUSES;
export const CAUSE_IDS = Object.keys(CAUSES) as CauseId[];

export const verdictOf = (cause: CauseId, profile: Profile): Verdict => CAUSES[cause][profile];

const RANK: Record<Verdict, number> = { accept: 0, alter: 1, refuse: 2 };

/** The strongest verdict among causes (refuse > alter > accept). */
export function worstVerdict(causes: Iterable<CauseId>, profile: Profile): Verdict {
  let v: Verdict = 'accept';
  for (const c2 of causes) if (RANK[verdictOf(c2, profile)] > RANK[v]) v = verdictOf(c2, profile);
  return v;
}
