import { describe, expect, it } from 'vitest';
import {
  MAX_STORAGE_CONTEXTS,
  storageContextGroups,
  storageContexts,
} from '../../../src/net/services/storage-contexts.js';
import { ALL_TRANSFER_SYNTAXES } from '../../../src/transfer/syntaxes.js';

const MR = '1.2.840.10008.5.1.4.1.1.4';
const CT = '1.2.840.10008.5.1.4.1.1.2';
const ELE = '1.2.840.10008.1.2.1';
const J2K = '1.2.840.10008.1.2.4.90';
const RLE = '1.2.840.10008.1.2.5';

describe('C-GET storage contexts', () => {
  it('one context per (SOP class, known transfer syntax), each with one syntax', () => {
    const c = storageContexts(
      [
        { sopClassUid: MR, transferSyntaxUid: J2K },
        { sopClassUid: MR, transferSyntaxUid: ELE },
        { sopClassUid: MR, transferSyntaxUid: J2K },
        { sopClassUid: CT, transferSyntaxUid: RLE },
        { sopClassUid: null, transferSyntaxUid: RLE },
      ],
      ALL_TRANSFER_SYNTAXES,
    );
    expect(c).toEqual([
      { sopClassUid: MR, transferSyntaxes: [J2K] },
      { sopClassUid: MR, transferSyntaxes: [ELE] },
      { sopClassUid: CT, transferSyntaxes: [RLE] },
    ]);
  });

  it('a class with an instance of unknown syntax: every fallback syntax in a context of its own', () => {
    const c = storageContexts(
      [{ sopClassUid: MR }, { sopClassUid: MR, transferSyntaxUid: J2K }],
      [ELE, RLE, J2K],
    );
    expect(c).toEqual([
      { sopClassUid: MR, transferSyntaxes: [ELE] },
      { sopClassUid: MR, transferSyntaxes: [RLE] },
      { sopClassUid: MR, transferSyntaxes: [J2K] },
    ]);
  });

  it('groups of at most 127 contexts, a class never split across groups', () => {
    const classes = Array.from({ length: 5 }, (_, i) => `1.2.3.${i}`);
    const groups = storageContextGroups(
      classes.map((c) => ({ sopClassUid: c })),
      ALL_TRANSFER_SYNTAXES,
    );
    const per = ALL_TRANSFER_SYNTAXES.length;
    const perGroup = Math.floor(MAX_STORAGE_CONTEXTS / per);
    expect(groups.length).toBe(Math.ceil(classes.length / perGroup));
    for (const g of groups) {
      expect(g.contexts.length).toBeLessThanOrEqual(MAX_STORAGE_CONTEXTS);
      expect(new Set(g.contexts.map((c) => c.sopClassUid))).toEqual(new Set(g.sopClasses));
      for (const c of g.sopClasses) expect(g.contexts.filter((x) => x.sopClassUid === c)).toHaveLength(per);
    }
    expect(groups.flatMap((g) => g.sopClasses)).toEqual(classes);
  });

  it('known syntaxes of many classes fit one association', () => {
    const items = Array.from({ length: 100 }, (_, i) => ({
      sopClassUid: `1.2.3.${i}`,
      transferSyntaxUid: ELE,
    }));
    const groups = storageContextGroups(items, ALL_TRANSFER_SYNTAXES);
    expect(groups).toHaveLength(1);
    expect(groups[0]!.contexts).toHaveLength(100);
  });
});
