/**
 * Time windows: the source is in clinical use, so the plan says when to move and how hard.
 * Pure functions of the local time; the engine asks them before each claim.
 */
import type { TransferPlan, TransferWindow } from '../plan/index.js';

const DAY_NAMES = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const;

export interface WindowDecision {
  paused: boolean;
  retrieve: number;
  store: number;
  /** Index of the window that applied, or undefined when none matched (the defaults apply). */
  window: number | undefined;
}

/** Local weekday and minutes since midnight of an instant in a time zone (default: the machine's). */
export function localTime(
  atMs: number,
  timeZone?: string,
): { day: (typeof DAY_NAMES)[number]; minutes: number } {
  const f = new Intl.DateTimeFormat('en-GB', {
    timeZone,
    weekday: 'short',
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
  });
  const parts = Object.fromEntries(f.formatToParts(new Date(atMs)).map((p) => [p.type, p.value]));
  const day = String(parts.weekday).toLowerCase().slice(0, 3) as (typeof DAY_NAMES)[number];
  return { day, minutes: Number(parts.hour) * 60 + Number(parts.minute) };
}

const prevDay = (d: (typeof DAY_NAMES)[number]) => DAY_NAMES[(DAY_NAMES.indexOf(d) + 6) % 7]!;

/** Whether a window covers a local time; windows may wrap midnight (18:00–07:00 belongs to the day it starts). */
export function windowCovers(w: TransferWindow, day: (typeof DAY_NAMES)[number], minutes: number): boolean {
  const days = w.days as readonly string[];
  if (w.from < w.to) return days.includes(day) && minutes >= w.from && minutes < w.to;
  if (w.from === w.to) return days.includes(day);
  // wraps: from..24:00 on its day, 00:00..to on the next
  return (days.includes(day) && minutes >= w.from) || (days.includes(prevDay(day)) && minutes < w.to);
}

export function decideWindow(
  t: TransferPlan,
  atMs: number,
  defaults: { retrieve: number; store: number },
): WindowDecision {
  const { day, minutes } = localTime(atMs, t.timezone);
  const i = t.windows.findIndex((w) => windowCovers(w, day, minutes));
  if (i < 0) return { paused: false, ...defaults, window: undefined };
  const w = t.windows[i]!;
  return {
    paused: w.paused,
    retrieve: w.concurrency?.retrieve ?? defaults.retrieve,
    store: w.concurrency?.store ?? defaults.store,
    window: i,
  };
}
