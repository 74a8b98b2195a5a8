/**
 * The device a series was made on, for the breakdown: vendor (normalised: the same company appears
 * under many spellings across software versions), model, software versions and station name, as the
 * source reports them (series level), or as the sampled header says when the source did not.
 */

/** Normalised vendor → patterns of the Manufacturer (0008,0070) spellings that mean it. A table. */
export const VENDOR_ALIASES: readonly (readonly [string, RegExp])[] = [
  [
    'GE',
    /^(GE\b|G\.E\.|GENERAL ELECTRIC|GE_|GEMS|GE MEDICAL|GE HEALTHCARE|GE VINGMED|GE MARQUETTE|GENESIS_)/i,
  ],
  ['Siemens', /^(SIEMENS|ACUSON|CPS\b)/i],
  ['Philips', /^(PHILIPS|ATL\b|ELSCINT|MARCONI|PICKER)/i],
  ['Canon (Toshiba)', /^(TOSHIBA|CANON_MEC|CANON MEDICAL)/i],
  ['Fujifilm', /^(FUJI|FUJIFILM)/i],
  ['Agfa', /^AGFA/i],
  ['Konica Minolta', /^KONICA/i],
  ['Hitachi/Aloka', /^(HITACHI|ALOKA)/i],
  ['Hologic', /^HOLOGIC/i],
  ['United Imaging', /^(UIH|UNITED IMAGING)/i],
  ['Elekta', /^ELEKTA/i],
  ['Varian', /^VARIAN/i],
  ['Mindray', /^MINDRAY/i],
  ['Bruker', /^BRUKER/i],
  ['Canon Inc.', /^CANON INC/i],
];

export function normaliseVendor(manufacturer: string | null | undefined): string {
  const m = (manufacturer ?? '').trim();
  if (m === '') return '(none)';
  for (const [name, re] of VENDOR_ALIASES) if (re.test(m)) return name;
  return m;
}

export interface Device {
  readonly vendor: string;
  readonly manufacturer: string;
  readonly model: string;
  readonly software: string;
  readonly station: string;
}

export const NO_DEVICE: Device = { vendor: '(none)', manufacturer: '', model: '', software: '', station: '' };

export function deviceOf(v: {
  manufacturer?: string | null;
  model?: string | null;
  software?: string | null;
  station?: string | null;
}): Device {
  const t = (s: string | null | undefined) => (s ?? '').trim();
  return {
    vendor: normaliseVendor(v.manufacturer),
    manufacturer: t(v.manufacturer),
    model: t(v.model),
    software: t(v.software),
    station: t(v.station),
  };
}

/** One line per device: vendor / model / software / station. */
export const deviceKey = (d: Device): string =>
  [d.vendor, d.model || '—', d.software || '—', d.station || '—'].join(' / ');
