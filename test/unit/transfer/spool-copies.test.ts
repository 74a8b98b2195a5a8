/**
 * Two different objects under one SOP Instance UID in the spool (a source sending another object under
 * the UID, a stray sender): the copy the engine sends is the one the state recorded as received, so the
 * target gets what the record, and verification, describe. Before, the engine sent whichever copy the
 * spool listed first: in the forged-copy test the target received the forged copy while the record held
 * the real one's header. Real corpus file; the second copy made by DCMTK's dcmodify.
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Spool } from '../../../src/transfer/spool.js';
import { hasCorpus } from '../../../src/util/corpus.js';
import { wellFormedUncompressed } from '../../harness/corpus.js';
import { peers } from '../../harness/process.js';
import { makeTempDir, removeTempDir } from '../../harness/tmp.js';

describe.skipIf(!hasCorpus() || !peers.dcmtk)('the spooled copy to send for an instance', () => {
  let dir: string;
  let spool: Spool;

  beforeEach(async () => {
    dir = makeTempDir('spool-copies');
    spool = new Spool(join(dir, 'spool'), 64 * 1024 * 1024);
    await spool.open();
  });
  afterEach(() => removeTempDir(dir));

  it('is the file the state recorded, not the first listed; without a record, the first', async () => {
    const row = wellFormedUncompressed().find((r) => r.size < 2_000_000 && r.patientId !== '')!;
    const real = join(spool.incoming, 'real.dcm');
    const other = join(spool.incoming, 'other.dcm');
    copyFileSync(row.absPath, other);
    execFileSync('dcmodify', ['-nb', '-m', 'PatientID=FORGED', other]);
    copyFileSync(row.absPath, real);
    // The other object arrived first; the record names the real one (recorded received, the other a conflict).
    const a = await spool.add(other);
    const b = await spool.add(real);
    expect(a?.sopInstanceUid).toBe(b?.sopInstanceUid);
    const uid = a!.sopInstanceUid;
    expect(spool.get(uid).map((c) => c.path)).toEqual([other, real]);
    expect(readFileSync(other).equals(readFileSync(real))).toBe(false);

    expect(spool.recordedCopy(uid, real)?.path).toBe(real);
    expect(spool.recordedCopy(uid, other)?.path).toBe(other);
    expect(spool.recordedCopy(uid, null)?.path).toBe(other);
    expect(spool.recordedCopy('1.2.3.4.does.not.exist', real)).toBeUndefined();
  });
});
