import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FolderStoreTarget } from '../../../src/net/services/store-target.js';

// FolderStoreTarget on a real folder: names of received instances, and what a file holds.

const req = (uid: string) => ({
  sopClassUid: '1.2.840.10008.5.1.4.1.1.7',
  sopInstanceUid: uid,
  transferSyntaxUid: '1.2.840.10008.1.2.1',
  callingAeTitle: 'SENDER',
});

describe('FolderStoreTarget names', () => {
  let dir: string;
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('keeps both of two copies of one UID received at the same time, each with its own bytes', async () => {
    dir = mkdtempSync(join(tmpdir(), 'store-target-'));
    const t = new FolderStoreTarget(dir, 'keep-both');
    const a = t.open(req('1.2.3.4'));
    const b = t.open(req('1.2.3.4'));
    await a.write(Buffer.alloc(3000, 0xaa));
    await b.write(Buffer.alloc(5000, 0xbb));
    const [ra, rb] = await Promise.all([a.end(), b.end()]);
    expect(ra.ok && rb.ok).toBe(true);
    if (!ra.ok || !rb.ok) return;
    expect(new Set([ra.instance.path, rb.instance.path])).toEqual(
      new Set([join(dir, '1.2.3.4.dcm'), join(dir, '1.2.3.4.2.dcm')]),
    );
    expect(readFileSync(ra.instance.path).subarray(-3000)).toEqual(Buffer.alloc(3000, 0xaa));
    expect(readFileSync(rb.instance.path).subarray(-5000)).toEqual(Buffer.alloc(5000, 0xbb));
    expect(readdirSync(dir).sort()).toEqual(['1.2.3.4.2.dcm', '1.2.3.4.dcm']);
  });

  it('gives a later copy the next free name, and leaves no temporary file behind an aborted one', async () => {
    dir = mkdtempSync(join(tmpdir(), 'store-target-'));
    const t = new FolderStoreTarget(dir, 'keep-both');
    const first = t.open(req('1.2.3.5'));
    await first.write(Buffer.alloc(10, 1));
    expect((await first.end()).ok).toBe(true);
    const aborted = t.open(req('1.2.3.5'));
    await aborted.write(Buffer.alloc(10, 2));
    aborted.abort();
    const second = t.open(req('1.2.3.5'));
    await second.write(Buffer.alloc(10, 3));
    const r = await second.end();
    expect(r.ok && r.instance.path).toBe(join(dir, '1.2.3.5.2.dcm'));
    await new Promise((res) => setTimeout(res, 50)); // the aborted sink cleans up asynchronously
    expect(readdirSync(dir).sort()).toEqual(['1.2.3.5.2.dcm', '1.2.3.5.dcm']);
  });
});
