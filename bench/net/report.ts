/** Medians and the figures table. */
import type { PathKind, RunResult } from './scenarios.js';
import { PATH_LABEL } from './scenarios.js';

export const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

export interface Cell {
  set: string;
  instances: number;
  bytes: number;
  associations: number;
  pdu: number;
  path: PathKind;
  runs: RunResult[];
}

export interface Row {
  cell: Cell;
  seconds: number;
  instPerS: number;
  mbPerS: number;
  /** DCMTK's median seconds / ours (>1: we are faster); undefined for the baseline. */
  ratio: number | undefined;
  senderPeakMb: number;
  receiverPeakMb: number;
  /** Median CPU seconds of sender and receiver. */
  senderCpuS: number;
  receiverCpuS: number;
}

const key = (c: Cell) => `${c.set}|${c.associations}|${c.pdu}`;

export function rows(cells: readonly Cell[]): Row[] {
  const base = new Map<string, number>();
  for (const c of cells) if (c.path === 'dcmtk') base.set(key(c), median(c.runs.map((r) => r.seconds)));
  return cells.map((cell) => {
    const seconds = median(cell.runs.map((r) => r.seconds));
    const b = base.get(key(cell));
    return {
      cell,
      seconds,
      instPerS: cell.instances / seconds,
      mbPerS: cell.bytes / 1e6 / seconds,
      ratio: cell.path === 'dcmtk' || b === undefined ? undefined : b / seconds,
      senderPeakMb: Math.max(...cell.runs.map((r) => r.senderPeakKb)) / 1024,
      receiverPeakMb: Math.max(...cell.runs.map((r) => r.receiverPeakKb)) / 1024,
      senderCpuS: median(cell.runs.map((r) => r.senderCpuS)),
      receiverCpuS: median(cell.runs.map((r) => r.receiverCpuS)),
    };
  });
}

const pduLabel = (n: number) => (n % 1024 === 0 ? `${n / 1024} KiB` : String(n));

/** A Markdown table (readable on a terminal too). */
export function table(rs: readonly Row[]): string {
  const head = [
    'set',
    'assoc',
    'max PDU',
    'path',
    'median s',
    'runs (s)',
    'inst/s',
    'MB/s',
    'ratio',
    'CPU s sender + receiver',
    'peak RSS sender',
    'peak RSS receiver',
  ];
  const lines = [head, head.map(() => '---')];
  for (const r of rs) {
    const c = r.cell;
    lines.push([
      `${c.set} (${c.instances})`,
      String(c.associations),
      pduLabel(c.pdu),
      PATH_LABEL[c.path],
      r.seconds.toFixed(2),
      c.runs.map((x) => x.seconds.toFixed(2)).join(' '),
      r.instPerS.toFixed(0),
      r.mbPerS.toFixed(0),
      r.ratio === undefined ? '—' : `${r.ratio.toFixed(2)}×`,
      `${r.senderCpuS.toFixed(2)} + ${r.receiverCpuS.toFixed(2)}`,
      `${r.senderPeakMb.toFixed(0)} MB`,
      `${r.receiverPeakMb.toFixed(0)} MB`,
    ]);
  }
  return lines.map((l) => `| ${l.join(' | ')} |`).join('\n');
}

/** Which pacshift rows are below the target ratio or above the RSS budget. */
export function verdicts(rs: readonly Row[], targetRatio: number, rssBudgetMb: number): string[] {
  const out: string[] = [];
  for (const r of rs) {
    if (r.cell.path === 'dcmtk') continue;
    const ours = r.cell.path === 'pacshift-send' ? r.senderPeakMb : r.receiverPeakMb;
    const where = `${r.cell.set}, ${r.cell.associations} assoc, ${pduLabel(r.cell.pdu)}: ${PATH_LABEL[r.cell.path]}`;
    if (r.ratio !== undefined && r.ratio < targetRatio)
      out.push(`below ${targetRatio}×: ${where} (${r.ratio.toFixed(2)}×)`);
    if (ours > rssBudgetMb) out.push(`over ${rssBudgetMb} MB RSS: ${where} (${ours.toFixed(0)} MB)`);
  }
  return out;
}
