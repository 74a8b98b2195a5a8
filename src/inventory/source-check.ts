/**
 * Checks of a source (and target) archive that change nothing, for `pacshift check`:
 *
 * | check           | request                                         | what a pass proves                                                                     |
 * | --------------- | ----------------------------------------------- | -------------------------------------------------------------------------------------- |
 * | echo            | C-ECHO                                          | the archive accepts an association from our calling AE title                           |
 * | find            | study-level C-FIND of a UID that cannot exist   | Study Root C-FIND is accepted and answered with a final status                         |
 * | move-destination| C-MOVE of a UID that cannot exist, to our AE    | the source knows our AE title as a move destination (A801 = it does not: configuration)|
 * | get             | C-GET of a UID that cannot exist                | Study Root C-GET is accepted                                                           |
 *
 * | move-round-trip | C-MOVE of ONE real instance (the first the source lists) to our     | the whole path works: the source knows our AE title, holds our right address and port, its  |
 * | (opt-in)        | listener, started for the check on local.port; the data is discarded | connection gets through, our listener accepts it                                            |
 *
 * What the move-destination check does NOT prove: that the source can open a connection to our host
 * and port (its entry may hold a wrong address, a firewall may drop it), nor even that the title is
 * known: measured, dcmqrscp 3.6.7 answers 0000 for an unknown destination when nothing matches, and
 * Orthanc 1.10 answers C000 for any C-MOVE (and C-GET) of a UID it does not hold, before looking the
 * destination up (inconclusive: warn). Only archives that check the destination first (the built-in
 * archive, dcm4chee) answer A801. DICOM has no way to have the source call us without moving data:
 * the round trip moves one instance (read load on the source, nothing stored).
 */
import { randomBytes } from 'node:crypto';
import type { AllowedPeer } from '../net/association/server.js';
import type { DimseChannel } from '../net/dimse/channel.js';
import { startScp, storageAcceptPolicy } from '../net/services/scp.js';
import type { StoreTarget } from '../net/services/store-target.js';
import type { TlsSettings } from '../net/transport/tls-options.js';
import { valueOf } from './keys.js';
import { hex, lookupStatus } from '../net/dimse/status.js';
import { describeFailure } from '../net/errors.js';
import { type Peer, describePeer, openChannel } from '../net/peer.js';
import { cEcho } from '../net/services/echo.js';
import { cFind } from '../net/services/find-scu.js';
import { buildIdentifier } from '../net/services/identifier.js';
import { cGetOn, cMove, getProposals } from '../net/services/retrieve-scu.js';
import { QR, type QueryModel, UNCOMPRESSED_LE, VERIFICATION } from '../net/services/sop-classes.js';

export type CheckOutcome = 'pass' | 'fail' | 'warn';

export interface SourceCheck {
  readonly name: string;
  readonly outcome: CheckOutcome;
  /** What was found, in words (AE titles, statuses: no patient data). */
  readonly detail: string;
  /** The peer could not be reached at all (no association). */
  readonly unreachable?: boolean;
  readonly status?: string;
  readonly ms: number;
}

/** A UID no archive holds: 2.25 and 128 random bits (PS3.5 B.2). */
export function unusedUid(): string {
  return `2.25.${BigInt(`0x${randomBytes(16).toString('hex')}`).toString()}`;
}

const SECONDARY_CAPTURE = '1.2.840.10008.5.1.4.1.1.7';

async function timed(name: string, f: () => Promise<Omit<SourceCheck, 'name' | 'ms'>>): Promise<SourceCheck> {
  const t0 = performance.now();
  const r = await f();
  return { name, ...r, ms: Math.round(performance.now() - t0) };
}

export function checkEcho(peer: Peer, name = 'echo'): Promise<SourceCheck> {
  return timed(name, async () => {
    const ch = await openChannel(peer, [{ abstractSyntax: VERIFICATION, transferSyntaxes: UNCOMPRESSED_LE }]);
    if (!ch.ok)
      return {
        outcome: 'fail',
        unreachable: true,
        detail: `${describePeer(peer)}: ${describeFailure(ch.error)}`,
      };
    const r = await cEcho(ch.value, peer.dimseTimeoutMs);
    await ch.value.assoc.release();
    if (!r.ok) return { outcome: 'fail', detail: `${describePeer(peer)}: ${describeFailure(r.error)}` };
    const status = `0x${hex(r.value.status)}`;
    return r.value.status === 0
      ? { outcome: 'pass', status, detail: `${describePeer(peer)} answered C-ECHO` }
      : { outcome: 'fail', status, detail: `${describePeer(peer)} answered C-ECHO with ${status}` };
  });
}

export function checkFind(peer: Peer, model: QueryModel): Promise<SourceCheck> {
  return timed('find', async () => {
    const ch = await openChannel(peer, [
      { abstractSyntax: QR[model].find, transferSyntaxes: UNCOMPRESSED_LE },
    ]);
    if (!ch.ok) return { outcome: 'fail', unreachable: true, detail: describeFailure(ch.error) };
    const keys: Record<string, string> = { StudyInstanceUID: unusedUid(), StudyDate: '' };
    if (model === 'patient') keys.PatientID = 'PACSHIFT-CHECK';
    const q = cFind(ch.value, buildIdentifier('STUDY', keys), { model, timeoutMs: peer.dimseTimeoutMs });
    for await (const _ of q.matches) void _;
    const r = await q.done;
    await ch.value.assoc.release();
    if (!r.ok) return { outcome: 'fail', detail: `C-FIND: ${describeFailure(r.error)}` };
    const status = `0x${hex(r.value.status)}`;
    if (r.value.status !== 0)
      return { outcome: 'fail', status, detail: `C-FIND answered ${status} (${r.value.entry.meaning})` };
    return {
      outcome: 'pass',
      status,
      detail: `${model === 'study' ? 'Study' : 'Patient'} Root C-FIND answered (${r.value.matches} matches for a UID that does not exist)`,
    };
  });
}

export function checkMoveDestination(
  peer: Peer,
  model: QueryModel,
  destination: string,
): Promise<SourceCheck> {
  return timed('move-destination', async () => {
    const ch = await openChannel(peer, [
      { abstractSyntax: QR[model].move, transferSyntaxes: UNCOMPRESSED_LE },
    ]);
    if (!ch.ok) return { outcome: 'fail', unreachable: true, detail: describeFailure(ch.error) };
    const keys: Record<string, string> = { StudyInstanceUID: unusedUid() };
    if (model === 'patient') keys.PatientID = 'PACSHIFT-CHECK';
    const r = await cMove(ch.value, buildIdentifier('STUDY', keys), destination, {
      model,
      timeoutMs: peer.dimseTimeoutMs,
    });
    if (!ch.value.ended) await ch.value.assoc.release();
    if (!r.ok) return { outcome: 'fail', detail: `C-MOVE: ${describeFailure(r.error)}` };
    const s = r.value.status;
    const status = `0x${hex(s)}`;
    const c = r.value.counts;
    if (s === 0xa801)
      return {
        outcome: 'fail',
        status,
        detail: `the source does not know ${destination} as a move destination (A801): register this AE title with this machine's address and local.port in the source's configuration`,
      };
    const moved = (c.completed ?? 0) + (c.failed ?? 0) + (c.warning ?? 0);
    if ((s === 0 || s === 0xb000) && moved === 0)
      return {
        outcome: 'pass',
        status,
        detail: `C-MOVE to ${destination} accepted (${status}, no sub-operations): the source knows the title, or does not look it up when nothing matches; whether it can reach our listener is proven by the first real move`,
      };
    const entry = lookupStatus('C-MOVE', s);
    return {
      outcome: 'warn',
      status,
      detail: `C-MOVE of a UID that does not exist answered ${status} (${entry.meaning}): inconclusive`,
    };
  });
}

export function checkGet(peer: Peer, model: QueryModel): Promise<SourceCheck> {
  return timed('get', async () => {
    const ch = await openChannel(
      peer,
      getProposals(model, [{ sopClassUid: SECONDARY_CAPTURE, transferSyntaxes: UNCOMPRESSED_LE }]),
    );
    if (!ch.ok) return { outcome: 'fail', unreachable: true, detail: describeFailure(ch.error) };
    const keys: Record<string, string> = { StudyInstanceUID: unusedUid() };
    if (model === 'patient') keys.PatientID = 'PACSHIFT-CHECK';
    const r = await cGetOn(ch.value, buildIdentifier('STUDY', keys), {
      model,
      timeoutMs: peer.dimseTimeoutMs,
    });
    if (!ch.value.ended) await ch.value.assoc.release();
    if (!r.ok) return { outcome: 'fail', detail: `C-GET: ${describeFailure(r.error)}` };
    const status = `0x${hex(r.value.status)}`;
    if (r.value.status === 0 || r.value.status === 0xb000)
      return { outcome: 'pass', status, detail: `C-GET accepted (${status})` };
    return {
      outcome: 'fail',
      status,
      detail: `C-GET answered ${status} (${lookupStatus('C-GET', r.value.status).meaning})`,
    };
  });
}

/** The checks of a DIMSE source: echo, find, and move-destination or get. */
export async function checkSource(
  peer: Peer,
  opts: { model: QueryModel; retrieve: 'c-move' | 'c-get'; moveDestination?: string },
): Promise<SourceCheck[]> {
  const echo = await checkEcho(peer);
  if (echo.unreachable) return [echo];
  const out = [echo, await checkFind(peer, opts.model)];
  out.push(
    opts.retrieve === 'c-move'
      ? await checkMoveDestination(peer, opts.model, opts.moveDestination ?? peer.callingAeTitle)
      : await checkGet(peer, opts.model),
  );
  return out;
}

/** Our listener for the round trip: where the source sends the instance. */
export interface ListenerSettings {
  readonly aeTitle: string;
  readonly host: string;
  readonly port: number;
  readonly allow?: AllowedPeer[];
  readonly tls?: TlsSettings;
}

/** The first UID a query at `level` answers (the query is cancelled after it). */
async function firstUid(
  ch: DimseChannel,
  model: QueryModel,
  level: 'STUDY' | 'SERIES' | 'IMAGE',
  keys: Record<string, string>,
  uidKey: string,
  timeoutMs?: number,
) {
  const q = cFind(ch, buildIdentifier(level, { ...keys, [uidKey]: '' }), { model, timeoutMs });
  let uid: string | undefined;
  for await (const m of q.matches) {
    const v = valueOf(m, uidKey);
    if (v && !uid) {
      uid = v;
      q.cancel();
    }
  }
  const r = await q.done;
  return r.ok || uid ? { ok: true as const, uid } : { ok: false as const, error: describeFailure(r.error) };
}

/** A store target that keeps nothing: it only notes which SOP Instance UIDs arrived, and from whom. */
function discardTarget(arrived: { sop: string; from: string }[]): StoreTarget {
  return {
    open: (req) => ({
      write: () => undefined,
      abort: () => undefined,
      end: async () => {
        arrived.push({ sop: req.sopInstanceUid, from: req.callingAeTitle });
        return {
          ok: true,
          instance: {
            path: '',
            sopClassUid: req.sopClassUid,
            sopInstanceUid: req.sopInstanceUid,
            transferSyntaxUid: req.transferSyntaxUid,
            callingAeTitle: req.callingAeTitle,
            datasetLength: 0,
          },
        };
      },
    }),
  };
}

/**
 * Moves one real instance to our listener (started for the check) and waits for it: the only proof
 * that C-MOVE works end to end. `waitMs`: how long to wait for the instance after the final response.
 */
export function checkMoveRoundTrip(
  peer: Peer,
  opts: { model: QueryModel; destination: string; listen: ListenerSettings; waitMs?: number },
): Promise<SourceCheck> {
  return timed('move-round-trip', async () => {
    const model = opts.model;
    const ch = await openChannel(peer, [
      { abstractSyntax: QR[model].find, transferSyntaxes: UNCOMPRESSED_LE },
      { abstractSyntax: QR[model].move, transferSyntaxes: UNCOMPRESSED_LE },
    ]);
    if (!ch.ok) return { outcome: 'fail', unreachable: true, detail: describeFailure(ch.error) };
    const c = ch.value;
    try {
      if (model === 'patient')
        return { outcome: 'warn', detail: 'the round trip is only implemented for the Study Root model' };
      const study = await firstUid(c, model, 'STUDY', {}, 'StudyInstanceUID', peer.dimseTimeoutMs);
      if (!study.ok) return { outcome: 'fail', detail: `C-FIND: ${study.error}` };
      if (!study.uid) return { outcome: 'warn', detail: 'the source lists no study: nothing to move' };
      const series = await firstUid(
        c,
        model,
        'SERIES',
        { StudyInstanceUID: study.uid },
        'SeriesInstanceUID',
        peer.dimseTimeoutMs,
      );
      if (!series.ok || !series.uid) return { outcome: 'warn', detail: `study ${study.uid} lists no series` };
      const keys = { StudyInstanceUID: study.uid, SeriesInstanceUID: series.uid };
      const image = await firstUid(c, model, 'IMAGE', keys, 'SOPInstanceUID', peer.dimseTimeoutMs);
      if (!image.ok || !image.uid)
        return { outcome: 'warn', detail: `series ${series.uid} lists no instance` };

      const arrived: { sop: string; from: string }[] = [];
      const refused: string[] = [];
      let server;
      try {
        server = await startScp({
          aeTitle: opts.listen.aeTitle,
          host: opts.listen.host,
          port: opts.listen.port,
          allow: opts.listen.allow,
          tls: opts.listen.tls,
          policy: storageAcceptPolicy(),
          handlers: { store: discardTarget(arrived) },
          onRefused: (why) => refused.push(why),
        });
      } catch (e) {
        return {
          outcome: 'fail',
          detail: `our listener cannot start on ${opts.listen.host}:${opts.listen.port}: ${(e as Error).message}`,
        };
      }
      try {
        const r = await cMove(
          c,
          buildIdentifier('IMAGE', { ...keys, SOPInstanceUID: image.uid }),
          opts.destination,
          { model, timeoutMs: peer.dimseTimeoutMs },
        );
        // A final response saying the one sub-operation failed: nothing is on its way.
        const failedForSure = r.ok && r.value.counts.failed === 1 && (r.value.counts.completed ?? 0) === 0;
        const deadline = Date.now() + (failedForSure ? 0 : (opts.waitMs ?? 5000));
        while (!arrived.some((a) => a.sop === image.uid) && Date.now() < deadline)
          await new Promise((res) => setTimeout(res, 50));
        const got = arrived.find((a) => a.sop === image.uid);
        const status = r.ok ? `0x${hex(r.value.status)}` : undefined;
        if (got)
          return {
            outcome: 'pass',
            ...(status ? { status } : {}),
            detail: `instance ${image.uid} arrived at ${opts.listen.aeTitle} (${opts.listen.host}:${opts.listen.port}) from ${got.from}: C-MOVE works end to end (nothing was stored)`,
          };
        if (!r.ok) return { outcome: 'fail', detail: `C-MOVE: ${describeFailure(r.error)}` };
        if (r.value.status === 0xa801)
          return {
            outcome: 'fail',
            status,
            detail: `the source does not know ${opts.destination} as a move destination (A801): register it with this machine's address and local.port`,
          };
        const why = refused.length > 0 ? `; our listener refused an association: ${refused[0]}` : '';
        return {
          outcome: 'fail',
          status,
          detail: `C-MOVE of instance ${image.uid} answered ${status} (completed ${r.value.counts.completed ?? '?'}, failed ${r.value.counts.failed ?? '?'}) but nothing arrived${failedForSure ? '' : ` within ${(opts.waitMs ?? 5000) / 1000} s`}${why}: check the host and port the source holds for ${opts.destination}, and firewalls`,
        };
      } finally {
        await server.close();
      }
    } finally {
      if (!c.ended) await c.assoc.release();
    }
  });
}
