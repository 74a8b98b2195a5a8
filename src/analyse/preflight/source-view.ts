/**
 * The inventory as the analyses read it: study by study (keyset pages of the ledger), with each
 * study's series rows and instance rows. Vanished studies are left out.
 */
import type { Instance, LedgerRow, Series, Store, Study } from '../../state/index.js';

export interface StudyView {
  readonly study: Study;
  readonly ledger: LedgerRow;
  readonly series: ReadonlyMap<string, Series>;
  /** By series, then instance number. */
  readonly instances: readonly Instance[];
}

export async function* eachStudy(store: Store, opts: { pageSize?: number } = {}): AsyncGenerator<StudyView> {
  const limit = opts.pageSize ?? 500;
  let after: string | undefined;
  for (;;) {
    const page = await store.ledger({ limit, ...(after !== undefined ? { after } : {}) });
    if (page.length === 0) return;
    for (const row of page) {
      if (row.vanished) continue;
      const study = await store.getStudy(row.studyUid);
      if (!study || study.vanishedAt !== null) continue;
      const instances = (await store.listInstances(row.studyUid, 'all')).filter((i) => i.vanishedAt === null);
      const series = new Map<string, Series>();
      for (const uid of new Set(instances.map((i) => i.seriesUid))) {
        const s = await store.getSeries(uid);
        if (s) series.set(uid, s);
      }
      yield { study, ledger: row, series, instances };
    }
    after = page[page.length - 1]!.studyUid;
    if (page.length < limit) return;
  }
}

/** One instance per series (the lowest instance number), or every instance. */
export function pickInstances(instances: readonly Instance[], all: boolean): Instance[] {
  if (all) return [...instances];
  const first = new Map<string, Instance>();
  for (const i of instances) if (!first.has(i.seriesUid)) first.set(i.seriesUid, i);
  return [...first.values()];
}
