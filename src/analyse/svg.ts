/**
 * Inline SVG bar charts for the analysis report (no script, no external asset): stacked bars, one
 * segment per severity plus the studies without findings, vertical (by year) or horizontal (by
 * device). Every label is escaped; each bar has a <title> with its numbers.
 */
import { esc } from '../report/html.js';

export interface Segment {
  readonly name: string;
  readonly value: number;
  readonly color: string;
}

export interface Bar {
  readonly label: string;
  readonly segments: readonly Segment[];
}

export const SEVERITY_COLORS = {
  error: '#c0392b',
  warning: '#e08e0b',
  info: '#3b7dd8',
  clean: '#c9d3de',
} as const;

const total = (b: Bar): number => b.segments.reduce((n, s) => n + s.value, 0);

/** A round axis maximum and its tick step. */
function axis(max: number): { top: number; step: number } {
  if (max <= 0) return { top: 1, step: 1 };
  const raw = max / 5;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw)!;
  return { top: Math.ceil(max / step) * step, step };
}

const fmt = (n: number): string => n.toLocaleString('en-US');

function legend(segments: readonly Segment[], x: number, y: number): string {
  let at = x;
  return segments
    .map((s) => {
      const out = `<rect x="${at}" y="${y - 10}" width="12" height="12" fill="${s.color}"/><text x="${at + 16}" y="${y}" font-size="12">${esc(s.name)}</text>`;
      at += 24 + s.name.length * 7;
      return out;
    })
    .join('');
}

function tooltip(b: Bar): string {
  return `${b.label}: ${fmt(total(b))} studies; ${b.segments.map((s) => `${s.name} ${fmt(s.value)}`).join(', ')}`;
}

/** Vertical stacked bars (e.g. studies per year). */
export function verticalBars(
  bars: readonly Bar[],
  opts: { title: string; width?: number; height?: number; yLabel?: string },
): string {
  const width = opts.width ?? 1100;
  const height = opts.height ?? 320;
  const left = 56;
  const right = 12;
  const top = 40;
  const bottom = 56;
  const plotW = width - left - right;
  const plotH = height - top - bottom;
  const { top: yMax, step } = axis(Math.max(0, ...bars.map(total)));
  const slot = bars.length > 0 ? plotW / bars.length : plotW;
  const barW = Math.max(2, Math.min(48, slot * 0.75));
  const y = (v: number) => top + plotH - (v / yMax) * plotH;
  const grid: string[] = [];
  for (let v = 0; v <= yMax + 1e-9; v += step)
    grid.push(
      `<line x1="${left}" x2="${width - right}" y1="${y(v).toFixed(1)}" y2="${y(v).toFixed(1)}" stroke="#e3e7ec"/><text x="${left - 6}" y="${(y(v) + 4).toFixed(1)}" font-size="11" text-anchor="end" fill="#5b6575">${fmt(v)}</text>`,
    );
  const labelEvery = Math.max(1, Math.ceil(bars.length / Math.floor(plotW / 36)));
  // The last bar is always labelled; a label too close before it is left out.
  const labelled = (i: number): boolean =>
    i === bars.length - 1 || (i % labelEvery === 0 && (bars.length - 1 - i) * slot >= 36);
  const cols = bars.map((b, i) => {
    const x = left + i * slot + (slot - barW) / 2;
    let acc = 0;
    const rects = b.segments
      .filter((s) => s.value > 0)
      .map((s) => {
        const y0 = y(acc + s.value);
        const h = (s.value / yMax) * plotH;
        acc += s.value;
        return `<rect x="${x.toFixed(1)}" y="${y0.toFixed(1)}" width="${barW.toFixed(1)}" height="${Math.max(0.5, h).toFixed(1)}" fill="${s.color}"/>`;
      })
      .join('');
    const label = labelled(i)
      ? `<text x="${(x + barW / 2).toFixed(1)}" y="${height - bottom + 16}" font-size="11" text-anchor="middle" fill="#1d2430">${esc(b.label)}</text>`
      : '';
    return `<g><title>${esc(tooltip(b))}</title>${rects}</g>${label}`;
  });
  const segs = bars[0]?.segments ?? [];
  return `<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="${esc(opts.title)}" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="system-ui, sans-serif">
<text x="${left}" y="18" font-size="14" font-weight="600" fill="#1d2430">${esc(opts.title)}</text>
${legend(segs, left, height - 12)}
${grid.join('')}
<line x1="${left}" x2="${left}" y1="${top}" y2="${top + plotH}" stroke="#9aa5b1"/>
${opts.yLabel ? `<text transform="translate(14 ${top + plotH / 2}) rotate(-90)" font-size="11" text-anchor="middle" fill="#5b6575">${esc(opts.yLabel)}</text>` : ''}
${cols.join('\n')}
</svg>`;
}

/** Horizontal stacked bars with long labels on the left (e.g. studies per device). */
export function horizontalBars(
  bars: readonly Bar[],
  opts: { title: string; width?: number; labelWidth?: number },
): string {
  const width = opts.width ?? 1100;
  const labelW = opts.labelWidth ?? 430;
  const rowH = 22;
  const top = 40;
  const bottom = 34;
  const right = 60;
  const height = top + bars.length * rowH + bottom;
  const plotW = width - labelW - right;
  const { top: xMax, step } = axis(Math.max(0, ...bars.map(total)));
  const x = (v: number) => labelW + (v / xMax) * plotW;
  const grid: string[] = [];
  for (let v = 0; v <= xMax + 1e-9; v += step)
    grid.push(
      `<line x1="${x(v).toFixed(1)}" x2="${x(v).toFixed(1)}" y1="${top - 4}" y2="${top + bars.length * rowH}" stroke="#e3e7ec"/><text x="${x(v).toFixed(1)}" y="${top - 8}" font-size="11" text-anchor="middle" fill="#5b6575">${fmt(v)}</text>`,
    );
  const maxChars = Math.floor(labelW / 6.4);
  const rows = bars.map((b, i) => {
    const yy = top + i * rowH;
    let acc = 0;
    const rects = b.segments
      .filter((s) => s.value > 0)
      .map((s) => {
        const r = `<rect x="${x(acc).toFixed(1)}" y="${yy + 4}" width="${Math.max(0.5, x(acc + s.value) - x(acc)).toFixed(1)}" height="${rowH - 8}" fill="${s.color}"/>`;
        acc += s.value;
        return r;
      })
      .join('');
    const label = b.label.length > maxChars ? `${b.label.slice(0, maxChars - 1)}…` : b.label;
    return `<g><title>${esc(tooltip(b))}</title><text x="${labelW - 8}" y="${yy + rowH / 2 + 4}" font-size="11" text-anchor="end" fill="#1d2430">${esc(label)}</text>${rects}<text x="${(x(acc) + 4).toFixed(1)}" y="${yy + rowH / 2 + 4}" font-size="11" fill="#5b6575">${fmt(acc)}</text></g>`;
  });
  const segs = bars[0]?.segments ?? [];
  return `<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="${esc(opts.title)}" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="system-ui, sans-serif">
<text x="8" y="18" font-size="14" font-weight="600" fill="#1d2430">${esc(opts.title)}</text>
${grid.join('')}
${rows.join('\n')}
${legend(segs, labelW, height - 10)}
</svg>`;
}
