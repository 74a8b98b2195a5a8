/**
 * Migration order. Jobs are claimed by bumped priority, then priority, then newest StudyDate
 * (src/state claim order).
 *
 * - Enqueue priority comes from the StudyDate: `newest-first` (the default) gives YYYYMMDD as a
 *   number, `oldest-first` 100000000 − YYYYMMDD; a study without a calendar date gets 0, so it moves
 *   after every dated one in both orders.
 * - Patients with an appointment within `transfer.appointments.lookaheadDays` (today included) get all
 *   their unfinished studies bumped (store.prioritize, which sorts before any priority), soonest
 *   appointment first: bump level = lookaheadDays + 1 − days until the appointment. Bumps only ever
 *   rise, so re-reading the list as appointments approach (refreshEvery) moves patients forward.
 *   Appointments are matched to studies by PatientID as the source holds it.
 */
import { readFileSync } from 'node:fs';
import { daOf, daysFromCivil, formatDA, parseDA } from '../inventory/dates.js';
import type { TransferPlan } from '../plan/index.js';
import type { Store, Study } from '../state/index.js';
import { type Result, err, ok } from '../util/result.js';
import { parseCsv } from './csv.js';

/** Enqueue priority of a study (see the module comment). */
export function datePriority(studyDate: string | null | undefined, order: TransferPlan['priority']): number {
  const d = parseDA(studyDate ?? undefined);
  if (d === undefined) return 0;
  const n = Number(formatDA(d));
  return order === 'oldest-first' ? 100_000_000 - n : n;
}

export type AppointmentsPlan = NonNullable<TransferPlan['appointments']>;

export interface AppointmentsError {
  readonly kind: 'io' | 'columns';
  /** No patient data: file path, column names, line numbers. */
  readonly message: string;
}

export interface Appointments {
  /** PatientID → days until its soonest appointment within the lookahead (0 = today). */
  readonly upcoming: ReadonlyMap<string, number>;
  readonly rows: number;
  /** Line numbers of rows whose date could not be read in dateFormat. */
  readonly badDates: readonly number[];
  readonly outside: number;
}

/** Day number of a date written in one of the plan's formats; undefined when it is not a date. */
export function parseAppointmentDate(s: string, format: AppointmentsPlan['dateFormat']): number | undefined {
  const t = s.trim();
  const m =
    format === 'YYYY-MM-DD'
      ? /^(\d{4})-(\d{1,2})-(\d{1,2})$/.exec(t)
      : format === 'YYYYMMDD'
        ? /^(\d{4})(\d{2})(\d{2})$/.exec(t)
        : /^(\d{1,2})[./-](\d{1,2})[./-](\d{4})$/.exec(t);
  if (!m) return undefined;
  const [a, b, c] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const [y, mo, d] =
    format === 'DD/MM/YYYY' || format === 'DD.MM.YYYY'
      ? [c, b, a]
      : format === 'MM/DD/YYYY'
        ? [c, a, b]
        : [a, b, c];
  const da = `${String(y).padStart(4, '0')}${String(mo).padStart(2, '0')}${String(d).padStart(2, '0')}`;
  return parseDA(da);
}

/** Reads the appointments CSV: who comes back within the lookahead, and when. */
export function readAppointments(
  plan: AppointmentsPlan,
  today: number,
  text?: string,
): Result<Appointments, AppointmentsError> {
  let body: string;
  try {
    body = text ?? readFileSync(plan.csv, 'utf8');
  } catch (e) {
    return err({
      kind: 'io',
      message: `${plan.csv}: cannot be read (${(e as NodeJS.ErrnoException).code ?? 'error'})`,
    });
  }
  const table = parseCsv(body, plan.delimiter);
  const pi = table.header.indexOf(plan.patientIdColumn);
  const di = table.header.indexOf(plan.dateColumn);
  if (pi < 0 || di < 0) {
    const missing = [pi < 0 ? plan.patientIdColumn : undefined, di < 0 ? plan.dateColumn : undefined].filter(
      Boolean,
    );
    return err({
      kind: 'columns',
      message: `${plan.csv}: no column ${missing.join(', ')} in its header (columns: ${table.header.join(', ')}); check transfer.appointments.patientIdColumn, dateColumn and delimiter`,
    });
  }
  const upcoming = new Map<string, number>();
  const badDates: number[] = [];
  let outside = 0;
  for (const r of table.rows) {
    const pid = (r.cells[pi] ?? '').trim();
    const day = parseAppointmentDate(r.cells[di] ?? '', plan.dateFormat);
    if (day === undefined) {
      badDates.push(r.line);
      continue;
    }
    const until = day - today;
    if (!pid || until < 0 || until > plan.lookaheadDays) {
      outside++;
      continue;
    }
    upcoming.set(pid, Math.min(until, upcoming.get(pid) ?? Infinity));
  }
  return ok({ upcoming, rows: table.rows.length, badDates, outside });
}

export interface AppointmentBumps {
  readonly patients: number;
  /** Jobs whose priority was raised. */
  readonly jobsBumped: number;
  readonly rows: number;
  readonly badDates: number;
}

/** Bumps the unfinished jobs of patients with upcoming appointments, soonest first. */
export async function applyAppointments(
  store: Store,
  transfer: TransferPlan,
  today: number,
): Promise<Result<AppointmentBumps | undefined, AppointmentsError>> {
  const plan = transfer.appointments;
  if (!plan) return ok(undefined);
  const r = readAppointments(plan, today);
  if (!r.ok) return r;
  let jobsBumped = 0;
  for (const [patientId, days] of r.value.upcoming)
    jobsBumped += await store.prioritize({ patientId }, plan.lookaheadDays + 1 - days);
  return ok({
    patients: r.value.upcoming.size,
    jobsBumped,
    rows: r.value.rows,
    badDates: r.value.badDates.length,
  });
}

/** Day number of a clock reading (UTC). */
export const dayOf = (ms: number): number => {
  const d = new Date(ms);
  return daysFromCivil(d.getUTCFullYear(), d.getUTCMonth() + 1, d.getUTCDate());
};

// ---------------------------------------------------------------------------------------------------
// Simple forms, for callers that want a set of patients or one number per study.

/** Patient IDs with an appointment between today and today + lookaheadDays (throws on a bad file). */
export function upcomingPatients(t: TransferPlan, todayDa: string = daOf(new Date())): Set<string> {
  if (!t.appointments) return new Set();
  const r = readAppointments(t.appointments, parseDA(todayDa)!);
  if (!r.ok) throw new Error(`appointments: ${r.error.message}`);
  return new Set(r.value.upcoming.keys());
}

/** Above every date priority: studies of patients in `upcoming` first. */
export const APPOINTMENT_PRIORITY = 1_000_000_000;

export function priorityOf(
  t: TransferPlan,
  s: Pick<Study, 'patientId' | 'studyDate'>,
  upcoming: ReadonlySet<string>,
): number {
  const base = datePriority(s.studyDate, t.priority);
  return s.patientId && upcoming.has(s.patientId) ? APPOINTMENT_PRIORITY + base : base;
}
