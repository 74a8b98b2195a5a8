/**
 * Plan sections `scope` (what is migrated) and `transform` (what is changed on the way).
 * Both hold patient data (patterns, correction values): errors under them never print values.
 */
import * as z from 'zod';
import { opt } from './doc.js';
import {
  KEYWORD_RE,
  date,
  filePath,
  ident,
  intIn,
  modalities,
  oneOf,
  pattern,
  patterns,
  phiText,
  text,
  type Pattern,
  type PlanContext,
} from './primitives.js';
import { closest } from './suggest.js';

// ---------------------------------------------------------------------------------------------------
// match (shared by scope rules, retention policies and transform rules)

/** Convenience match keys and the DICOM keyword each stands for. */
export const MATCH_KEYWORDS = {
  patientId: 'PatientID',
  patientName: 'PatientName',
  studyDescription: 'StudyDescription',
  institutionName: 'InstitutionName',
  accessionNumber: 'AccessionNumber',
} as const;

/** Conditions on a study; all given conditions must hold (AND), a list inside one condition is an OR. */
export interface Match {
  /** Inclusive StudyDate range as DICOM DA ("YYYYMMDD"); a study without StudyDate never matches it. */
  readonly studyDate?: { readonly from?: string; readonly to?: string };
  /** Matches when ModalitiesInStudy contains any of these codes (upper case). */
  readonly modality?: readonly string[];
  /** DICOM keyword → patterns; matches when any value of the attribute matches any pattern. */
  readonly attributes: Readonly<Record<string, readonly Pattern[]>>;
}

const patternOption = (what: string, example: unknown, why: string) =>
  opt(patterns(example).optional(), { what, example, why });

const matchShape = {
  /** StudyDate range. */
  studyDate: opt(
    z
      .strictObject({
        from: opt(date('2010-01-01').optional(), {
          what: 'First StudyDate included (inclusive).',
          default: 'no lower bound',
          example: '2010-01-01',
          why: 'Date ranges are how legal retention and "last N years" decisions are usually written.',
        }),
        to: opt(date('2015-12-31').optional(), {
          what: 'Last StudyDate included (inclusive).',
          default: 'no upper bound',
          example: '2015-12-31',
          why: 'Close a range to carve out a period (e.g. the years of a retired system).',
        }),
      })
      .refine((r) => r.from !== undefined || r.to !== undefined, {
        message: 'needs from, to or both, e.g. { from: 2010-01-01, to: 2015-12-31 }',
      })
      .refine((r) => r.from === undefined || r.to === undefined || r.from <= r.to, {
        message: 'from must not be after to, e.g. { from: 2010-01-01, to: 2015-12-31 }',
      })
      .optional(),
    {
      what: 'StudyDate range, both ends inclusive. A study with an empty StudyDate never matches a date condition.',
      example: { from: '2010-01-01', to: '2015-12-31' },
      why: 'Studies without a date are invisible to date-range queries; they fall through to later rules and are counted in the report.',
    },
  ),
  /** ModalitiesInStudy. */
  modality: opt(modalities().optional(), {
    what: 'Modality codes; matches when the study contains any of them (ModalitiesInStudy).',
    example: ['CT', 'MR'],
    why: 'Modality is the usual unit of policy (e.g. keep mammography longer).',
  }),
  patientId: patternOption(
    'Pattern(s) on PatientID.',
    'ZZTEST*',
    'Test and training patients are commonly recognised by an ID prefix.',
  ),
  patientName: patternOption(
    'Pattern(s) on PatientName (DICOM PN, e.g. "TEST^*").',
    'TEST^*',
    'QA phantoms and test patients are often named so.',
  ),
  studyDescription: patternOption(
    'Pattern(s) on StudyDescription.',
    '*RESEARCH*',
    'Research and QA studies are often labelled in the description.',
  ),
  institutionName: patternOption(
    'Pattern(s) on InstitutionName.',
    'St Elsewhere*',
    'Studies sent in by other institutions may belong to them, not to this migration.',
  ),
  accessionNumber: patternOption(
    'Pattern(s) on AccessionNumber.',
    '/^EXT-/',
    'Accession numbers carry the issuing system in many sites.',
  ),
};

const matchObject = z.object(matchShape).catchall(
  opt(patterns('STATION7'), {
    what: 'Any other attribute, by DICOM keyword (e.g. StationName, ReferringPhysicianName): pattern(s) on its value. It is requested as a return key during the inventory.',
    example: 'CT-ROOM-2',
    why: 'Sites find unwanted data by whatever attribute marks it; not every archive returns non-standard keys at study level.',
  }),
);

/** A match condition set; `what` describes its role in the containing option. */
export const matchSchema = (what: string, example: unknown) =>
  opt(
    matchObject
      .superRefine((m, ctx) => {
        const keys = Object.keys(m).filter((k) => (m as Record<string, unknown>)[k] !== undefined);
        if (keys.length === 0)
          ctx.addIssue({
            code: 'custom',
            message:
              'is empty, so it would match every study: add a condition (e.g. modality: [CT]) or use scope.default',
          });
        const known = Object.keys(matchShape);
        for (const k of keys) {
          if (k in matchShape) continue;
          if (!KEYWORD_RE.test(k)) {
            const near = closest(k, [...known, ...Object.values(MATCH_KEYWORDS)]);
            ctx.addIssue({
              code: 'custom',
              path: [k],
              params: { atKey: true },
              message: `is not a match option or a DICOM keyword${near ? `: did you mean ${near}?` : ''} (options: ${known.join(', ')}; other attributes by keyword, e.g. StationName)`,
            });
          }
          const alias = Object.entries(MATCH_KEYWORDS).find(([, kw]) => kw === k)?.[0];
          if (alias && keys.includes(alias))
            ctx.addIssue({
              code: 'custom',
              path: [k],
              params: { atKey: true },
              message: `repeats ${alias} (same attribute): merge the patterns into one list under ${alias}`,
            });
        }
      })
      .transform((m): Match => {
        const attributes: Record<string, Pattern[]> = {};
        let studyDate: Match['studyDate'];
        let modality: string[] | undefined;
        for (const [k, v] of Object.entries(m)) {
          if (v === undefined) continue;
          if (k === 'studyDate') studyDate = v as Match['studyDate'];
          else if (k === 'modality') modality = v as string[];
          else attributes[(MATCH_KEYWORDS as Record<string, string>)[k] ?? k] = v as Pattern[];
        }
        return { ...(studyDate ? { studyDate } : {}), ...(modality ? { modality } : {}), attributes };
      }),
    { what, example, phi: true, why: 'Conditions are ANDed; a list inside one condition is an OR.' },
  );

// ---------------------------------------------------------------------------------------------------
// scope

const scopeRuleSchema = z.strictObject({
  id: opt(ident('exclude-test-patients'), {
    what: 'Unique, stable identifier of the rule; every excluded study records it in the state database and the report.',
    example: 'exclude-test-patients',
    why: 'The report answers "why was this study not migrated?" with the rule id, so keep ids stable once a run has started.',
  }),
  action: opt(oneOf(['include', 'exclude']), {
    what: 'What happens to a study this rule matches first: include (migrate) or exclude (leave behind).',
    example: 'exclude',
    why: 'Exclusions are decisions with owners (legal, policy, cost): each one is written down as a rule.',
  }),
  description: opt(text().optional(), {
    what: 'Why the rule exists and who decided it; printed in the report next to the rule id.',
    example: 'Test patients created by the vendor during installation (agreed with radiology, 2026-03).',
    why: 'A year later, nobody remembers why a study was left behind.',
  }),
  match: matchSchema('Conditions a study must meet for this rule to apply.', {
    patientId: ['ZZTEST*', 'TEST*'],
  }),
});

const retentionSchema = z
  .strictObject({
    id: opt(ident('adults-10y'), {
      what: 'Unique identifier of the policy; studies it excludes record it as their cause.',
      example: 'adults-10y',
      why: 'Retention exclusions must be traceable to the policy that caused them.',
    }),
    description: opt(text().optional(), {
      what: 'The legal basis or decision behind the policy.',
      example: 'Records retention schedule, section 4.2',
      why: 'Retention exclusions are legal decisions; the report prints this text.',
    }),
    keepYears: opt(intIn(1, 200, 10).optional(), {
      what: 'Keep a study until this many years after its StudyDate.',
      example: 10,
      why: 'Most retention schedules are "N years after the examination".',
    }),
    patientAgeUntil: opt(intIn(1, 150, 25).optional(), {
      what: "Keep a study until the patient's birthday at this age (needs PatientBirthDate).",
      example: 25,
      why: "Children's records are often kept until the 25th birthday, whichever is later than keepYears.",
    }),
    modality: opt(modalities(['MG']).optional(), {
      what: 'The policy applies only to studies containing one of these modalities.',
      default: 'all studies',
      example: ['MG'],
      why: 'Some modalities (e.g. mammography) have their own retention period.',
    }),
    match: opt(
      matchSchema('Further conditions limiting which studies the policy applies to.', {
        institutionName: 'Main Hospital*',
      }).optional(),
      {
        what: 'Further conditions limiting which studies the policy applies to.',
        default: 'no further condition',
        example: { institutionName: 'Main Hospital*' },
        phi: true,
        why: 'Policies sometimes differ by department or institution.',
      },
    ),
  })
  .refine((p) => p.keepYears !== undefined || p.patientAgeUntil !== undefined, {
    message: 'needs keepYears, patientAgeUntil or both, e.g. keepYears: 10',
  });

/** Section `scope`: which studies are migrated. */
export const scopeSchema = z
  .strictObject({
    /** Action when no rule matches. */
    default: opt(oneOf(['include', 'exclude']).prefault('include'), {
      what: 'What happens to a study that no rule matches.',
      why: 'include: migrate everything except what a rule excludes (the safe choice: nothing is lost by omission). Use exclude to migrate only what rules include.',
    }),
    /** Ordered rules, first match wins. */
    rules: opt(z.array(scopeRuleSchema).prefault([]), {
      rule: 'a list of rules, each { id, action, description, match }',
      what: 'Ordered include/exclude rules. The FIRST rule whose match holds decides (like a firewall); later rules are not consulted. Put narrow exceptions before broad rules.',
      example: [
        {
          id: 'keep-research-consented',
          action: 'include',
          description: 'Research studies with consent are kept (ethics board 2025-11).',
          match: { studyDescription: '*RESEARCH*CONSENT*' },
        },
        {
          id: 'exclude-research',
          action: 'exclude',
          description: 'Other research studies stay in the old archive.',
          match: { studyDescription: '*RESEARCH*' },
        },
        {
          id: 'exclude-test-patients',
          action: 'exclude',
          description: 'Vendor and QA test patients.',
          match: { patientId: ['ZZTEST*', 'QA*'] },
        },
      ],
      why: 'First match makes every decision attributable to exactly one rule, and an exception is expressed by order alone.',
    }),
    /** Reference date for retention. */
    retentionAsOf: opt(date('2026-01-01').optional(), {
      what: 'Date at which retention policies are evaluated.',
      default: 'the day the scope is evaluated',
      example: '2026-01-01',
      why: 'Fixing the date keeps the scope (and the definition of done) stable over a migration that lasts months.',
    }),
    /** Retention policies. */
    retention: opt(z.array(retentionSchema).prefault([]), {
      rule: 'a list of policies, each { id, keepYears and/or patientAgeUntil, modality, match }',
      what: 'Retention policies, applied after the rules to the studies they include: a study is excluded when every policy that applies to it has expired. A study no policy applies to is kept; so is a study whose needed date (StudyDate, PatientBirthDate) is missing.',
      example: [
        { id: 'adults-10y', keepYears: 10 },
        { id: 'children-until-25', patientAgeUntil: 25, keepYears: 10 },
      ],
      why: 'Not migrating what the law no longer requires you to keep saves time and cost; missing dates err on the safe side.',
    }),
  })
  .superRefine((s, ctx) => {
    const seen = new Map<string, string>();
    const check = (id: string, path: PropertyKey[]) => {
      const prev = seen.get(id);
      if (prev)
        ctx.addIssue({
          code: 'custom',
          path,
          message: `is a duplicate id (also used at scope.${prev}): rule and retention ids must be unique`,
        });
      else
        seen.set(
          id,
          path
            .map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`))
            .join('')
            .slice(1),
        );
    };
    s.rules.forEach((r, i) => check(r.id, ['rules', i, 'id']));
    s.retention.forEach((r, i) => check(r.id, ['retention', i, 'id']));
  });

// ---------------------------------------------------------------------------------------------------
// transform

const notUid = (k: string) => !/UID$/.test(k);
const UID_MESSAGE =
  'is a UID: rules never change UIDs (references from GSPS, KOS, SR and SEG objects would break); remove it';

const columnMap = (what: string, example: Record<string, string>, why: string) =>
  opt(
    z.record(z.string(), z.string().min(1)).superRefine((m, ctx) => {
      if (Object.keys(m).length === 0)
        ctx.addIssue({
          code: 'custom',
          message: `needs at least one Keyword: column entry, e.g. ${Object.entries(example)[0]?.join(': ')}`,
        });
      for (const k of Object.keys(m))
        if (!KEYWORD_RE.test(k))
          ctx.addIssue({
            code: 'custom',
            path: [k],
            params: { atKey: true },
            message: 'must be a DICOM keyword such as PatientID (the value is the CSV column name)',
          });
    }),
    { what, example, why, rule: 'a mapping of DICOM keyword to CSV column name' },
  );

const correctionSchema = (ctx: PlanContext) =>
  z
    .strictObject({
      id: opt(ident('ris-reconciliation'), {
        what: 'Unique identifier of the table; every change it makes is recorded with it (audit trail).',
        example: 'ris-reconciliation',
        why: 'Changed demographics must be traceable to the table and row that changed them.',
      }),
      csv: opt(filePath(ctx, 'corrections.csv'), {
        what: 'CSV file with a header row. Read when the transform runs (not when the plan is loaded).',
        example: 'corrections/ris-reconciliation.csv',
        why: 'Corrections usually come from the RIS/HIS reconciliation as a spreadsheet export.',
      }),
      delimiter: opt(oneOf([',', ';', '\t', '|']).prefault(','), {
        what: 'Column separator.',
        why: 'Spreadsheets in many European locales export with ";".',
      }),
      encoding: opt(oneOf(['utf-8', 'latin1']).prefault('utf-8'), {
        what: 'Character encoding of the CSV file.',
        why: 'Older exports are often Latin-1; a wrong guess corrupts names silently.',
      }),
      match: columnMap(
        'Which rows apply to an instance: DICOM keyword → CSV column; a row applies when every listed attribute equals its column (after trimming spaces; person names also ignoring case, repeated spaces and trailing ^). An empty cell matches an empty or absent attribute; a row whose match cells are all empty is refused, and so are two rows with the same key that set different values.',
        { PatientID: 'old_patient_id' },
        'Usually the old PatientID, optionally with IssuerOfPatientID or AccessionNumber for study-level corrections.',
      ),
      set: columnMap(
        "What a matching row changes: DICOM keyword → CSV column holding the new value. An EMPTY cell leaves that element as it is (it does not empty it: use a transform rule with null for that). Values are trimmed and checked against the element's VR when the table is loaded (e.g. a birth date must be YYYYMMDD).",
        { PatientID: 'new_patient_id', PatientName: 'new_patient_name', PatientBirthDate: 'new_birth_date' },
        'Only the named elements change; every other byte of the instance is kept.',
      ),
    })
    .superRefine((c, ctx2) => {
      for (const k of Object.keys(c.set))
        if (!notUid(k))
          ctx2.addIssue({ code: 'custom', path: ['set', k], params: { atKey: true }, message: UID_MESSAGE });
    });

const replaceSchema = z.strictObject({
  pattern: opt(pattern('/^OLD-(.*)$/'), {
    what: 'What to look for in the current value: a /regex/ (with capture groups) or a glob.',
    example: '/^OLD-(.*)$/',
    why: 'Rewrite a value only when it has the expected shape.',
  }),
  with: opt(phiText('NEW-$1'), {
    what: 'Replacement; $1, $2… insert regex capture groups. A glob match replaces the whole value.',
    example: 'NEW-$1',
    why: 'Keeps the part of the value that does not change.',
  }),
});

const transformRuleSchema = z
  .strictObject({
    id: opt(ident('rename-institution'), {
      what: 'Unique identifier of the rule; every change it makes is recorded with it.',
      example: 'rename-institution',
      why: 'Every changed element must be traceable to the rule that changed it.',
    }),
    description: opt(text().optional(), {
      what: 'Why the rule exists and who decided it.',
      example: 'The hospital was renamed in 2019 (request from the records office).',
      why: 'Rules change clinical records: their reason belongs next to them.',
    }),
    when: opt(matchSchema('Studies the rule applies to.', { institutionName: 'St Elsewhere*' }).optional(), {
      what: 'Studies the rule applies to (same conditions as scope rules).',
      default: 'every study',
      example: { institutionName: 'St Elsewhere*' },
      phi: true,
      why: 'Limit a change to the studies that need it.',
    }),
    set: opt(z.record(z.string(), phiText()).optional(), {
      what: 'Elements to set: DICOM keyword → new value (null makes the element empty).',
      example: { InstitutionName: 'Elsewhere General Hospital' },
      phi: true,
      rule: 'a mapping of DICOM keyword to value',
      why: 'Changes named elements only; everything else, including private tags, is kept byte for byte.',
    }),
    replace: opt(z.record(z.string(), replaceSchema).optional(), {
      what: 'Elements to rewrite in place: DICOM keyword → { pattern, with }.',
      example: { AccessionNumber: { pattern: '/^OLD-(.*)$/', with: 'NEW-$1' } },
      phi: true,
      rule: 'a mapping of DICOM keyword to { pattern, with }',
      why: 'Rewrites a value without listing every old and new value.',
    }),
  })
  .superRefine((r, ctx) => {
    const set = Object.keys(r.set ?? {});
    const rep = Object.keys(r.replace ?? {});
    if (set.length + rep.length === 0)
      ctx.addIssue({
        code: 'custom',
        message: 'changes nothing: add set or replace, e.g. set: { InstitutionName: "New name" }',
      });
    for (const [field, keys] of [
      ['set', set],
      ['replace', rep],
    ] as const)
      for (const k of keys) {
        if (!KEYWORD_RE.test(k))
          ctx.addIssue({
            code: 'custom',
            path: [field, k],
            params: { atKey: true },
            message: 'must be a DICOM keyword such as InstitutionName',
          });
        else if (!notUid(k))
          ctx.addIssue({ code: 'custom', path: [field, k], params: { atKey: true }, message: UID_MESSAGE });
        else if (field === 'replace' && set.includes(k))
          ctx.addIssue({
            code: 'custom',
            path: [field, k],
            params: { atKey: true },
            message: 'is also in set: an element is either set or replaced by one rule',
          });
      }
  });

/** Section `transform`: element changes applied between retrieve and store (by src/transform). */
export const transformSchema = (ctx: PlanContext) =>
  z
    .strictObject({
      /** Patient correction tables. */
      corrections: opt(z.array(correctionSchema(ctx)).prefault([]), {
        rule: 'a list of tables, each { id, csv, match, set }',
        what: 'Patient correction tables (merges, RIS/HIS reconciliation), applied first, in order.',
        example: [
          {
            id: 'ris-reconciliation',
            csv: 'corrections/ris-reconciliation.csv',
            match: { PatientID: 'old_patient_id' },
            set: { PatientID: 'new_patient_id', PatientName: 'new_patient_name' },
          },
        ],
        why: 'Demographics that disagree with the RIS/HIS are corrected on the way, with an audit trail, instead of in the new PACS by hand.',
      }),
      /** Element rules. */
      rules: opt(z.array(transformRuleSchema).prefault([]), {
        rule: 'a list of rules, each { id, when, set and/or replace }',
        what: 'Rules that set or rewrite named elements, applied after the corrections. Unlike scope rules, EVERY matching rule applies, in order.',
        example: [
          {
            id: 'rename-institution',
            when: { institutionName: 'St Elsewhere*' },
            set: { InstitutionName: 'Elsewhere General Hospital' },
          },
        ],
        why: 'Changes compose (e.g. one rule per element); order is the tie-breaker when two rules touch the same element.',
      }),
    })
    .superRefine((t, ctx2) => {
      const seen = new Set<string>();
      const check = (id: string, path: PropertyKey[]) => {
        if (seen.has(id))
          ctx2.addIssue({
            code: 'custom',
            path,
            message: 'is a duplicate id: correction and rule ids must be unique',
          });
        seen.add(id);
      };
      t.corrections.forEach((c, i) => check(c.id, ['corrections', i, 'id']));
      t.rules.forEach((r, i) => check(r.id, ['rules', i, 'id']));
    });
