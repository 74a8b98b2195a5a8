/**
 * The spool's quarantine never loses an object (issue 7, item 13), and the spool never drops an
 * arrival it cannot read (item 2), on real corpus files.
 *
 * The corpus holds three files whose SOP Instance UID (0008,0018) is encoded with VR UN (dcmdump
 * prints `UN 31\2e…`: the first byte of the UID, "1", is 0x31): a source that renders such a value
 * as the C-STORE's Affected SOP Instance UID names all three "31", so each arrives as
 * `incoming/31.dcm`. Refused by the target one after the other, all three were moved to the same
 * `quarantine/31.dcm`, each overwriting the one before.
 */
import { copyFileSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Spool } from '../../../src/transfer/spool.js';
import { hasCorpus } from '../../../src/util/corpus.js';
import { corpusRow } from '../../harness/corpus.js';
import { makeTempDir, removeTempDir } from '../../harness/tmp.js';

/** Files whose SOP Instance UID is encoded as UN (found with dcmdump over MANIFEST.tsv's paths). */
const UN_SOP_INSTANCE_UID = [
  'orthanc-tests/2021-02-19-MalaterreCP246.dcm',
  'orthanc-tests/2022-03-08-RicSmi.dcm',
  'pydicom/pydicom-data/explicit_VR-UN.dcm',
];
/** Files no reader can identify (README: truncation, no File Meta, a meta without transfer syntax). */
const UNREADABLE = [
  'dcm4che/3gb-bulk-data-truncated',
  'pydicom/debian_test_files/no_meta.dcm',
  'pydicom/debian_test_files/meta_missing_tsyntax.dcm',
];

const MiB = 1024 * 1024;

describe.skipIf(!hasCorpus())('spool quarantine and unreadable arrivals (corpus files)', () => {
  let dir: string;
  let spool: Spool;

  beforeEach(async () => {
    dir = makeTempDir('spool-quarantine');
    spool = new Spool(join(dir, 'spool'), 64 * MiB);
    await spool.open();
  });

  afterEach(() => removeTempDir(dir));

  const quarantined = () => readdirSync(spool.quarantine).sort();
  const bytesOf = (rel: string) => readFileSync(corpusRow(rel).absPath);

  it('three refused objects that all arrived as incoming/31.dcm are three files in the quarantine, each byte for byte', async () => {
    const kept: string[] = [];
    for (const rel of UN_SOP_INSTANCE_UID) {
      const arrived = join(spool.incoming, '31.dcm');
      copyFileSync(corpusRow(rel).absPath, arrived);
      const s = await spool.add(arrived);
      expect(s).toBeDefined();
      kept.push(await spool.toQuarantine(s!));
    }
    expect(new Set(kept).size).toBe(3);
    expect(quarantined()).toHaveLength(3);
    for (const [i, rel] of UN_SOP_INSTANCE_UID.entries())
      expect(readFileSync(kept[i]!).equals(bytesOf(rel))).toBe(true);
    expect(readdirSync(spool.incoming)).toEqual([]);
  });

  it('the same object quarantined twice is one file; another object under that name is never overwritten', async () => {
    const rel = UN_SOP_INSTANCE_UID[0]!;
    const first: string[] = [];
    for (let i = 0; i < 2; i++) {
      const arrived = join(spool.incoming, `copy${i}.dcm`);
      copyFileSync(corpusRow(rel).absPath, arrived);
      first.push(await spool.toQuarantine((await spool.add(arrived))!));
    }
    expect(first[0]).toBe(first[1]);
    expect(quarantined()).toHaveLength(1);
    // A file already sitting under the name a new object would take stays as it is.
    const other = Buffer.from(bytesOf(rel));
    other[other.length - 1]! ^= 0xff;
    const arrived = join(spool.incoming, 'other.dcm');
    writeFileSync(arrived, other);
    const moved = await spool.toQuarantine((await spool.add(arrived))!);
    expect(quarantined()).toHaveLength(2);
    expect(readFileSync(first[0]!).equals(bytesOf(rel))).toBe(true);
    expect(readFileSync(moved).equals(other)).toBe(true);
  });

  it('an arrival that cannot be read is moved to the quarantine and noted with the UID its sender named', async () => {
    for (const [i, rel] of UNREADABLE.entries()) {
      const arrived = join(spool.incoming, `${i}.dcm`);
      copyFileSync(corpusRow(rel).absPath, arrived);
      const r = await spool.addArrival(arrived, `1.2.3.${i}`);
      expect(r.ok).toBe(false);
    }
    expect(readdirSync(spool.incoming)).toEqual([]);
    const problems = spool.takeProblems();
    expect(problems.map((p) => p.sopInstanceUid)).toEqual(['1.2.3.0', '1.2.3.1', '1.2.3.2']);
    for (const [i, p] of problems.entries()) {
      expect(p.cause).toMatch(/^(truncated|no-meta|not-dicom|malformed|unknown-transfer-syntax): /);
      expect(readFileSync(p.quarantinePath!).equals(bytesOf(UNREADABLE[i]!))).toBe(true);
    }
    expect(spool.takeProblems()).toEqual([]);
  });

  it('unreadable files found in incoming/ at start (a run before this fix, a crash) are quarantined and noted, not left there', async () => {
    for (const [i, rel] of UNREADABLE.entries())
      copyFileSync(corpusRow(rel).absPath, join(spool.incoming, `${i}.dcm`));
    copyFileSync(corpusRow(UN_SOP_INSTANCE_UID[0]!).absPath, join(spool.incoming, 'good.dcm'));
    const reopened = new Spool(join(dir, 'spool'), 64 * MiB);
    const r = await reopened.open();
    expect(r.recovered).toBe(1);
    expect(r.unreadable).toHaveLength(3);
    expect(readdirSync(reopened.incoming)).toEqual(['good.dcm']);
    expect(readdirSync(reopened.quarantine)).toHaveLength(3);
    expect(reopened.takeProblems().map((p) => p.sopInstanceUid)).toEqual([undefined, undefined, undefined]);
  });
});
