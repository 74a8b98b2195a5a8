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
 * What the move check does NOT prove: that the source can open a connection to our host and port
 * (its entry may hold a wrong address, a firewall may drop it), nor that it checks destinations
 * before matching (an archive may answer 0000 with no sub-operations without looking the title up).
 * DICOM has no way to have the source call us without moving data; the first real C-MOVE proves it.
 */
import { randomBytes } from 'node:crypto';
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
