/**
 * Targets that refuse some objects. The source is a built-in archive serving a chosen part of the
 * corpus (copied into a temp folder); `pacshift migrate` runs as a child process. Which instance the
 * target will refuse is predicted from the file itself (SOP class, transfer syntax): each predicted
 * refusal must be in the quarantine with its status and cause (and absent from the target), its study
 * failed in the ledger with that status; every other instance verified and at the target once.
 *
 * Files without a StudyInstanceUID are left out: Query/Retrieve cannot reach them (see the report).
 *
 * - the built-in archive with refuseSopClasses (C-STORE answered 0122) and acceptTransferSyntaxes
 *   (no presentation context for other syntaxes);
 * - Orthanc 1.10 with AcceptedTransferSyntaxes (little endian only) and UnknownSopClassAccepted: false.
 */
import { copyFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startArchive, type Archive } from '../../src/archive/archive.js';
import { readInstanceInfo } from '../../src/dicom/part10.js';
import { openMigration } from '../../src/run/context.js';
import { hasCorpus } from '../../src/util/corpus.js';
import {
  accountFor,
  allLedger,
  folderHoldings,
  orthancHoldings,
  stateContradictions,
  type Holdings,
} from '../harness/accounting.js';
import { manifest, wellFormedUncompressed, type ManifestRow } from '../harness/corpus.js';
import { e2eDir, runMigrate, writePlan } from '../harness/migration.js';
import { startOrthanc, type Orthanc } from '../harness/orthanc.js';
import { freePort } from '../harness/ports.js';
import { acceptedSopClasses } from '../harness/probe.js';
import { peers } from '../harness/process.js';

const EXPLICIT_LE = '1.2.840.10008.1.2.1';
const IMPLICIT_LE = '1.2.840.10008.1.2';
const SECONDARY_CAPTURE = '1.2.840.10008.5.1.4.1.1.7';
const ENCAPSULATED_PDF = '1.2.840.10008.5.1.4.1.1.104.1';

interface SourceFile {
  path: string;
  sopInstanceUid: string;
  sopClassUid: string;
  transferSyntaxUid: string;
}

/** Copies rows into `dir`, one file per SOP Instance UID; returns what each holds. */
async function sourceFolder(dir: string, rows: readonly ManifestRow[]): Promise<SourceFile[]> {
  mkdirSync(dir, { recursive: true });
  const out: SourceFile[] = [];
  const seen = new Set<string>();
  for (const [i, r] of rows.entries()) {
    if (r.studyInstanceUid === '') continue;
    const info = await readInstanceInfo(r.absPath);
    if (!info.ok || seen.has(info.value.sopInstanceUid)) continue;
    seen.add(info.value.sopInstanceUid);
    const path = join(dir, `${String(i).padStart(4, '0')}.dcm`);
    copyFileSync(r.absPath, path);
    out.push({
      path,
      sopInstanceUid: info.value.sopInstanceUid,
      sopClassUid: info.value.sopClassUid,
      transferSyntaxUid: info.value.transferSyntaxUid,
    });
  }
  return out;
}

interface Predicted {
  status: number;
  category: string;
}

/** Runs migrate and checks every served instance against the prediction. */
async function migrateAndCheck(
  dir: string,
  planPath: string,
  served: readonly SourceFile[],
  predict: (f: SourceFile) => Predicted | undefined,
  holdings: () => Promise<Holdings>,
): Promise<{ refused: number; verified: number }> {
  const run = await runMigrate(planPath, [], { logFile: join(dir, 'migrate.log'), timeoutMs: 600_000 });
  const ctx = await openMigration(planPath);
  try {
    const target = await holdings();
    const acc = await accountFor(
      ctx.store,
      served.map((f) => f.sopInstanceUid),
      target,
    );
    const quarantine = new Map((await ctx.store.listQuarantine()).map((q) => [q.sopInstanceUid, q]));
    const ledger = new Map((await allLedger(ctx.store)).map((r) => [r.studyUid, r]));
    const expectedRefused = served.filter((f) => predict(f) !== undefined);
    console.log(
      JSON.stringify({
        served: served.length,
        predictedRefusals: expectedRefused.length,
        verified: acc.verified.length,
        withCause: acc.withCause.length,
        unaccounted: acc.unaccounted.length,
        exit: run.code,
        seconds: run.seconds,
      }),
    );
    const wrong: unknown[] = [];
    for (const f of served) {
      const p = predict(f);
      const q = quarantine.get(f.sopInstanceUid);
      if (p) {
        const inst = await ctx.store.getInstance(f.sopInstanceUid);
        const row = inst ? ledger.get(inst.studyUid) : undefined;
        const ok =
          q !== undefined &&
          q.status === p.status &&
          q.category === p.category &&
          (q.cause ?? '').length > 0 &&
          (target.get(f.sopInstanceUid) ?? 0) === 0 &&
          row?.status === 'failed' &&
          row.errorCode !== null;
        if (!ok)
          wrong.push({
            uid: f.sopInstanceUid,
            ts: f.transferSyntaxUid,
            cls: f.sopClassUid,
            predicted: p,
            quarantine: q,
            ledger: row && { status: row.status, code: row.errorCode },
          });
      } else if (!acc.verified.includes(f.sopInstanceUid)) {
        wrong.push({
          uid: f.sopInstanceUid,
          ts: f.transferSyntaxUid,
          cls: f.sopClassUid,
          expected: 'verified',
          quarantine: q,
          cause: acc.withCause.find((w) => w.sopInstanceUid === f.sopInstanceUid),
        });
      }
    }
    if (wrong.length) console.log(run.log.slice(-3000));
    expect(wrong).toEqual([]);
    expect(acc.unaccounted).toEqual([]);
    expect(acc.verifiedButWrong).toEqual([]);
    const problems = await stateContradictions(
      ctx.store,
      target,
      { incoming: join(ctx.plan.spool.dir, 'incoming'), quarantine: join(ctx.plan.spool.dir, 'quarantine') },
      { finished: true },
    );
    expect(problems).toEqual([]);
    return { refused: expectedRefused.length, verified: acc.verified.length };
  } finally {
    await ctx.close();
  }
}

describe.skipIf(!hasCorpus())('migrate into targets that refuse some objects', () => {
  let work: ReturnType<typeof e2eDir> | undefined;
  let source: Archive | undefined;
  let target: Archive | undefined;
  let orthanc: Orthanc | undefined;

  afterEach(async () => {
    await source?.close();
    await target?.close();
    await orthanc?.stop();
    work?.remove();
    source = target = orthanc = work = undefined;
  });

  async function startSource(
    dir: string,
    rows: readonly ManifestRow[],
    localPort: number,
  ): Promise<SourceFile[]> {
    const files = await sourceFolder(join(dir, 'source'), rows);
    source = await startArchive({
      dir: join(dir, 'source'),
      port: 0,
      host: '127.0.0.1',
      aeTitle: 'OLDPACS',
      peers: { PACSHIFT: { host: '127.0.0.1', port: localPort } },
    });
    const unserved = new Set(source.problems().map((p) => p.path));
    return files.filter((f) => !unserved.has(f.path));
  }

  it('built-in archive refusing Secondary Capture and Encapsulated PDF (0122) and every syntax but explicit VR little endian (no presentation context)', async () => {
    work = e2eDir('e2e-refuse');
    const localPort = await freePort();
    const served = await startSource(work.dir, wellFormedUncompressed(), localPort);
    target = await startArchive({
      dir: join(work.dir, 'target'),
      port: 0,
      host: '127.0.0.1',
      aeTitle: 'NEWPACS',
      refuseSopClasses: [SECONDARY_CAPTURE, ENCAPSULATED_PDF],
      acceptTransferSyntaxes: [EXPLICIT_LE],
    });
    const planPath = writePlan({
      dir: work.dir,
      local: { port: localPort },
      source: { host: '127.0.0.1', port: source!.port, calledAe: 'OLDPACS' },
      target: { host: '127.0.0.1', port: target.port, calledAe: 'NEWPACS' },
      extra: {
        transfer: { quietPeriod: '1s' },
        verify: { sample: { percent: 100, minStudies: 0, seed: 1 } },
      },
    });
    const storeDir = target.storeDir;
    const r = await migrateAndCheck(
      work.dir,
      planPath,
      served,
      (f) =>
        f.transferSyntaxUid !== EXPLICIT_LE
          ? { status: 0x0122, category: 'no-presentation-context' }
          : f.sopClassUid === SECONDARY_CAPTURE || f.sopClassUid === ENCAPSULATED_PDF
            ? { status: 0x0122, category: 'sop-class-not-supported' }
            : undefined,
      () => folderHoldings(storeDir),
    );
    expect(r.refused).toBeGreaterThan(10);
    expect(r.verified).toBeGreaterThan(50);
  }, 600_000);

  it.skipIf(!peers.orthanc)(
    'Orthanc accepting little endian only, and no SOP class unknown to it',
    async () => {
      work = e2eDir('e2e-refuse-orthanc');
      const localPort = await freePort();
      const compressed = manifest().filter(
        (r) =>
          r.path.startsWith('dicomParser/encapsulated/multi-frame/') ||
          r.path.startsWith('dcm_qa/dcm_qa_ts/'),
      );
      const unknownClass = manifest().filter(
        (r) => r.sopClass.startsWith('unknown/private') && r.transferSyntax === 'Implicit VR Little Endian',
      );
      const served = await startSource(
        work.dir,
        [...wellFormedUncompressed(), ...compressed, ...unknownClass],
        localPort,
      );
      orthanc = await startOrthanc({
        aeTitle: 'NEWPACS',
        modalities: { pacshift: { aeTitle: 'PACSHIFT', host: '127.0.0.1', port: localPort } },
        config: { AcceptedTransferSyntaxes: [IMPLICIT_LE, EXPLICIT_LE], UnknownSopClassAccepted: false },
      });
      const planPath = writePlan({
        dir: work.dir,
        local: { port: localPort },
        source: { host: '127.0.0.1', port: source!.port, calledAe: 'OLDPACS' },
        target: { host: orthanc.host, port: orthanc.dicomPort, calledAe: 'NEWPACS' },
        extra: {
          transfer: { quietPeriod: '1s' },
          verify: { sample: { percent: 100, minStudies: 0, seed: 1 } },
        },
      });
      const o = orthanc;
      // Classes Orthanc does not know (private ones, and those newer than its DCMTK): asked by negotiation.
      const known = await acceptedSopClasses(
        { host: o.host, port: o.dicomPort, aeTitle: o.aeTitle },
        served.map((f) => f.sopClassUid),
      );
      const unknown = new Set(served.map((f) => f.sopClassUid).filter((c) => !known.has(c)));
      console.log(`SOP classes Orthanc refuses: ${[...unknown].join(', ')}`);
      expect(unknown.size).toBeGreaterThanOrEqual(2);
      const r = await migrateAndCheck(
        work.dir,
        planPath,
        served,
        (f) =>
          (f.transferSyntaxUid !== EXPLICIT_LE && f.transferSyntaxUid !== IMPLICIT_LE) ||
          unknown.has(f.sopClassUid)
            ? { status: 0x0122, category: 'no-presentation-context' }
            : undefined,
        () => orthancHoldings(o),
      );
      expect(r.refused).toBeGreaterThan(10);
      expect(r.verified).toBeGreaterThan(50);
    },
    600_000,
  );
});
