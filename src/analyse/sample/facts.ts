/**
 * Each inventoried instance's combination (dimensions.ts). The inventory gives SOP class, transfer
 * syntax (when the source answers AvailableTransferSyntaxUID or is a folder), modality, equipment and
 * study date; the character set comes from headers: recorded while the instance passed through a
 * migration, recorded by pre-flight (`preflight.object` events), or read from one instance per series
 * here (a folder source's file; a DIMSE source's instance fetched into a temporary folder), recorded
 * as `sample.header` events so that the coverage report sees the same combinations. A series'
 * representative stands for the series where the instance itself was not read.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import { readHeaderAttributes } from '../../dicom/digest.js';
import { readInstanceInfo } from '../../dicom/part10.js';
import { Tags } from '../../dicom/tag.js';
import type { MigrationContext } from '../../run/context.js';
import type { EventInput, Instance, Json, Series, Store, Study } from '../../state/index.js';
import { fetchFromSource } from '../preflight/fetch.js';
import { PREFLIGHT_OBJECT_EVENT } from '../preflight/run.js';
import { eachStudy, pickInstances, type StudyView } from '../preflight/source-view.js';
import { combinationKey, normalise, UNKNOWN, yearOf, type Combination } from './dimensions.js';

/** What a header told us (undefined: not read; null: absent or empty). */
export interface HeaderFacts {
  readonly sopClassUid?: string | null;
  readonly transferSyntaxUid?: string | null;
  readonly charset?: string | null;
  readonly modality?: string | null;
  readonly manufacturer?: string | null;
  readonly model?: string | null;
  readonly softwareVersions?: string | null;
}

export interface HeaderBook {
  readonly byInstance: Map<string, HeaderFacts>;
  readonly bySeries: Map<string, HeaderFacts>;
}

const str = (v: Json | undefined): string | null | undefined =>
  v === undefined ? undefined : v === null ? null : Array.isArray(v) ? v.map(String).join('\\') : String(v);

/** Headers read here, recorded so that later reports (coverage) see the same combinations. */
export const SAMPLE_HEADER_EVENT = 'sample.header';

/** Recorded headers (pre-flight's and ours), oldest first (a later record overrides an earlier one). */
async function recordedHeaders(store: Store, book: HeaderBook, kind: string): Promise<number> {
  let afterId: number | undefined;
  let n = 0;
  for (;;) {
    const page = await store.listEvents({ kind, limit: 5000, ...(afterId !== undefined ? { afterId } : {}) });
    if (page.length === 0) return n;
    for (const e of page) {
      const d = (e.detail ?? {}) as { [k: string]: Json };
      const facts = (d.facts ?? null) as { [k: string]: Json } | null;
      if (!facts || !e.sopInstanceUid) continue;
      const h: HeaderFacts = {
        sopClassUid: str(d.sopClassUid),
        transferSyntaxUid: str(d.transferSyntaxUid),
        charset: str(facts.charset),
        modality: str(facts.modality),
        manufacturer: str(facts.manufacturer),
        model: str(facts.model),
        softwareVersions: str(facts.softwareVersions),
      };
      book.byInstance.set(e.sopInstanceUid, h);
      const series = str(d.seriesUid);
      if (series) book.bySeries.set(series, h);
      n++;
    }
    afterId = page[page.length - 1]!.id;
  }
}

const HEADER_TAGS = [
  Tags.SpecificCharacterSet.tag,
  Tags.Modality.tag,
  Tags.Manufacturer.tag,
  Tags.ManufacturerModelName.tag,
  Tags.SoftwareVersions.tag,
];

/** Reads the facts of one file (undefined when it cannot be read). */
export async function readFacts(path: string): Promise<HeaderFacts | undefined> {
  const info = await readInstanceInfo(path);
  if (!info.ok) return undefined;
  const h = await readHeaderAttributes(path, HEADER_TAGS);
  if (!h.ok) return undefined;
  const t = (tag: number): string | null => {
    const a = h.value.get(tag);
    return a?.text?.trim() ? a.text.trim() : null;
  };
  return {
    sopClassUid: info.value.sopClassUid,
    transferSyntaxUid: info.value.transferSyntaxUid,
    charset: t(Tags.SpecificCharacterSet.tag),
    modality: t(Tags.Modality.tag),
    manufacturer: t(Tags.Manufacturer.tag),
    model: t(Tags.ManufacturerModelName.tag),
    softwareVersions: t(Tags.SoftwareVersions.tag),
  };
}

/** A header recorded at migration (pass-through record). */
function recordedFacts(i: Instance): HeaderFacts | undefined {
  const h = i.header;
  if (!h) return undefined;
  return {
    sopClassUid: str(h.SOPClassUID),
    transferSyntaxUid: str(h.TransferSyntaxUID),
    charset: 'SpecificCharacterSet' in h ? str(h.SpecificCharacterSet) : undefined,
    modality: str(h.Modality),
  };
}

export interface HeaderGathering {
  readonly book: HeaderBook;
  /** Series facts from pre-flight records. */
  readonly fromPreflight: number;
  /** Series whose representative was read here. */
  readonly read: number;
  /** Series whose representative could not be read (fetch failed, file unreadable). */
  readonly unread: number;
}

/** Collects header facts: pre-flight records, then (when `read`) one instance per series still unknown. */
export async function gatherHeaders(
  ctx: MigrationContext,
  opts: { read?: boolean; fetchDir?: string } = {},
): Promise<HeaderGathering> {
  const book: HeaderBook = { byInstance: new Map(), bySeries: new Map() };
  const fromPreflight = await recordedHeaders(ctx.store, book, PREFLIGHT_OBJECT_EVENT);
  await recordedHeaders(ctx.store, book, SAMPLE_HEADER_EVENT);
  const wanted: Instance[] = [];
  for await (const v of eachStudy(ctx.store)) {
    for (const rep of pickInstances(v.instances, false)) {
      if (book.bySeries.has(rep.seriesUid)) continue;
      // A header recorded while an instance of the series passed through a migration stands for it.
      const recorded = v.instances.find(
        (i) => i.seriesUid === rep.seriesUid && recordedFacts(i)?.charset !== undefined,
      );
      if (recorded) book.bySeries.set(rep.seriesUid, recordedFacts(recorded)!);
      else wanted.push(rep);
    }
  }
  if (opts.read === false) return { book, fromPreflight, read: 0, unread: 0 };
  let read = 0;
  let unread = 0;
  const events: EventInput[] = [];
  const take = async (rep: Instance, path: string | undefined) => {
    const f = path ? await readFacts(path) : undefined;
    if (!f) {
      unread++;
      return;
    }
    read++;
    book.bySeries.set(rep.seriesUid, f);
    book.byInstance.set(rep.sopInstanceUid, f);
    events.push({
      kind: SAMPLE_HEADER_EVENT,
      studyUid: rep.studyUid,
      sopInstanceUid: rep.sopInstanceUid,
      detail: {
        seriesUid: rep.seriesUid,
        sopClassUid: f.sopClassUid ?? null,
        transferSyntaxUid: f.transferSyntaxUid ?? null,
        facts: {
          charset: f.charset ?? null,
          modality: f.modality ?? null,
          manufacturer: f.manufacturer ?? null,
          model: f.model ?? null,
          softwareVersions: f.softwareVersions ?? null,
        },
      },
    });
  };
  if (wanted.length === 0) return { book, fromPreflight, read, unread };
  if (ctx.plan.source.type === 'folder') {
    const root = ctx.plan.source.path;
    for (const rep of wanted) {
      const rel = rep.attrs?.path;
      await take(rep, typeof rel === 'string' ? (isAbsolute(rel) ? rel : resolve(root, rel)) : undefined);
    }
  } else {
    const dir = opts.fetchDir ?? (await mkdtemp(join(tmpdir(), 'pacshift-sample-')));
    try {
      const got = await fetchFromSource(ctx, wanted, dir);
      for (const rep of wanted) await take(rep, got.arrived.get(rep.sopInstanceUid)?.path);
    } finally {
      if (!opts.fetchDir) await rm(dir, { recursive: true, force: true });
    }
  }
  for (let i = 0; i < events.length; i += 500) await ctx.store.appendEvents(events.slice(i, i + 500));
  return { book, fromPreflight, read, unread };
}

/**
 * The combination of one instance. Inventory values win; a value the inventory left empty is taken
 * from the header when one was read; the character set comes from the instance's own header when
 * recorded, else from its series' representative.
 */
export function combinationOf(
  i: Instance,
  series: Series | undefined,
  study: Study,
  book: HeaderBook,
): Combination {
  const own = recordedFacts(i) ?? book.byInstance.get(i.sopInstanceUid);
  const rep = book.bySeries.get(i.seriesUid);
  const pick = (inventory: string | null | undefined, k: keyof HeaderFacts): string => {
    if (inventory !== null && inventory !== undefined && inventory.trim() !== '') return normalise(inventory);
    const h = own?.[k] !== undefined ? own[k] : rep?.[k];
    if (h !== undefined) return normalise(h);
    return inventory === undefined ? UNKNOWN : normalise(inventory);
  };
  return {
    sopClass: pick(i.sopClassUid, 'sopClassUid'),
    modality: pick(series ? series.modality : undefined, 'modality'),
    manufacturer: pick(series ? series.manufacturer : undefined, 'manufacturer'),
    model: pick(series ? series.model : undefined, 'model'),
    softwareVersions: pick(series ? series.softwareVersions : undefined, 'softwareVersions'),
    year: yearOf(study.studyDate),
    transferSyntax: pick(i.transferSyntaxUid, 'transferSyntaxUid'),
    charset: pick(undefined, 'charset'),
  };
}

/** Per study: its combinations (keys) with the instances of each. */
export function studyCombinations(
  v: StudyView,
  book: HeaderBook,
): Map<string, { combination: Combination; instances: Instance[] }> {
  const out = new Map<string, { combination: Combination; instances: Instance[] }>();
  for (const i of v.instances) {
    const c = combinationOf(i, v.series.get(i.seriesUid), v.study, book);
    const k = combinationKey(c);
    const e = out.get(k);
    if (e) e.instances.push(i);
    else out.set(k, { combination: c, instances: [i] });
  }
  return out;
}
