/**
 * The plan file: one YAML document describing a whole migration. This module assembles the sections,
 * checks what spans sections, and fills the defaults that depend on other options (our AE title, the
 * plan's name and folder). Each option is documented where it is defined (schema-*.ts).
 */
import { resolve } from 'node:path';
import * as z from 'zod';
import { opt, unwrap, withRule } from './doc.js';
import { ident, text, type PlanContext } from './primitives.js';
import { localSchema, section, sourceSchema, targetSchema } from './schema-peers.js';
import {
  privacySchema,
  reportSchema,
  spoolSchema,
  stateSchema,
  transferSchema,
  verifySchema,
} from './schema-run.js';
import { scopeSchema, transformSchema } from './schema-scope.js';

/** The plan format version this code reads. */
export const PLAN_VERSION = 1;

/** Root object (input side), before the cross-section checks and derived defaults. */
const rootObject = (ctx: PlanContext) =>
  z.strictObject({
    /** Plan name. */
    name: opt(ident('pacs-migration'), {
      what: 'Name of the migration; also names the default state database, spool and report folder beside the plan.',
      example: 'oldpacs-to-newpacs',
      why: 'One server often runs a rehearsal and the real migration side by side: the name keeps their files apart.',
    }),
    /** Plan format version. */
    version: opt(withRule(z.literal(PLAN_VERSION), `${PLAN_VERSION} (the plan format this pacshift reads)`), {
      what: 'Version of the plan format.',
      example: PLAN_VERSION,
      why: 'A future pacshift that changes the format can recognise and convert old plans instead of misreading them.',
    }),
    /** Free text. */
    description: opt(text().optional(), {
      what: 'What this migration is, for whom, and who owns it; printed at the top of the report.',
      example: 'Radiology archive of St Elsewhere (2008–2026) to the regional PACS. Owner: PACS team.',
      why: 'The report is read by people who never saw the plan.',
    }),
    local: opt(section(localSchema(ctx)), {
      what: 'Us on the network: our AE title and the listener that receives C-MOVE sub-operations and storage-commitment reports.',
      why: 'The source must know us as a C-MOVE destination (AE title, host, port) before the first retrieve.',
    }),
    source: opt(sourceSchema(ctx), {
      what: 'The archive the studies come from. type: dimse (a DICOM archive over the network) or folder (DICOM files).',
      example: { type: 'dimse', host: 'pacs-old.hospital.local', port: 104, calledAe: 'OLDPACS' },
      rule: 'a mapping with type: dimse or folder',
      why: 'Inventory and retrieval talk to it; it stays in clinical use, so pacshift keeps its load bounded.',
    }),
    target: opt(targetSchema(ctx), {
      what: 'The archive the studies go to. type: dimse (a DICOM archive over the network) or folder.',
      example: { type: 'dimse', host: 'pacs-new.hospital.local', port: 104, calledAe: 'NEWPACS' },
      rule: 'a mapping with type: dimse or folder',
      why: 'Stores go to it, and verification queries it: what it answers, not what it acknowledged, decides "done".',
    }),
    state: opt(section(stateSchema(ctx)), {
      what: 'Where pacshift keeps its state: sqlite (a file, the default) or postgres (a URL).',
      why: 'Every study and instance has a recorded state, so a run can be stopped, resumed and reported on at any time.',
    }),
    spool: opt(section(spoolSchema(ctx)), {
      what: 'Local buffer between retrieve and store.',
      why: 'Retrieve and store run at their own pace; the spool bounds the disk this takes.',
    }),
    scope: opt(section(scopeSchema), {
      what: 'Which studies are migrated: ordered include/exclude rules (first match wins), then retention policies.',
      why: 'What is not migrated is a decision (legal, policy, cost), recorded per study with the rule that made it.',
    }),
    transform: opt(section(transformSchema(ctx)), {
      what: 'Changes to named elements on the way (patient corrections, rules); every other byte is kept.',
      why: 'Demographics disagree with the RIS/HIS in every old archive; fixing them during the move is cheapest.',
    }),
    transfer: opt(section(transferSchema(ctx)), {
      what: 'How fast, when and in which order studies move; what happens on failure.',
      why: 'The source is in clinical use for the whole migration; failures are normal and must cost little.',
    }),
    verify: opt(section(verifySchema), {
      what: 'How the target is checked: presence of every instance, and a deep comparison on a sample.',
      why: 'A C-MOVE or C-STORE "Success" does not mean the data arrived; the definition of done is what the target answers.',
    }),
    report: opt(section(reportSchema(ctx)), {
      what: 'Reports: ledger of every study (migrated, excluded with its rule, failed with its cause).',
      why: 'The report is the definition of done, and the answer to "what happened to this study?".',
    }),
    privacy: opt(section(privacySchema), {
      what: 'Patient data in logs.',
      why: 'Logs are copied to places patient data must not go.',
    }),
  });

type RootInput = z.output<ReturnType<typeof rootObject>>;

/** An http:// URL with credentials to send: `auth`, or a user name in the URL itself. */
export function plainHttpCredentials(url: string, auth: unknown): boolean {
  if (!/^http:\/\//i.test(url)) return false;
  if (auth) return true;
  try {
    return new URL(url).username !== '';
  } catch {
    return false;
  }
}

/** Checks that span sections. Messages name both options involved. */
function crossChecks(p: RootInput, ctx: z.core.$RefinementCtx<RootInput>): void {
  const src = p.source;
  const tgt = p.target;
  if (src.type === 'dimse' && src.retrieve === 'c-get' && src.moveDestination !== undefined)
    ctx.addIssue({
      code: 'custom',
      path: ['source', 'moveDestination'],
      message: 'is only used with retrieve: c-move: remove it, or set retrieve: c-move',
    });

  if (tgt.type === 'dicomweb' && !tgt.allowPlainHttpCredentials && plainHttpCredentials(tgt.url, tgt.auth))
    ctx.addIssue({
      code: 'custom',
      path: [...(tgt.auth ? ['target', 'auth'] : ['target', 'url'])],
      message:
        'would send credentials over plain http:// (readable by anyone on the network): use an https:// URL, or, if the link is protected otherwise (loopback, VPN), set target.allowPlainHttpCredentials: true',
    });

  if (src.type === 'dimse' && src.retrieve === 'c-move' && p.local.allow?.length === 0)
    ctx.addIssue({
      code: 'custom',
      path: ['local', 'allow'],
      message:
        "is empty, so the source's C-MOVE sub-operations would be refused: list the source's AE title (e.g. [OLDPACS]) or remove allow to use the default",
    });

  const limits = {
    retrieve: src.type === 'dimse' ? { max: src.maxAssociations, by: 'source.maxAssociations' } : undefined,
    store: tgt.type === 'dimse' ? { max: tgt.maxAssociations, by: 'target.maxAssociations' } : undefined,
  };
  const checkConcurrency = (c: { retrieve?: number; store?: number } | undefined, path: PropertyKey[]) => {
    for (const k of ['retrieve', 'store'] as const) {
      const lim = limits[k];
      const v = c?.[k];
      if (lim && v !== undefined && v > lim.max)
        ctx.addIssue({
          code: 'custom',
          path: [...path, k],
          message: `must be at most ${lim.by} (${lim.max}): raise ${lim.by} if the archive allows more associations, e.g. ${k}: ${lim.max}`,
        });
    }
  };
  checkConcurrency(p.transfer.concurrency, ['transfer', 'concurrency']);
  p.transfer.windows.forEach((w, i) =>
    checkConcurrency(w.concurrency, ['transfer', 'windows', i, 'concurrency']),
  );

  if (
    src.type === 'dimse' &&
    tgt.type === 'dimse' &&
    src.host.toLowerCase() === tgt.host.toLowerCase() &&
    src.port === tgt.port &&
    src.calledAe === tgt.calledAe
  )
    ctx.addIssue({
      code: 'custom',
      path: ['target'],
      message: 'is the same archive as source (host, port and calledAe): check the target address',
    });
  if (src.type === 'folder' && tgt.type === 'folder' && src.path === tgt.path)
    ctx.addIssue({
      code: 'custom',
      path: ['target', 'path'],
      message: 'is the same folder as source.path: use another folder',
    });
}

/** Fill the defaults that depend on other options; normalise `state`. */
function finalize(p: RootInput, planDir: string) {
  const me = p.local.aeTitle;
  const source =
    p.source.type === 'dimse'
      ? {
          ...p.source,
          callingAe: p.source.callingAe ?? me,
          moveDestination: p.source.retrieve === 'c-move' ? (p.source.moveDestination ?? me) : undefined,
        }
      : p.source;
  const target = p.target.type === 'dimse' ? { ...p.target, callingAe: p.target.callingAe ?? me } : p.target;
  const allow =
    p.local.allow ??
    [p.source, p.target].flatMap((peer) =>
      peer.type === 'dimse' ? [{ aeTitle: peer.calledAe, host: peer.host }] : [],
    );
  const state: { type: 'sqlite'; path: string } | { type: 'postgres'; url: string } =
    p.state.postgres !== undefined
      ? { type: 'postgres', url: p.state.postgres }
      : { type: 'sqlite', path: p.state.sqlite ?? resolve(planDir, `${p.name}.sqlite`) };
  return {
    ...p,
    local: { ...p.local, allow },
    source,
    target,
    state,
    spool: { ...p.spool, dir: p.spool.dir ?? resolve(planDir, `${p.name}.spool`) },
    report: { ...p.report, dir: p.report.dir ?? resolve(planDir, `${p.name}-report`) },
    transfer: {
      ...p.transfer,
      concurrency: {
        retrieve:
          p.transfer.concurrency.retrieve ?? (p.source.type === 'dimse' ? p.source.maxAssociations : 2),
        store: p.transfer.concurrency.store ?? (p.target.type === 'dimse' ? p.target.maxAssociations : 2),
      },
    },
  };
}

/**
 * The plan schema for a plan file in `ctx.planDir`. Input: the YAML document as plain data. Output: a
 * `Plan` with every default applied, durations in milliseconds, sizes in bytes, dates as "YYYYMMDD",
 * times of day as minutes since midnight, paths absolute and patterns compiled.
 */
export const planSchema = (ctx: PlanContext) =>
  rootObject(ctx)
    .superRefine(crossChecks)
    .transform((p) => finalize(p, ctx.planDir));

/** The schema used for documentation and types (paths resolve against the current directory). */
export const PlanSchema = planSchema({ planDir: '.' });

/**
 * JSON Schema (draft 2020-12) of the plan as written, with every option's description: for editors
 * (e.g. yaml-language-server's `# yaml-language-server: $schema=<file>` comment). Value syntaxes that
 * JSON Schema cannot express (durations, sizes, patterns) are checked by pacshift only.
 */
export function planJsonSchema(): Record<string, unknown> {
  const root = unwrap(PlanSchema) as z.ZodType;
  return z.toJSONSchema(root, { io: 'input', unrepresentable: 'any', target: 'draft-2020-12' }) as Record<
    string,
    unknown
  >;
}

/** A validated plan with every default applied. See `planSchema` for the units of each value. */
export type Plan = z.output<typeof PlanSchema>;
/** The plan as written in YAML. */
export type PlanInput = z.input<typeof PlanSchema>;

export type LocalPlan = Plan['local'];
export type SourcePlan = Plan['source'];
export type DimseSourcePlan = Extract<SourcePlan, { type: 'dimse' }>;
export type TargetPlan = Plan['target'];
export type DimseTargetPlan = Extract<TargetPlan, { type: 'dimse' }>;
export type StatePlan = Plan['state'];
export type SpoolPlan = Plan['spool'];
export type ScopePlan = Plan['scope'];
export type ScopeRule = ScopePlan['rules'][number];
export type RetentionPolicy = ScopePlan['retention'][number];
export type TransformPlan = Plan['transform'];
export type CorrectionTable = TransformPlan['corrections'][number];
export type TransformRule = TransformPlan['rules'][number];
export type TransferPlan = Plan['transfer'];
export type TransferWindow = TransferPlan['windows'][number];
export type VerifyPlan = Plan['verify'];
export type ReportPlan = Plan['report'];
export type PrivacyPlan = Plan['privacy'];
