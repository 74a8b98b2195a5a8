/**
 * Plan sections that govern the run: `state`, `spool`, `transfer`, `verify`, `report`, `privacy`.
 */
import * as z from 'zod';
import { opt } from './doc.js';
import {
  bool,
  duration,
  durationOrOff,
  filePath,
  intIn,
  keyword,
  numberIn,
  oneOf,
  size,
  timeOfDay,
  timeZone,
  type PlanContext,
} from './primitives.js';
import { section } from './schema-peers.js';
import { PG_SCHEMA_NAME } from '../util/pg-schema.js';

/** The `?schema=` of a postgres URL (undefined without one, or when the URL does not parse). */
function schemaOfUrl(u: string): string | undefined {
  try {
    return new URL(u).searchParams.get('schema') ?? undefined;
  } catch {
    return undefined;
  }
}

// ---------------------------------------------------------------------------------------------------
// state

/** Section `state` (input form); normalised to `{ type: 'sqlite', path } | { type: 'postgres', url }`. */
export const stateSchema = (ctx: PlanContext) =>
  z
    .strictObject({
      sqlite: opt(filePath(ctx, 'migration.sqlite').optional(), {
        what: 'SQLite database file holding the inventory, every study and instance state, and the ledger.',
        default: '<plan name>.sqlite beside the plan file',
        example: 'state/migration.sqlite',
        why: 'Embedded, nothing to install; a run can stop at any moment and resume from here. Keep it on local disk, not a network share.',
      }),
      postgres: opt(
        z
          .string()
          .regex(/^postgres(ql)?:\/\/\S+$/)
          .refine((u) => !/^postgres(ql)?:\/\/[^/@]*:[^/@]*@/.test(u), {
            message:
              'must not contain a password: put it in PGPASSWORD or ~/.pgpass, e.g. postgres://pacshift@db.hospital.local/pacshift',
          })
          .refine((u) => schemaOfUrl(u) === undefined || PG_SCHEMA_NAME.test(schemaOfUrl(u)!), {
            message:
              '?schema= must be a lower-case schema name (letters, digits, _; at most 63), e.g. ?schema=site_a',
          })
          .optional(),
        {
          what: "PostgreSQL connection URL, instead of sqlite. The password comes from PGPASSWORD or ~/.pgpass. `?schema=NAME` picks the schema holding this migration's tables (default `pacshift`, created on first use).",
          example: 'postgres://pacshift@db.hospital.local/pacshift?schema=site_a',
          rule: 'a PostgreSQL URL such as postgres://pacshift@db.hospital.local/pacshift',
          phi: true,
          why: 'Several pacshift workers (or a dashboard) can share one PostgreSQL state; plans are copied around, passwords must not be. Two migrations on one database need two schemas, or they share one state.',
        },
      ),
    })
    .refine((s) => s.sqlite === undefined || s.postgres === undefined, {
      message: 'give either sqlite or postgres, not both',
    });

// ---------------------------------------------------------------------------------------------------
// spool

export const spoolSchema = (ctx: PlanContext) =>
  z.strictObject({
    dir: opt(filePath(ctx, 'spool').optional(), {
      what: 'Folder where retrieved instances wait until the target has stored them.',
      default: '<plan name>.spool beside the plan file',
      example: '/var/spool/pacshift',
      why: 'Decouples retrieve from store: a slow or paused target does not stall the source. Put it on a fast local disk.',
    }),
    maxBytes: opt(size({ min: 1024 * 1024, example: '20GiB' }).prefault('20GiB'), {
      what:
        'Most bytes the spool may hold. A study is retrieved only when the spool has room for what it still ' +
        'needs (its sizes from the inventory, else the mean size of what arrived so far), or when no other ' +
        'study is under way; our listener refuses any instance beyond the limit (A700 "spool full"; a hard ' +
        'bound on the files in the spool, half-received ones included), and such a study is released and ' +
        'waits for room. A study larger than the spool moves alone in parts: what fitted is stored first.',
      why:
        'A target outage must not fill the disk that also holds the state database. At least 1 MiB (a ' +
        'number without a unit is bytes: this catches "20" meant as gigabytes); set it below the free space ' +
        'of the spool disk, which a full disk (ENOSPC) also reports as "spool full".',
    }),
    keepAfterStore: opt(bool().prefault(false), {
      what: 'Keep spooled instances after the target stored them (until verified).',
      why: 'Off to save disk; on during early test runs, to compare what was received with what the target returns.',
    }),
  });

// ---------------------------------------------------------------------------------------------------
// transfer

const DAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;
export type Day = (typeof DAYS)[number];
const DAY_SETS: Record<string, readonly Day[]> = {
  weekdays: ['mon', 'tue', 'wed', 'thu', 'fri'],
  weekend: ['sat', 'sun'],
  daily: DAYS,
};
const dayToken = oneOf([...DAYS, 'weekdays', 'weekend', 'daily']);

const concurrencyOverride = z.strictObject({
  retrieve: opt(intIn(1, 64, 4).optional(), {
    what: 'Retrieve associations during this window.',
    default: 'transfer.concurrency.retrieve',
    example: 4,
    why: 'Night and weekend: the source has capacity to spare.',
  }),
  store: opt(intIn(1, 64, 8).optional(), {
    what: 'Store associations during this window.',
    default: 'transfer.concurrency.store',
    example: 8,
    why: 'The target may also be in clinical use once it goes live.',
  }),
});

const windowSchema = z
  .strictObject({
    days: opt(
      z.union([dayToken, z.array(dayToken).min(1)]).transform((v): Day[] => {
        const set = new Set<Day>();
        for (const t of Array.isArray(v) ? v : [v]) for (const d of DAY_SETS[t] ?? [t as Day]) set.add(d);
        return DAYS.filter((d) => set.has(d));
      }),
      {
        what: 'Days the window starts on: mon…sun, or weekdays, weekend, daily (one or a list).',
        example: 'weekdays',
        rule: 'mon, tue, wed, thu, fri, sat, sun, weekdays, weekend or daily, or a list of them',
        why: 'Clinical load follows the week.',
      },
    ),
    from: opt(timeOfDay('07:00'), {
      what: 'Local start time (HH:MM).',
      example: '07:00',
      why: 'Windows follow the clinical day.',
    }),
    to: opt(timeOfDay('19:00'), {
      what: 'Local end time (HH:MM, exclusive). Earlier than from means the window runs past midnight into the next day; "24:00" is the end of the day.',
      example: '19:00',
      why: 'A night window is written naturally as from "19:00" to "07:00".',
    }),
    concurrency: opt(concurrencyOverride.optional(), {
      what: 'Concurrency during this window (each value at most the peer maxAssociations).',
      default: 'transfer.concurrency',
      example: { retrieve: 1, store: 2 },
      why: 'Throttle during clinical hours, open up at night.',
    }),
    paused: opt(bool().prefault(false), {
      what: 'Start no new retrievals or stores during this window (inventory, verify and report still run).',
      why: 'Some sites allow no migration load at all during the day.',
    }),
  })
  .refine((w) => w.from !== w.to, {
    message: 'from and to must differ: use from "00:00" to "24:00" for a whole day',
  })
  .refine((w) => !(w.paused && w.concurrency), {
    message: 'is paused, so concurrency has no effect: remove one of them',
  });

export const transferSchema = (ctx: PlanContext) =>
  z.strictObject({
    concurrency: opt(
      section(
        z.strictObject({
          retrieve: opt(intIn(1, 64, 2).optional(), {
            what: 'Concurrent retrieve associations (C-MOVE/C-GET) outside windows.',
            default: 'source.maxAssociations (2 for a folder)',
            example: 2,
            why: 'More parallel moves raise throughput until the source saturates (measured gains stop around a few streams).',
          }),
          store: opt(intIn(1, 64, 4).optional(), {
            what: 'Concurrent store associations (C-STORE) outside windows.',
            default: 'target.maxAssociations (2 for a folder)',
            example: 4,
            why: 'Archives ingest in parallel; their index is usually the bottleneck, not the network.',
          }),
        }),
      ),
      {
        what: 'Default parallelism (each at most the peer maxAssociations); transfer.windows can override it.',
        why: 'Throughput with bounded load.',
      },
    ),
    retries: opt(
      section(
        z.strictObject({
          maxAttempts: opt(intIn(1, 100, 5).prefault(5), {
            what: 'Attempts per study (and per instance) before it is reported as failed with its last status.',
            why: 'Transient failures (out of resources A7xx, timeouts, aborts) usually clear; data errors never do and are quarantined at once, not retried.',
          }),
          backoff: opt(
            section(
              z.strictObject({
                base: opt(duration({ min: 100, example: '10s' }).prefault('10s'), {
                  what: 'Wait before the first retry.',
                  why: 'Gives an overloaded peer room to recover.',
                }),
                factor: opt(numberIn(1, 10, 2).prefault(2), {
                  what: 'Multiplier of the wait after each further failure.',
                  why: 'Exponential back-off: persistent trouble costs less and less load.',
                }),
                cap: opt(duration({ min: 1000, example: '10m' }).prefault('10m'), {
                  what: 'Longest wait between two attempts.',
                  why: 'Retries keep happening at a sensible rate through a long outage.',
                }),
              }),
            ),
            {
              what: 'Wait between attempts: base × factor^(attempt−1), at most cap, with random jitter.',
              why: 'Jitter keeps parallel workers from retrying in lockstep.',
            },
          ),
        }),
      ),
      {
        what: 'Retries of transient failures.',
        why: 'A long migration meets every kind of transient failure.',
      },
    ),
    circuitBreaker: opt(
      section(
        z.strictObject({
          failures: opt(intIn(1, 1000, 5).prefault(5), {
            what: 'Consecutive transient failures towards one peer that open the breaker (stop sending to it).',
            why: 'When a peer is down or out of resources, hammering it makes things worse and burns retries.',
          }),
          coolDown: opt(duration({ min: 1000, example: '5m' }).prefault('5m'), {
            what: 'How long the breaker stays open before one trial request is let through.',
            why: 'Long enough for a restart or a full disk to be dealt with.',
          }),
        }),
      ),
      {
        what: 'Per-peer circuit breaker. While it is open no study is claimed; after each cool-down one study tries the peer (a failed trial costs that study no attempt); migrate logs which peer is down, since when and the next try.',
        why: 'Protects the source (clinical) and the target from a failure storm, and the studies from burning their attempts on an outage.',
      },
    ),
    timezone: opt(timeZone().optional(), {
      what: 'IANA time zone in which transfer.windows are read.',
      default: "the server's local time zone",
      example: 'Europe/London',
      why: 'Servers often run in UTC while the hospital works in local time (and daylight saving moves the clinical day).',
    }),
    windows: opt(z.array(windowSchema).prefault([]), {
      rule: 'a list of windows, each { days, from, to } with concurrency or paused',
      what: 'Time windows: the first window containing the current local time applies; outside every window transfer.concurrency applies.',
      example: [
        { days: 'weekdays', from: '07:00', to: '18:00', concurrency: { retrieve: 1, store: 2 } },
        { days: 'weekdays', from: '18:00', to: '07:00', concurrency: { retrieve: 2, store: 4 } },
        { days: 'weekend', from: '00:00', to: '24:00', concurrency: { retrieve: 2, store: 4 } },
      ],
      exampleActive: true,
      why: 'The source is still in clinical use: sites want little load in the day and full speed at night and at weekends.',
    }),
    priority: opt(oneOf(['newest-first', 'oldest-first']).prefault('newest-first'), {
      what: 'Order in which studies are migrated (after appointment-driven ones).',
      why: 'newest-first: recent priors, the ones radiologists compare against, reach the new PACS early.',
    }),
    appointments: opt(
      z
        .strictObject({
          csv: opt(filePath(ctx, 'appointments.csv'), {
            what: 'CSV export of upcoming appointments (header row). Re-read every refreshEvery.',
            example: 'appointments.csv',
            why: 'A worklist or RIS export is the cheapest way to know who is coming back.',
          }),
          patientIdColumn: opt(z.string().min(1), {
            what: 'Column holding the PatientID (as in the source archive).',
            example: 'patient_id',
            rule: 'a CSV column name',
            why: 'Appointments are matched to studies by PatientID.',
          }),
          dateColumn: opt(z.string().min(1), {
            what: 'Column holding the appointment date.',
            example: 'appointment_date',
            rule: 'a CSV column name',
            why: 'Only appointments within lookaheadDays raise priority.',
          }),
          dateFormat: opt(
            oneOf(['YYYY-MM-DD', 'YYYYMMDD', 'DD/MM/YYYY', 'MM/DD/YYYY', 'DD.MM.YYYY']).prefault(
              'YYYY-MM-DD',
            ),
            {
              what: 'How dates are written in dateColumn.',
              why: 'Exports follow the locale of whoever made them; guessing DD/MM against MM/DD is unsafe.',
            },
          ),
          delimiter: opt(oneOf([',', ';', '\t', '|']).prefault(','), {
            what: 'Column separator.',
            why: 'Spreadsheets in many European locales export with ";".',
          }),
          lookaheadDays: opt(intIn(0, 365, 14).prefault(14), {
            what: 'Patients with an appointment within this many days have all their studies moved first, soonest appointment first.',
            why: 'Priors must be in the new PACS before the patient is seen.',
          }),
          refreshEvery: opt(duration({ min: 60_000, example: '1h' }).prefault('1h'), {
            what: 'How often the CSV file is re-read.',
            why: 'The schedule changes during the day.',
          }),
        })
        .optional(),
      {
        what: 'Raise the priority of patients with upcoming appointments.',
        default: 'no appointment list',
        example: { csv: 'appointments.csv', patientIdColumn: 'patient_id', dateColumn: 'appointment_date' },
        why: 'Coexistence: a patient who comes back before their priors are migrated gets the new PACS without history.',
      },
    ),
    quietPeriod: opt(duration({ example: '30s' }).prefault('30s'), {
      what: 'After a C-MOVE ends (or its association aborts), keep receiving this long before reconciling what arrived.',
      why: 'Whether sub-operations continue after an abort is undefined (PS3.4 C.4.2.3.1); some archives answer before they finish sending.',
    }),
  });

// ---------------------------------------------------------------------------------------------------
// verify

/** Attributes compared at verify level "attributes" or "pixels" unless the plan lists others. */
export const DEFAULT_VERIFY_ATTRIBUTES = [
  'PatientID',
  'PatientName',
  'PatientBirthDate',
  'PatientSex',
  'StudyInstanceUID',
  'StudyDate',
  'StudyTime',
  'AccessionNumber',
  'StudyDescription',
  'SeriesInstanceUID',
  'SeriesNumber',
  'Modality',
  'SOPClassUID',
  'SOPInstanceUID',
  'InstanceNumber',
  'Rows',
  'Columns',
  'NumberOfFrames',
] as const;

export const verifySchema = z.strictObject({
  level: opt(oneOf(['presence', 'attributes', 'pixels']).prefault('pixels'), {
    what: 'How deeply sampled studies are compared with the source: presence (every instance found at the target), attributes (plus the listed attributes), pixels (plus a digest of the pixel data). Presence is always checked for every study.',
    why: 'A C-STORE "Success" does not prove the target kept our bytes (duplicates are often dropped silently); vendors compare every pixel on a random sample.',
  }),
  attributes: opt(
    z
      .array(keyword())
      .min(1)
      .prefault([...DEFAULT_VERIFY_ATTRIBUTES]),
    {
      rule: 'a list of DICOM keywords such as [PatientID, StudyDate]',
      what: 'Attributes compared on sampled studies (DICOM keywords), after applying transform rules to the source values.',
      default: DEFAULT_VERIFY_ATTRIBUTES.join(', '),
      example: ['PatientID', 'PatientName', 'StudyDate', 'AccessionNumber'],
      why: 'Header mismatches are far more common than pixel mismatches (one study found 831 against 2).',
    },
  ),
  sample: opt(
    section(
      z.strictObject({
        percent: opt(numberIn(0, 100, 5).prefault(5), {
          what: 'Percentage of migrated studies compared at level; the sample is the larger of this and minStudies.',
          why: 'Scales the check with the archive.',
        }),
        minStudies: opt(intIn(0, 10_000_000, 500).prefault(500), {
          what: 'Fewest studies compared at level (all studies if fewer were migrated).',
          why: 'About 500 random studies is what migration vendors use; a small archive is then checked entirely.',
        }),
        seed: opt(intIn(0, 2 ** 31 - 1, 42).optional(), {
          what: 'Seed of the random sample.',
          default: 'a new random sample each run',
          example: 42,
          why: 'Fix it to reproduce exactly which studies were sampled (e.g. for an audit).',
        }),
      }),
    ),
    {
      what: 'Which studies are compared in depth: max(minStudies, percent of migrated studies), at random.',
      why: 'Deep comparison of everything is as slow as the migration itself.',
    },
  ),
  rerunEvery: opt(durationOrOff({ min: 3_600_000, example: '7d' }).prefault('7d'), {
    what: 'Re-verify already verified studies this often (with a new sample), or off.',
    why: 'The target changes under you (merges, reconciliation, its own migrations); checks run regularly during the migration, not once at the end.',
  }),
  duplicates: opt(bool().prefault(true), {
    what: 'Look for SOP Instance UIDs the target holds more than once (e.g. under another PatientID).',
    why: 'Some archives key instances on PatientID + UIDs: a re-send with corrected demographics creates a second copy.',
  }),
});

// ---------------------------------------------------------------------------------------------------
// report, privacy

export const reportSchema = (ctx: PlanContext) =>
  z.strictObject({
    dir: opt(filePath(ctx, 'report').optional(), {
      what: 'Folder the reports are written to.',
      default: '<plan name>-report beside the plan file',
      example: 'reports',
      why: 'Reports are the evidence for the definition of done; keep them with the plan.',
    }),
    formats: opt(
      z
        .array(oneOf(['html', 'csv', 'json']))
        .min(1)
        .refine((f) => new Set(f).size === f.length, {
          message: 'lists a format twice: each of html, csv, json at most once',
        })
        .prefault(['html', 'csv', 'json']),
      {
        what: 'Report formats: html (for people), csv (for spreadsheets), json (for tools).',
        rule: 'a list of html, csv, json',
        why: 'Project managers, sites and scripts each read a different one.',
      },
    ),
  });

export const privacySchema = z.strictObject({
  logPhi: opt(bool().prefault(false), {
    what: 'Allow patient names, IDs and birth dates in logs (the --log-phi option does the same for one run).',
    why: 'Logs travel (support tickets, chat, bug reports); by default they carry UIDs and job ids only.',
  }),
});
